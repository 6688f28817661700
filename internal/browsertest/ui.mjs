// Drives the web UI in headless Chromium and prints what happened as JSON on
// stdout. Two modes:
//
//   node ui.mjs '{"mode": "dashboard", "url": "http://HOST:PORT/", ...}'
//     the operator's path: token prompt, stream list, player in every
//     protocol, kick a viewer, kick the publisher, screenshots.
//   node ui.mjs '{"mode": "call", "url": "http://HOST:PORT/", "calls": [...]}'
//     imports UI modules in the page and returns the results of calls to
//     their exported functions (unit tests of the UI's pure logic).
//   node ui.mjs '{"mode": "keys", "url": "http://HOST:PORT/", "action": "create", "name": "cam"}'
//     the stream keys panel: create a key for live/NAME and read the secret
//     shown; with "action": "revoke", revoke the only key listed.
//   node ui.mjs '{"mode": "record", "url": "http://HOST:PORT/", "stream": "live/cam"}'
//     the record button of a stream's detail and the recordings panel:
//     record, stop, delete the file.
//   node ui.mjs '{"mode": "forwards", "url": "http://HOST:PORT/", "stream": "live/cam", "target": "rtmp://…"}'
//     the stream detail's forwards: forward the stream to target, wait for
//     it to go live, then stop it.
//   node ui.mjs '{"mode": "fetch", "url": "http://HOST:PORT/page", "fetches": [...]}'
//     opens a page and makes requests from it with the browser's fetch, as
//     a script of that page's origin would (same- and cross-origin tests).
//   node ui.mjs '{"mode": "renditions", "url": "http://HOST:PORT/", "stream": "live/abr", "level": 0}'
//     the player's rendition menu: choose a level, wait until it plays;
//     with "chooseOnFirstFragment": true the page chooses as hls.js starts.
//
// The script records and never asserts: the Go test decides. A step that
// cannot go on stops the run with "failure" set.
import path from 'node:path';
import { launchChromium } from './chromium.mjs';

const opts = JSON.parse(process.argv[2] || '{}');
const result = { console: [], pageErrors: [], steps: [], screenshots: [] };

const browser = await launchChromium();

/** Notes a step in the result (the Go test logs them). */
function step(name, detail = '') {
  result.steps.push(detail ? `${name}: ${detail}` : name);
}

try {
  const page = await browser.newPage({
    viewport: { width: opts.width || 1440, height: opts.height || 900 },
    colorScheme: opts.colorScheme || 'dark',
  });
  page.setDefaultTimeout(opts.timeoutMs || 30000);
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') result.console.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => result.pageErrors.push(e.message));
  if (opts.mode === 'call') await calls(page);
  else if (opts.mode === 'keys') await keys(page);
  else if (opts.mode === 'fetch') await fetches(page);
  else if (opts.mode === 'record') await recordings(page);
  else if (opts.mode === 'forwards') await forwards(page);
  else if (opts.mode === 'renditions') await renditions(page);
  else await dashboard(page);
} catch (e) {
  result.failure = e && e.stack ? e.stack.split('\n').slice(0, 3).join(' | ') : String(e);
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(result) + '\n');

/** Imports modules and runs the calls: [{module: "health.js", fn: "streamWarnings", args: [...]}]. */
async function calls(page) {
  await page.goto(opts.url);
  result.results = await page.evaluate(async (list) => {
    const out = [];
    for (const c of list) {
      try {
        const mod = await import(`/ui/js/${c.module}`);
        out.push({ value: await mod[c.fn](...c.args) });
      } catch (e) {
        out.push({ error: String(e && e.message ? e.message : e) });
      }
    }
    return out;
  }, opts.calls || []);
}

/** Creates a stream key in the keys panel, or revokes the one listed. */
async function keys(page) {
  await page.goto(opts.url);
  const item = page.locator('#keys-list li.key');
  if (opts.action === 'create') {
    await page.locator('#keys-empty:not([hidden])').waitFor();
    await page.fill('#key-name', opts.name);
    await page.click('#key-create');
    await page.locator('#key-secret-box:not([hidden])').waitFor();
    result.secret = await page.inputValue('#key-secret');
    await item.waitFor();
    result.listed = await item.textContent();
    step('key created', result.listed);
    await shot(page, 'keys-created.png');
    return;
  }
  await item.waitFor();
  result.listed = await item.textContent();
  await page.click('#keys-list [data-action="revoke-key"]');
  await page.locator('#confirm-dialog[open]').waitFor();
  result.confirmVerb = await page.locator('#confirm-ok').textContent();
  await page.click('#confirm-ok');
  await item.waitFor({ state: 'detached' });
  await page.locator('#keys-empty:not([hidden])').waitFor();
  result.revoked = true;
  step('key revoked');
  await shot(page, 'keys-revoked.png');
}

