// Glass-to-glass latency of a live HLS stream as hls.js in low-latency mode
// sees it: headless Chromium plays the playlist and, once a second after
// playback started, samples Date.now() − hls.playingDate (the wall time of
// the frame on screen, from the playlist's EXT-X-PROGRAM-DATE-TIME, which
// the server takes from the ingest wall clock). It prints one JSON object:
// the median, p95 and max of the samples taken after the warm-up, the
// player's own latency estimate, how far currentTime advanced and any errors.
// The exit status is 1 when no sample could be taken.
//
// Usage (from the repository root, the npm packages installed):
//
//   node cmd/mediabench/glass.mjs '{"url": "http://127.0.0.1:28080/live/bench.m3u8", "seconds": 30, "warmup": 5}'
//
// "maxLiveSyncPlaybackRate" (default 1, hls.js's own default) lets the
// player speed up to reach its target latency. CHROMIUM overrides the
// browser (default /usr/bin/chromium).
import { chromium } from 'playwright-core';
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const opts = Object.assign({ seconds: 30, warmup: 5 }, JSON.parse(process.argv[2] || '{}'));
if (!opts.url) {
  process.stderr.write('usage: node glass.mjs \'{"url": "http://host:port/app/stream.m3u8", "seconds": 30, "warmup": 5}\'\n');
  process.exit(2);
}
const here = path.dirname(fileURLToPath(import.meta.url));
const hlsJS = path.resolve(here, '../../node_modules/hls.js/dist/hls.js');
const pageHTML = `<!doctype html><html><head><meta charset="utf-8"><script src="/hls.js"></script></head>
<body><video id="v" muted playsinline autoplay width="640" height="360"></video></body></html>`;

// The page comes from a real http origin: Media Source Extensions and CORS
// behave as on a site.
const server = http.createServer((req, res) => {
  if (req.url === '/hls.js') {
    res.writeHead(200, { 'content-type': 'text/javascript' });
    fs.createReadStream(hlsJS).pipe(res);
    return;
  }
  res.writeHead(200, { 'content-type': 'text/html' });
  res.end(pageHTML);
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--autoplay-policy=no-user-gesture-required'],
});
const result = {
  url: opts.url, seconds: opts.seconds, warmup: opts.warmup,
  maxLiveSyncPlaybackRate: opts.maxLiveSyncPlaybackRate || 1, errors: [],
};
try {
  const page = await browser.newPage();
  page.on('pageerror', (e) => result.errors.push('pageerror: ' + e.message));
  await page.goto(`http://127.0.0.1:${server.address().port}/`);
  await page.evaluate((o) => {
    const v = document.getElementById('v');
    window.__errors = [];
    window.__samples = []; // [seconds since playback started, glass-to-glass ms, hls.latency s]
    if (!Hls.isSupported()) { window.__errors.push('hls.js: MSE not supported'); return; }
    // maxLiveSyncPlaybackRate above 1 lets hls.js play slightly faster to
    // reach its target latency (PART-HOLD-BACK); its default, 1, keeps
    // whatever latency playback started with.
    const hls = new Hls({ lowLatencyMode: true, maxLiveSyncPlaybackRate: o.maxLiveSyncPlaybackRate || 1 });
    window.__hls = hls;
    hls.on(Hls.Events.ERROR, (_, d) => { if (d.fatal) window.__errors.push(`hls.js fatal ${d.type}: ${d.details}`); });
    hls.loadSource(o.url);
    hls.attachMedia(v);
    v.play().catch((e) => window.__errors.push('play(): ' + e.message));
    let started = 0;
    window.__startCurrentTime = null;
    setInterval(() => {
      if (v.paused || v.readyState < 3 || !hls.playingDate) return;
      if (!started) { started = performance.now(); window.__startCurrentTime = v.currentTime; }
      window.__samples.push([(performance.now() - started) / 1000, Date.now() - hls.playingDate.getTime(), hls.latency]);
    }, 1000);
  }, opts);
  await page.waitForTimeout(opts.seconds * 1000);
  const got = await page.evaluate(() => ({
    errors: window.__errors, samples: window.__samples, currentTime: document.getElementById('v').currentTime,
    startCurrentTime: window.__startCurrentTime,
    targetLatency: window.__hls ? window.__hls.targetLatency : null,
  }));
  result.errors.push(...got.errors);
  const kept = got.samples.filter((s) => s[0] >= opts.warmup);
  const ms = kept.map((s) => s[1]).sort((a, b) => a - b);
  const at = (q) => (ms.length ? ms[Math.min(ms.length - 1, Math.round(q * (ms.length - 1)))] : null);
  Object.assign(result, {
    samples: ms.length,
    glass_to_glass_median_ms: at(0.5),
    glass_to_glass_p95_ms: at(0.95),
    glass_to_glass_max_ms: ms.length ? ms[ms.length - 1] : null,
    hlsjs_latency_median_s: kept.length ? kept.map((s) => s[2]).sort((a, b) => a - b)[Math.floor(kept.length / 2)] : null,
    hlsjs_target_latency_s: got.targetLatency,
    played_s: got.startCurrentTime === null ? 0 : got.currentTime - got.startCurrentTime,
  });
} catch (e) {
  result.errors.push('harness: ' + e.message);
} finally {
  await browser.close();
  server.close();
}
process.stdout.write(JSON.stringify(result) + '\n');
process.exit(result.samples > 0 ? 0 : 1);
