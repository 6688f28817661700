// Plays a live stream in headless Chromium with mpegts.js (HTTP-FLV, WS-FLV)
// or hls.js (HLS), or a media file in the <video> element itself ("file"),
// and prints what happened as JSON on stdout.
//
// Usage: node play.mjs '{"url": "...", "player": "mpegts"|"hls"|"file", "seconds": 7, "lowLatency": false, "switchEvery": 0, "ignoreHTTPSErrors": false}'
// With lowLatency, hls.js runs in lowLatencyMode and each sample also records
// the live latency it measures (Date.now() - hls.playingDate, in ms). With
// switchEvery (seconds), hls.js is made to play the next level of a
// multivariant playlist that often (hls.currentLevel), and the levels and
// the switches it made are reported.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium, servePage } from './chromium.mjs';

const opts = JSON.parse(process.argv[2] || '{}');
const here = path.dirname(fileURLToPath(import.meta.url));
const modules = path.resolve(here, '../../node_modules');
const files = {
  '/mpegts.js': path.join(modules, 'mpegts.js/dist/mpegts.js'),
  '/hls.js': path.join(modules, 'hls.js/dist/hls.js'),
};
const page_html = `<!doctype html><html><head><meta charset="utf-8">
<script src="/mpegts.js"></script><script src="/hls.js"></script></head>
<body><video id="v" muted playsinline autoplay width="640" height="360"></video></body></html>`;

const server = await servePage(page_html, files);
const browser = await launchChromium();
const result = { errors: [], console: [] };
try {
  // ignoreHTTPSErrors: the server under test presents a certificate made for the test.
  const page = await browser.newPage({ ignoreHTTPSErrors: !!opts.ignoreHTTPSErrors });
  page.on('console', (m) => { if (m.type() === 'error') result.console.push(m.text()); });
  page.on('pageerror', (e) => result.errors.push('pageerror: ' + e.message));
  await page.goto(`http://127.0.0.1:${server.address().port}/`);
  await page.evaluate((o) => {
    const v = document.getElementById('v');
    window.__errors = [];
    window.__samples = [];
    window.__latencies = [];
    window.__levels = [];
    window.__switched = [];
    const t0 = performance.now();
    let hls = null;
    v.addEventListener('error', () => window.__errors.push('video error: ' + (v.error && v.error.message)));
    if (o.player === 'file') {
      v.src = o.url;
    } else if (o.player === 'hls') {
      if (!Hls.isSupported()) { window.__errors.push('hls.js: MSE not supported'); return; }
      hls = new Hls({ lowLatencyMode: !!o.lowLatency });
      hls.on(Hls.Events.ERROR, (_, d) => window.__errors.push(`hls.js ${d.fatal ? 'fatal' : 'non-fatal'} ${d.type}: ${d.details}`));
      hls.on(Hls.Events.MANIFEST_PARSED, (_, d) => {
        window.__levels = d.levels.map((l) => ({ width: l.width, height: l.height, bitrate: l.bitrate }));
      });
      hls.on(Hls.Events.LEVEL_SWITCHED, (_, d) => window.__switched.push([Math.round(performance.now() - t0), d.level]));
      if (o.switchEvery > 0) {
        let next = 0;
        setInterval(() => {
          if (hls.levels.length < 2) return;
          next = (hls.currentLevel + 1) % hls.levels.length;
          hls.currentLevel = next;
        }, o.switchEvery * 1000);
      }
      hls.loadSource(o.url);
      hls.attachMedia(v);
    } else {
      if (!mpegts.isSupported()) { window.__errors.push('mpegts.js: MSE not supported'); return; }
      const p = mpegts.createPlayer({ type: 'flv', isLive: true, url: o.url },
        { enableWorker: false, liveBufferLatencyChasing: false, lazyLoad: false });
      p.on(mpegts.Events.ERROR, (type, detail, info) => window.__errors.push(`mpegts.js ${type}: ${detail} ${info && info.msg || ''}`));
      p.attachMediaElement(v);
      p.load();
    }
    v.play().catch((e) => window.__errors.push('play(): ' + e.message));
    setInterval(() => {
      window.__samples.push([Math.round(performance.now() - t0), v.currentTime]);
      if (hls && hls.playingDate && !v.paused) window.__latencies.push(Date.now() - hls.playingDate.getTime());
    }, 500);
  }, opts);
  await page.waitForTimeout((opts.seconds || 7) * 1000);
  Object.assign(result, await page.evaluate(() => {
    const v = document.getElementById('v');
    return {
      currentTime: v.currentTime, videoWidth: v.videoWidth, videoHeight: v.videoHeight,
      readyState: v.readyState, errors: window.__errors, samples: window.__samples, latencies: window.__latencies,
      levels: window.__levels, switched: window.__switched,
    };
  }));
} catch (e) {
  result.errors.push('harness: ' + e.message);
} finally {
  await browser.close();
  server.close();
}
process.stdout.write(JSON.stringify(result) + '\n');