/** Records a stream from its detail, stops, and deletes the file from the recordings panel. */
async function recordings(page) {
  await page.goto(opts.url + '#/' + opts.stream);
  const button = page.locator('#detail-record');
  await button.waitFor();
  result.buttonBefore = (await button.textContent()).trim();
  await button.click();
  const recording = page.locator('#recordings-list li.recording[data-state="recording"]');
  await recording.waitFor();
  await page.waitForFunction(() => document.getElementById('detail-record').textContent.trim() === 'Stop recording');
  result.buttonWhile = (await button.textContent()).trim();
  result.listedWhile = await recording.textContent();
  step('recording', result.listedWhile);
  await page.waitForTimeout(opts.recordMs || 3000);
  await shot(page, 'recording.png');
  await button.click();
  const done = page.locator('#recordings-list li.recording[data-state="done"]');
  await done.waitFor();
  result.listedDone = await done.textContent();
  step('stopped', result.listedDone);
  await done.locator('[data-action="delete-recording"]').click();
  await page.locator('#confirm-dialog[open]').waitFor();
  result.confirmVerb = await page.locator('#confirm-ok').textContent();
  await page.click('#confirm-ok');
  await done.waitFor({ state: 'detached' });
  await page.locator('#recordings-empty:not([hidden])').waitFor();
  result.deleted = true;
  step('deleted');
}

/** Forwards the stream to opts.target from its detail panel, waits for it to go live, then stops it. */
async function forwards(page) {
  await page.goto(`${opts.url}#/${opts.stream}`);
  await page.locator('#forward-form:not([hidden])').waitFor();
  await page.fill('#forward-url', opts.target);
  await page.click('#forward-add');
  const row = page.locator('#forwards-body tr[data-forward-id]');
  await row.waitFor();
  step('target listed', await row.getAttribute('data-state'));
  await page.locator('#forwards-body tr[data-state="live"]').waitFor({ timeout: 60000 });
  result.listed = await row.textContent();
  step('target live', result.listed);
  await shot(page, 'forwards-live.png');
  await page.click('#forwards-body [data-action="remove-forward"]');
  await page.locator('#confirm-dialog[open]').waitFor();
  result.confirmVerb = await page.locator('#confirm-ok').textContent();
  await page.click('#confirm-ok');
  await row.waitFor({ state: 'detached' });
  result.removed = true;
  step('target stopped');
}

/**
 * Opens the page and makes the fetches from it: [{url, method, mode, body, contentType}].
 * A no-cors answer is opaque to the page: its status reads 0.
 */
async function fetches(page) {
  await page.goto(opts.url);
  result.results = await page.evaluate(async (list) => {
    const out = [];
    for (const f of list) {
      try {
        const init = { method: f.method, mode: f.mode || 'cors', credentials: 'include' };
        if (f.body) init.body = f.body;
        if (f.contentType) init.headers = { 'Content-Type': f.contentType };
        const r = await fetch(f.url, init);
        out.push({ status: r.status, type: r.type });
      } catch (e) {
        out.push({ error: String(e && e.message ? e.message : e) });
      }
    }
    return out;
  }, opts.fetches || []);
}

/**
 * Watches opts.stream (a multitrack stream) over HLS in the dashboard,
 * reads the rendition menu, chooses opts.level in it and waits until the
 * player says that level plays and the picture has its size. With
 * opts.chooseOnFirstFragment the page itself chooses, as hls.js loads the
 * first part of its first fragment, the level that fragment is of (see
 * traceHls), instead of the test once the menu shows.
 */
