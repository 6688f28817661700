// Plays fMP4 through Media Source Extensions in headless Chromium, as an
// fMP4 HLS player does: for each case, the init section and then every
// fragment (frag-*.m4s in name order) are appended one at a time to a
// SourceBuffer of the given MIME type, and the result is played at 4× speed
// to its end. Prints one JSON line per case: whether Chromium supports the
// type, the errors seen, the buffered range and where playback got to.
//
// Usage: node mse.mjs '[{"dir": "...", "mime": "video/mp4; codecs=\"avc1.64000d,mp4a.40.2\""}, ...]'
import { chromium } from 'playwright-core';
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';

const cases = JSON.parse(process.argv[2]);
const lists = cases.map((c) => ['init.mp4', ...fs.readdirSync(c.dir).filter((n) => n.startsWith('frag-')).sort()]);

// A page on a real http origin, and each case's files under /<case>/<name>.
const server = http.createServer((req, res) => {
  const [, index, name] = req.url.split('/');
  const c = cases[Number(index)];
  if (c && lists[Number(index)].includes(name)) {
    res.writeHead(200, { 'content-type': 'video/mp4' });
    fs.createReadStream(path.join(c.dir, name)).pipe(res);
    return;
  }
  res.writeHead(200, { 'content-type': 'text/html' });
  res.end('<!doctype html><html><body><video id="v" muted playsinline></video></body></html>');
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--autoplay-policy=no-user-gesture-required'],
});
try {
  const page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${server.address().port}/`);
  for (const [index, c] of cases.entries()) {
    const result = await page.evaluate(async ({ index, mime, names }) => {
      const r = { supported: MediaSource.isTypeSupported(mime), errors: [], buffered: [], currentTime: 0 };
      if (!r.supported) return r;
      const v = document.getElementById('v');
      const ms = new MediaSource();
      v.src = URL.createObjectURL(ms);
      await new Promise((resolve) => ms.addEventListener('sourceopen', resolve, { once: true }));
      const sb = ms.addSourceBuffer(mime);
      sb.addEventListener('error', () => r.errors.push('SourceBuffer error'));
      v.addEventListener('error', () => r.errors.push('media error ' + v.error.code + ': ' + v.error.message));
      for (const name of names) {
        const data = await (await fetch(`/${index}/${name}`)).arrayBuffer();
        try {
          sb.appendBuffer(data);
          await new Promise((resolve) => sb.addEventListener('updateend', resolve, { once: true }));
        } catch (e) {
          r.errors.push(`append ${name}: ${e.message}`);
          return r;
        }
        if (v.error) return r;
      }
      for (let i = 0; i < sb.buffered.length; i++) r.buffered.push([sb.buffered.start(i), sb.buffered.end(i)]);
      ms.endOfStream();
      v.playbackRate = 4;
      const ended = new Promise((resolve) => { v.addEventListener('ended', resolve, { once: true }); v.addEventListener('error', resolve, { once: true }); });
      try {
        await v.play();
      } catch (e) {
        r.errors.push('play: ' + e.message);
        return r;
      }
      await Promise.race([ended, new Promise((resolve) => setTimeout(resolve, 15000))]);
      r.currentTime = v.currentTime;
      v.removeAttribute('src');
      v.load();
      return r;
    }, { index, mime: c.mime, names: lists[index] });
    process.stdout.write(JSON.stringify({ dir: c.dir, ...result }) + '\n');
  }
} finally {
  await browser.close();
  server.close();
}
