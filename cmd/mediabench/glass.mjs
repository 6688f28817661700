// Glass-to-glass latency of a live HLS stream as hls.js in low-latency mode
// sees it: headless Chromium plays the playlist and, once a second after
// playback started, samples Date.now() − hls.playingDate (the wall time of
// the frame on screen, from the playlist's EXT-X-PROGRAM-DATE-TIME, which
// the server takes from the ingest wall clock). With "joins" above 1 it
// does so that many times in turn, each a fresh player arriving at another
// point of the GOP. It prints one JSON object: the median, p95 and max of
// all samples taken after each join's warm-up, each join's median, the
// player's own latency estimate, how far currentTime advanced and any errors.
// The exit status is 1 when no sample could be taken.
//
// Usage (from the repository root, the npm packages installed):
//
//   node cmd/mediabench/glass.mjs '{"url": "http://127.0.0.1:28080/live/bench.m3u8", "seconds": 30, "warmup": 5, "joins": 1}'
//
// "maxLiveSyncPlaybackRate" (default 1, hls.js's own default) lets the
// player speed up to reach its target latency. "attachFirst" attaches the
// video element before loading the playlist, as the dashboard does (default:
// load, then attach, as hls.js's README shows). CHROMIUM overrides the
// browser (default /usr/bin/chromium).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium, servePage } from '../../internal/browsertest/chromium.mjs';

const opts = Object.assign({ seconds: 30, warmup: 5, joins: 1 }, JSON.parse(process.argv[2] || '{}'));
if (!opts.url) {
  process.stderr.write('usage: node glass.mjs \'{"url": "http://host:port/app/stream.m3u8", "seconds": 30, "warmup": 5}\'\n');
  process.exit(2);
}
const here = path.dirname(fileURLToPath(import.meta.url));
const hlsJS = path.resolve(here, '../../node_modules/hls.js/dist/hls.js');
const pageHTML = `<!doctype html><html><head><meta charset="utf-8"><script src="/hls.js"></script></head>
<body><video id="v" muted playsinline autoplay width="640" height="360"></video></body></html>`;

const server = await servePage(pageHTML, { '/hls.js': hlsJS });
const browser = await launchChromium();
const result = {
  url: opts.url, seconds: opts.seconds, warmup: opts.warmup,
  maxLiveSyncPlaybackRate: opts.maxLiveSyncPlaybackRate || 1, errors: [], played_s: 0,
};
// join plays the stream in a fresh page (a viewer arriving) for
// opts.seconds and returns its samples taken after the warm-up.
async function join() {
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
    if (o.attachFirst) {
      // As hls.js's API guide and the dashboard do it: media first, then
      // the source once it is attached.
      hls.on(Hls.Events.MEDIA_ATTACHED, () => hls.loadSource(o.url));
      hls.attachMedia(v);
    } else {
      hls.loadSource(o.url);
      hls.attachMedia(v);
    }
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
  await page.close();
  result.errors.push(...got.errors);
  result.hlsjs_target_latency_s = got.targetLatency;
  result.played_s += got.startCurrentTime === null ? 0 : got.currentTime - got.startCurrentTime;
  return got.samples.filter((s) => s[0] >= opts.warmup);
}

// quantile returns the q-quantile of the sorted numbers xs (null if none).
const quantile = (xs, q) => (xs.length ? xs[Math.min(xs.length - 1, Math.round(q * (xs.length - 1)))] : null);

try {
  // Where in the GOP a viewer joins changes how far behind the live edge
  // hls.js ends up (it decodes from the keyframe before its start
  // position), so joins are spread over a second: the pause before join i
  // is 100 ms plus i × 167 ms modulo 1 s.
  const kept = [];
  result.joins = [];
  for (let i = 0; i < opts.joins; i++) {
    if (i > 0) await new Promise((resolve) => setTimeout(resolve, ((i * 167) % 1000) + 100));
    const samples = await join();
    kept.push(...samples);
    result.joins.push(quantile(samples.map((s) => s[1]).sort((a, b) => a - b), 0.5));
  }
  const ms = kept.map((s) => s[1]).sort((a, b) => a - b);
  Object.assign(result, {
    samples: ms.length,
    glass_to_glass_median_ms: quantile(ms, 0.5),
    glass_to_glass_p95_ms: quantile(ms, 0.95),
    glass_to_glass_max_ms: ms.length ? ms[ms.length - 1] : null,
    hlsjs_latency_median_s: quantile(kept.map((s) => s[2]).sort((a, b) => a - b), 0.5),
  });
} catch (e) {
  result.errors.push('harness: ' + e.message);
} finally {
  await browser.close();
  server.close();
}
process.stdout.write(JSON.stringify(result) + '\n');
process.exit(result.samples > 0 ? 0 : 1);