async function renditions(page) {
  const early = !!opts.chooseOnFirstFragment;
  await page.addInitScript(traceHls, { chooseOnFirstFragment: early });
  await page.goto(opts.url);
  const row = `tr.stream-row[data-stream="${opts.stream}"]`;
  await page.click(`${row} [data-action="watch"]`);
  await page.locator('#detail:not([hidden])').waitFor();
  await page.click('.seg[data-protocol="hls"]');
  await page.locator('#ps-level-row:not([hidden])').waitFor();
  result.options = await page.locator('#ps-level option').allTextContents();
  step('rendition menu', JSON.stringify(result.options));
  if (!early) {
    await page.evaluate((l) => window.hlsTrace.mark(`select level ${l} in the menu`), opts.level);
    await page.selectOption('#ps-level', String(opts.level));
  }
  try {
    // The level chosen (early: the one the page chose last) plays at its size.
    await page.waitForFunction((level) => {
      const select = document.getElementById('ps-level');
      const chosen = window.hlsTrace.chosen;
      const l = level === null ? chosen[chosen.length - 1] : level;
      if (l === undefined) return false;
      const want = select.options[l + 1].textContent.split(' · ')[0];
      const v = document.getElementById('video');
      return document.getElementById('ps-level-playing').textContent.includes(want) &&
        `${v.videoWidth}x${v.videoHeight}` === want.replace('\u00d7', 'x');
    }, early ? null : opts.level);
  } catch (e) {
    // What hls.js did and what the page showed, so that a failure explains itself.
    result.trace = await page.evaluate(hlsTrace);
    throw e;
  }
  const t0 = await page.evaluate(() => document.getElementById('video').currentTime);
  await page.waitForTimeout(2000);
  Object.assign(result, await page.evaluate(() => {
    const v = document.getElementById('video');
    return {
      playing: document.getElementById('ps-level-playing').textContent,
      menu: document.getElementById('ps-level').value,
      width: v.videoWidth, height: v.videoHeight, currentTime: v.currentTime,
      errors: [...document.querySelectorAll('#player-errors li')].map((li) => li.textContent),
      chosenOnFirstFragment: [...window.hlsTrace.chosen],
    };
  }));
  result.advanced = result.currentTime - t0;
  if (result.errors.length > 0) result.trace = await page.evaluate(hlsTrace);
  step('rendition chosen', JSON.stringify({ playing: result.playing, menu: result.menu, advanced: result.advanced,
    chosenOnFirstFragment: result.chosenOnFirstFragment }));
  await shot(page, 'renditions.png');
}

/**
 * Runs in the page before its scripts (page.addInitScript): when the player
 * loads hls.js, its Hls class is replaced by one that records, in
 * window.hlsTrace (read by hlsTrace), the events that tell which level
 * loads, switches and plays, and hls.js's own log. Each line starts with
 * the seconds since the page loaded and the player instance (#1, #2…: a
 * click on the HLS button restarts the player).
 *
 * With chooseOnFirstFragment, each instance chooses in the rendition menu
 * (as a user would, through its change event) the level hls.js loads, the
 * moment the first part of its first fragment has arrived: hls.js is then
 * parsing the stream's init segment from it and has not created its
 * SourceBuffer yet, and a choice that aborts the load to fetch the same
 * fragment again loses the picture for good. hlsTrace.chosen lists the
 * levels chosen so.
 */
function traceHls({ chooseOnFirstFragment }) {
  const t0 = performance.now();
  const note = (list, n, line) => list.push(`${((performance.now() - t0) / 1000).toFixed(2)} #${n} ${line}`);
  const trace = { events: [], log: [], instance: null, count: 0, chosen: [] };
  trace.mark = (line) => note(trace.events, trace.count, line);
  window.hlsTrace = trace;
  const events = ['MANIFEST_PARSED', 'LEVEL_SWITCHING', 'LEVEL_SWITCHED', 'LEVEL_LOADED', 'FRAG_LOADING',
    'FRAG_LOADED', 'FRAG_CHANGED', 'FRAG_BUFFERED', 'BUFFER_CREATED', 'BUFFER_FLUSHING', 'ERROR'];
  let traced;
  Object.defineProperty(window, 'Hls', {
    configurable: true,
    get: () => traced,
    set: (Hls) => {
      traced = class extends Hls {
        constructor(config) {
          const n = ++trace.count;
          const logger = {};
          for (const level of ['debug', 'log', 'info', 'warn', 'error']) {
            logger[level] = (...args) => note(trace.log, n, `${level} ${args.join(' ')}`);
          }
          super({ ...config, debug: logger });
          trace.instance = this;
          for (const name of events) {
            this.on(Hls.Events[name], (_, d) => note(trace.events, n, `${name}${describe(name, d)}`));
          }
          if (chooseOnFirstFragment) {
            const choose = (_, d) => {
              // A fragment of a level hls.js has left is not the one it goes on with.
              if (d.frag.sn === 'initSegment' || d.frag.level !== this.loadLevel) return;
              this.off(Hls.Events.FRAG_LOADED, choose);
              trace.chosen.push(d.frag.level);
              note(trace.events, n, `select level ${d.frag.level} in the menu on the first fragment`);
              const select = document.getElementById('ps-level');
              select.value = String(d.frag.level);
              select.dispatchEvent(new Event('change'));
            };
            this.on(Hls.Events.FRAG_LOADED, choose);
          }
        }
      };
    },
  });

  /** The parts of an event's data that matter here. */
  function describe(name, d) {
    let out = typeof d.level === 'number' ? ` level ${d.level}` : '';
    if (d.frag) out += ` level ${d.frag.level} sn ${d.frag.sn}${d.part ? ` part ${d.part.index}` : ''}`;
    if (name === 'ERROR') out += ` ${d.details}${d.fatal ? ' fatal' : ''}${d.reason ? ` (${d.reason})` : ''}`;
    if (name === 'BUFFER_FLUSHING') out += ` ${d.type || 'all'} ${d.startOffset}-${d.endOffset}`;
    if (name === 'BUFFER_CREATED') out += ` ${Object.keys(d.tracks).join(',')}`;
    return out;
  }
}

/** Reads what traceHls recorded, with the player's and the page's state now. */
function hlsTrace() {
  const trace = window.hlsTrace || { events: [], log: [] };
  const hls = trace.instance;
  const v = document.getElementById('video');
  const select = document.getElementById('ps-level');
  return {
    hls: hls ? {
      currentLevel: hls.currentLevel, loadLevel: hls.loadLevel, nextLoadLevel: hls.nextLoadLevel,
      manualLevel: hls.manualLevel, autoLevelEnabled: hls.autoLevelEnabled,
      levels: hls.levels.map((l) => `${l.width}x${l.height}`),
    } : null,
    select: select ? select.value : null,
    selectFocused: document.activeElement === select,
    playing: (document.getElementById('ps-level-playing') || {}).textContent,
    video: {
      width: v.videoWidth, height: v.videoHeight, currentTime: v.currentTime, readyState: v.readyState,
      buffered: [...Array(v.buffered.length).keys()]
        .map((i) => `${v.buffered.start(i).toFixed(2)}-${v.buffered.end(i).toFixed(2)}`),
    },
    events: abridge(trace.events, 300, 100),
    log: abridge(trace.log, 300, 100),
  };
  // The start (the choice and what came of it) and the end (now) of a long list.
  function abridge(list, head, tail) {
    if (list.length <= head + tail) return list;
    return [...list.slice(0, head), `… ${list.length - head - tail} left out …`, ...list.slice(-tail)];
  }
}

/** The operator's path through the dashboard. */
async function dashboard(page) {
  const stream = opts.stream; // "app/name"
  const row = `tr.stream-row[data-stream="${stream}"]`;

  await page.goto(opts.url);
  if (opts.token) {
    await page.locator('#token-dialog[open]').waitFor();
    result.tokenPrompted = true;
    step('token prompt shown', await page.locator('#token-reason').textContent());
    // A wrong token is refused and asked again.
    await page.fill('#token-input', 'wrong-' + opts.token);
    await page.click('#token-save');
    await page.locator('#token-dialog[open]').waitFor();
    await page.waitForFunction(() => /refused/.test(document.getElementById('token-reason').textContent));
    result.wrongTokenRefused = true;
    step('wrong token refused', await page.locator('#token-reason').textContent());
    await page.fill('#token-input', opts.token);
    await page.click('#token-save');
  }

  await page.locator(`${row} [data-field="resolution"]`).waitFor();
  await page.waitForFunction((sel) => {
    const el = document.querySelector(sel);
    return el && /^\d+×\d+$/.test(el.textContent);
  }, `${row} [data-field="resolution"]`);
  result.resolution = await page.locator(`${row} [data-field="resolution"]`).textContent();
  result.rowText = (await page.locator(row).innerText()).replace(/\s+/g, ' ');
  step('stream listed', result.rowText);

  // A stream whose publisher left shows as waiting for it.
  if (opts.waiting) {
    const sel = `tr.stream-row[data-stream="${opts.waiting}"][data-state="waiting"]`;
    try {
      await page.locator(sel).waitFor({ timeout: opts.timeoutMs || 30000 });
      result.waitingRow = {
        shown: true,
        text: (await page.locator(sel).innerText()).replace(/\s+/g, ' '),
        kickDisabled: await page.locator(`${sel} [data-action="kick-publisher"]`).isDisabled(),
      };
      step('waiting stream shown', result.waitingRow.text);
    } catch {
      step('waiting stream not shown as waiting', opts.waiting);
    }
  }

  // Health: wait until every expected warning shows (or the time is up), then read them all.
  result.warnings = {};
  for (const [key, kinds] of Object.entries(opts.expectWarnings || {})) {
    const sel = `tr.warn-row[data-warnings-for="${key}"]`;
    try {
      await page.waitForFunction(([s, want]) => {
        const el = document.querySelector(s);
        if (!el) return false;
        const have = [...el.querySelectorAll('[data-kind]')].map((w) => w.dataset.kind);
        return want.every((k) => have.includes(k));
      }, [sel, kinds], { timeout: opts.timeoutMs || 30000 });
    } catch {
      step('expected warnings did not all show', key);
    }
  }
  result.warnings = await page.evaluate(() => {
    const out = {};
    for (const tr of document.querySelectorAll('tr.stream-row')) {
      const key = tr.dataset.stream;
      const w = document.querySelector(`tr.warn-row[data-warnings-for="${key}"]`);
      out[key] = w && !w.hidden ? [...w.querySelectorAll('[data-kind]')].map((e) => e.dataset.kind) : [];
    }
    return out;
  });
  step('warnings', JSON.stringify(result.warnings));
  await shot(page, 'dashboard.png');

  if (opts.token) {
    await page.reload();
    await page.locator(`${row} [data-field="resolution"]`).waitFor();
    result.tokenRemembered = !(await page.locator('#token-dialog[open]').count()) &&
      (await page.evaluate(() => localStorage.getItem('mediaserver.apiToken'))) === opts.token;
    step('token remembered after reload', String(result.tokenRemembered));
  }

  await page.click(`${row} [data-action="watch"]`);
  await page.locator('#detail:not([hidden])').waitFor();
  result.urls = {};
  for (const p of ['hls', 'flv', 'ws', 'rtmp']) result.urls[p] = await page.inputValue(`#url-${p}`);
  result.obs = { server: await page.inputValue('#obs-server'), key: await page.inputValue('#obs-key'),
    keyframeInterval: await page.locator('#obs-keyint').textContent() };
  step('play URLs', JSON.stringify(result.urls));

  result.play = {};
  for (const protocol of ['hls', 'flv', 'ws']) {
    result.play[protocol] = await play(page, protocol);
    step(`played ${protocol}`, JSON.stringify(result.play[protocol]));
  }
  await shot(page, 'player.png');

  if (opts.kickSession) {
    const sel = `#sessions-body tr[data-session-id="${opts.kickSession}"]`;
    await page.locator(sel).waitFor();
    await page.click(`${sel} [data-action="kick-session"]`);
    await page.locator('#confirm-dialog[open]').waitFor();
    await page.click('#confirm-ok');
    await page.locator(sel).waitFor({ state: 'detached' });
    result.sessionKicked = true;
    step('viewer session kicked', opts.kickSession);
  }

  await page.click(`${row} [data-action="kick-publisher"]`);
  await page.locator('#confirm-dialog[open]').waitFor();
  await page.click('#confirm-ok');
  await page.locator(row).waitFor({ state: 'detached' });
  await page.locator('#detail-ended:not([hidden])').waitFor();
  result.streamGone = true;
  step('publisher kicked, stream gone from the list');
  await shot(page, 'after-kick.png');
}

/**
 * Switches the player to protocol and waits until the video has played
 * opts.playSeconds of media since it started, or the time is up.
 */
async function play(page, protocol) {
  await page.click(`.seg[data-protocol="${protocol}"]`);
  const want = opts.playSeconds || 3;
  const deadline = Date.now() + (opts.playTimeoutMs || 45000);
  const out = { samples: [] };
  let first = null;
  for (;;) {
    const s = await page.evaluate(() => {
      const v = document.getElementById('video');
      return {
        t: v.currentTime, readyState: v.readyState, width: v.videoWidth, height: v.videoHeight,
        state: document.getElementById('detail').dataset.playerState || '',
        engine: document.getElementById('ps-engine').textContent,
        latency: document.getElementById('ps-latency').textContent,
        errors: [...document.querySelectorAll('#player-errors li')].map((li) => li.textContent),
      };
    });
    out.samples.push(Math.round(s.t * 100) / 100);
    if (first === null && s.state === 'playing' && s.t > 0) first = s.t;
    Object.assign(out, { engine: s.engine, state: s.state, width: s.width, height: s.height, errors: s.errors, latency: s.latency });
    out.advanced = first === null ? 0 : s.t - first;
    if (out.advanced >= want || s.errors.length > 0 || Date.now() > deadline) break;
    await page.waitForTimeout(250);
  }
  if (out.samples.length > 12) out.samples = out.samples.filter((_, i) => i % Math.ceil(out.samples.length / 12) === 0);
  return out;
}

/** Saves a full-page screenshot into the artifact directory. */
async function shot(page, name) {
  if (!opts.artifacts) return;
  const file = path.join(opts.artifacts, name);
  // Full-page shots are taken from the top, so the sticky header sits there.
  await page.evaluate(() => window.scrollTo({ top: 0, behavior: 'instant' }));
  await page.screenshot({ path: file, fullPage: true });
  result.screenshots.push(file);
}
