// The dashboard: polls the API, keeps a short history per stream for the
// health rules, and drives the views. Entry point of the page.

import { Api, ApiError } from './api.js';
import { DetailView } from './detail.js';
import { confirmKick, copyField, Toast, TokenPrompt } from './dialogs.js';
import { byId, h, setText } from './dom.js';
import { ForwardsView } from './forwards.js';
import {
  formatBitrate, formatBytes, formatClock, formatSeconds, formatUptime, listenPort, parseGoDuration,
} from './format.js';
import { defaultSegmentTarget, StreamHistory, streamWarnings } from './health.js';
import { KeysPanel } from './keys.js';
import { ObsPanel } from './obs.js';
import { Player } from './player.js';
import { RecordingsPanel } from './recordings.js';
import { StreamTable } from './streams.js';
import { defaultRTMPPort, validName } from './urls.js';

/** How often the server, the streams and the open stream's sessions are fetched (ms). */
const pollMs = 2000;

/** Returns local storage, or null when the browser refuses it. */
function localStore() {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

/** Returns the key of a stream document. */
const keyOf = (s) => `${s.app}/${s.name}`;

/** Parses "#/app/name" into {app, name} (null for anything else). */
function parseHash(hash) {
  const m = /^#\/([^/]+)\/([^/]+)$/.exec(hash);
  if (!m) return null;
  let app;
  let name;
  try {
    app = decodeURIComponent(m[1]);
    name = decodeURIComponent(m[2]);
  } catch {
    return null;
  }
  return validName(app) && validName(name) ? { app, name } : null;
}

/** The dashboard application. */
class App {
  constructor() {
    this.api = new Api(localStore());
    this.prompt = new TokenPrompt();
    this.toast = new Toast();
    this.history = new StreamHistory();
    this.streams = [];
    this.loaded = false;
    this.server = null;
    this.ctx = { rtmpPort: defaultRTMPPort, segmentTarget: defaultSegmentTarget, access: null };
    this.wanted = null;
    /** @type {Map<string, object[]>} the warnings of the last render, by stream key */
    this.warnings = new Map();
    this.timer = 0;
    this.busy = false;
    this.announcer = byId('announcer');

    const body = document.body;
    const player = new Player(/** @type {HTMLVideoElement} */ (byId('video')), {
      hlsSrc: body.dataset.hlsSrc, mpegtsSrc: body.dataset.mpegtsSrc,
    });
    this.table = new StreamTable(byId('streams-body'), {
      onWatch: (app, name) => this.select(app, name),
      onKick: (app, name) => this.kickPublisher(app, name),
    });
    this.detail = new DetailView({
      player,
      onCopy: (field) => this.copy(field),
      onClose: () => this.select(null),
      onKickPublisher: (app, name) => this.kickPublisher(app, name),
      onKickSession: (session) => this.kickSession(session),
    });
    this.obs = new ObsPanel();
    this.keys = new KeysPanel({
      onCreate: (app, name) => this.createKey(app, name),
      onRotate: (key) => this.rotateKey(key),
      onRevoke: (key) => this.revokeKey(key),
      onCopy: (field) => this.copy(field),
    });
    this.keysLoaded = false;
    this.recordings = new RecordingsPanel({
      onStart: (app, name) => this.recordingAction(() => this.api.startRecording(app, name), `Recording ${app}/${name}`, 'Recording not started'),
      onStop: (app, name) => this.recordingAction(() => this.api.stopRecording(app, name), `Recording of ${app}/${name} stopped`, 'Recording not stopped'),
      onDelete: (rec) => this.deleteRecording(rec),
    });
    this.forwards = new ForwardsView({
      onAdd: (url) => this.addForward(url),
      onRemove: (target) => this.removeForward(target),
    });
  }

  start() {
    window.addEventListener('hashchange', () => this.route());
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden) this.refreshSoon(0);
    });
    for (const button of document.querySelectorAll('[data-copy]')) {
      button.addEventListener('click', () => this.copy(byId(button.dataset.copy)));
    }
    const forget = byId('token-forget');
    forget.addEventListener('click', () => {
      this.api.token = '';
      this.updateTokenButton();
      this.toast.show('API token forgotten');
      this.refreshSoon(0);
    });
    this.updateTokenButton();
    this.obs.update(this.ctx);
    this.route();
    this.refresh();
  }

  /** Schedules the next refresh in ms (replacing a pending one). */
  refreshSoon(ms) {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.refresh(), ms);
  }

  /** Fetches what the dashboard shows and renders it. */
  async refresh() {
    if (this.busy) return;
    this.busy = true;
    clearTimeout(this.timer);
    let delay = pollMs;
    try {
      const now = performance.now() / 1000;
      this.applyServer(await this.api.server());
      const streams = await this.api.streams();
      const open = this.wanted;
      const sessions = open ? await this.api.sessions(open.app, open.name) : null;
      const forwards = open ? await this.api.forwards(open.app, open.name) : null;
      if (!this.keysLoaded) await this.loadKeys();
      await this.loadRecordings();
      this.setConnection('ok', 'Connected');
      this.render(streams, sessions, now);
      if (open) this.forwards.render(forwards);
    } catch (err) {
      if (err instanceof ApiError && err.needsToken) {
        await this.askToken(err);
        delay = 0;
      } else {
        this.setConnection('error', 'Offline');
        this.showProblem(`Cannot load the dashboard: ${err.message}. Retrying…`);
      }
    } finally {
      this.busy = false;
    }
    if (!document.hidden) this.refreshSoon(delay);
  }

  /** Shows the token prompt for an authorisation failure and stores the answer. */
  async askToken(err) {
    this.setConnection('auth', 'Token needed');
    let reason = 'This server\'s API needs a token.';
    if (err.status === 403) reason = err.message;
    else if (this.api.token) reason = 'The API refused the token stored in this browser. Enter the current one.';
    const token = await this.prompt.ask(reason);
    this.api.token = token;
    this.updateTokenButton();
  }

  updateTokenButton() {
    byId('token-forget').hidden = !this.api.token;
  }

  /** Takes the configuration values the views need from GET /server. */
  applyServer(doc) {
    this.server = doc;
    const cfg = doc.config || {};
    const port = listenPort(cfg.rtmp && cfg.rtmp.addr);
    const target = parseGoDuration(cfg.hls && cfg.hls.segment_duration);
    this.ctx = {
      rtmpPort: port || defaultRTMPPort,
      segmentTarget: target > 0 ? target : defaultSegmentTarget,
      access: cfg.access || null,
    };
    this.obs.update(this.ctx);
  }

  render(streams, sessions, now) {
    const before = new Set(this.streams.map(keyOf));
    const after = new Set(streams.map(keyOf));
    if (this.loaded) {
      const started = [...after].filter((k) => !before.has(k));
      const ended = [...before].filter((k) => !after.has(k));
      const news = [...started.map((k) => `${k} is live.`), ...ended.map((k) => `${k} ended.`)];
      if (news.length) setText(this.announcer, news.join(' '));
    }
    this.streams = streams;
    this.loaded = true;
    this.history.record(streams, now);

    const warnings = new Map();
    this.warnings = warnings;
    for (const s of streams) {
      warnings.set(keyOf(s), streamWarnings(s, {
        segmentTarget: this.ctx.segmentTarget, history: this.history.of(keyOf(s)), now,
      }));
    }
    this.table.render(streams, (s) => warnings.get(keyOf(s)),
      (s) => this.history.of(keyOf(s)).map((p) => p.bps), this.wanted ? `${this.wanted.app}/${this.wanted.name}` : '');
    byId('streams-table').hidden = streams.length === 0;
    byId('streams-empty').hidden = streams.length > 0;
    this.showProblem('');
    setText(byId('updated'), `Updated ${formatClock(new Date())}`);

    const viewers = streams.reduce((n, s) => n + s.viewers.total, 0);
    const bitrate = streams.reduce((n, s) => n + s.bitrate_bps, 0);
    setText(byId('summary'), `${streams.length} live · ${viewers} ${viewers === 1 ? 'viewer' : 'viewers'} · ${formatBitrate(bitrate)} in`);
    document.title = streams.length ? `(${streams.length}) mediaserver` : 'mediaserver';

    this.recordings.show(this.wanted && this.wanted.app, this.wanted && this.wanted.name);
    if (this.wanted) {
      const { app, name } = this.wanted;
      const stream = streams.find((s) => s.app === app && s.name === name) || null;
      if (this.detail.key !== `${app}/${name}`) this.detail.open(app, name, stream, this.ctx);
      this.detail.update(stream, stream ? warnings.get(keyOf(stream)) : [], sessions, this.ctx);
    }
    this.renderServer();
  }

  renderServer() {
    const doc = this.server;
    if (!doc) return;
    const t = doc.totals;
    const cfg = doc.config || {};
    const hls = cfg.hls || {};
    const byProtocol = [['HLS', t.viewers.hls], ['FLV', t.viewers.flv], ['WS', t.viewers.ws], ['RTMP', t.viewers.rtmp]]
      .filter(([, n]) => n > 0).map(([p, n]) => `${p} ${n}`).join(' · ');
    const rows = [
      ['Version', doc.version || 'unknown'],
      ['Up for', formatUptime(doc.uptime_seconds)],
      ['Streams', `${t.streams} (${t.publishers} publishing)`],
      ['Viewers', `${t.viewers.total}${byProtocol ? ` (${byProtocol})` : ''}`],
      ['Traffic since start', `${formatBytes(t.bytes_in)} in, ${formatBytes(t.bytes_out)} out`],
      ['HLS', `${formatSeconds(this.ctx.segmentTarget)} segments, ${hls.storage || 'memory'} storage`],
      ['RTMP port', String(this.ctx.rtmpPort)],
    ];
    byId('server-facts').replaceChildren(...rows.map(([k, v]) => h('div', {}, h('dt', {}, k), h('dd', {}, v))));
  }

  /** Opens the details of app/name (null closes them) through the address bar. */
  select(app, name) {
    if (app) {
      window.location.hash = `#/${encodeURIComponent(app)}/${encodeURIComponent(name)}`;
    } else {
      window.history.pushState(null, '', window.location.pathname + window.location.search);
      this.route();
    }
  }

  /** Follows the address bar: "#/app/name" opens that stream's details. */
  route() {
    this.wanted = parseHash(window.location.hash);
    if (!this.wanted) {
      this.detail.close();
      this.table.render(this.streams, (s) => this.warnings.get(keyOf(s)) || [],
        (s) => this.history.of(keyOf(s)).map((p) => p.bps), '');
      return;
    }
    if (this.loaded) {
      const { app, name } = this.wanted;
      const stream = this.streams.find((s) => s.app === app && s.name === name) || null;
      this.detail.open(app, name, stream, this.ctx);
      byId('detail').scrollIntoView({ block: 'nearest', behavior: 'smooth' });
    }
    this.refreshSoon(0);
  }

  async kickPublisher(app, name) {
    const key = `${app}/${name}`;
    if (!(await confirmKick(`Kick the publisher of ${key}?`,
      `The encoder is disconnected and ${key} ends for every viewer. An encoder set to reconnect will come back.`))) return;
    try {
      await this.api.kickPublisher(app, name);
      this.toast.show(`Publisher of ${key} kicked`);
    } catch (err) {
      this.toast.show(err.status === 404 ? `${key} is no longer live` : `Kick failed: ${err.message}`, 'error');
    }
    this.refreshSoon(0);
  }

  async kickSession(session) {
    if (session.role === 'publisher') {
      const [app, name] = session.stream.split('/');
      await this.kickPublisher(app, name);
      return;
    }
    if (!(await confirmKick(`Kick viewer ${session.id}?`,
      `${session.protocol.toUpperCase()} viewer at ${session.remote_addr} is disconnected. A player set to reconnect will come back.`))) return;
    try {
      await this.api.kickSession(session.id);
      this.toast.show(`Viewer ${session.id} kicked`);
    } catch (err) {
      this.toast.show(err.status === 404 ? `${session.id} has already left` : `Kick failed: ${err.message}`, 'error');
    }
    this.refreshSoon(0);
  }

  /** Starts forwarding the open stream to url. */
  async addForward(url) {
    if (!this.wanted) return;
    const { app, name } = this.wanted;
    try {
      const target = await this.api.addForward(app, name, url);
      this.forwards.added();
      this.toast.show(`Forwarding ${app}/${name} to ${target.url}`);
    } catch (err) {
      this.toast.show(`Not forwarded: ${err.message}`, 'error');
    }
    this.refreshSoon(0);
  }

  /** Stops forwarding the open stream to target. */
  async removeForward(target) {
    if (!this.wanted) return;
    const { app, name } = this.wanted;
    if (!(await confirmKick(`Stop forwarding to ${target.url}?`,
      `${app}/${name} is no longer sent there; the target's own viewers see the stream end.`, 'Stop'))) return;
    try {
      await this.api.removeForward(app, name, target.id);
      this.toast.show(`Stopped forwarding to ${target.url}`);
    } catch (err) {
      this.toast.show(err.status === 404 ? `${target.url} is no longer forwarded to` : `Stop failed: ${err.message}`, 'error');
    }
    this.refreshSoon(0);
  }

  /** Fetches and lists the stream keys. */
  async loadKeys() {
    this.keys.render(await this.api.keys());
    this.keysLoaded = true;
  }

  /** Runs a stream key action, then lists the keys again. */
  async keyAction(action, failure) {
    try {
      await action();
    } catch (err) {
      this.toast.show(`${failure}: ${err.message}`, 'error');
    }
    try {
      await this.loadKeys();
    } catch {
      this.keysLoaded = false; // the next refresh tries again
    }
  }

  createKey(app, name) {
    return this.keyAction(async () => {
      this.keys.showSecret(await this.api.createKey(app, name));
      this.toast.show(`Stream key for ${app}/${name} created`);
    }, 'Key not created');
  }

  async rotateKey(key) {
    const stream = `${key.app}/${key.name}`;
    if (!(await confirmKick(`Rotate the key of ${stream}?`,
      `The key gets a new secret and the old one stops working. A publisher live with it goes on; update its stream key before it reconnects.`, 'Rotate'))) return;
    await this.keyAction(async () => {
      this.keys.showSecret(await this.api.rotateKey(key.id));
      this.toast.show(`Key of ${stream} rotated`);
    }, 'Key not rotated');
  }

  async revokeKey(key) {
    const stream = `${key.app}/${key.name}`;
    if (!(await confirmKick(`Revoke the key of ${stream}?`,
      `The key stops working: a publisher live with it is disconnected and cannot come back with it.`, 'Revoke'))) return;
    await this.keyAction(async () => {
      await this.api.revokeKey(key.id);
      this.keys.hideSecret();
      this.toast.show(`Key of ${stream} revoked`);
    }, 'Key not revoked');
    this.refreshSoon(0);
  }

  /** Fetches and lists the recordings; a server that cannot list them shows none. */
  async loadRecordings() {
    try {
      this.recordings.render(await this.api.recordings());
    } catch (err) {
      if (err instanceof ApiError && err.needsToken) throw err;
      this.recordings.render([]);
    }
  }

  /** Starts or stops a recording, then lists the recordings again. */
  async recordingAction(action, success, failure) {
    try {
      await action();
      this.toast.show(success);
    } catch (err) {
      this.toast.show(`${failure}: ${err.message}`, 'error');
    }
    await this.loadRecordings().catch(() => {});
  }

  async deleteRecording(rec) {
    if (!(await confirmKick(`Delete ${rec.id}?`, 'The file is removed from the server\'s disk.', 'Delete'))) return;
    await this.recordingAction(() => this.api.deleteRecording(rec.id), `${rec.id} deleted`, 'Not deleted');
  }

  async copy(field) {
    const ok = await copyField(field);
    this.toast.show(ok ? 'Copied to the clipboard' : 'Press Ctrl+C to copy the selected text', ok ? 'info' : 'error');
  }

  setConnection(state, text) {
    const conn = byId('conn');
    conn.dataset.state = state;
    setText(byId('conn-text'), text);
  }

  showProblem(message) {
    const el = byId('api-problem');
    el.hidden = !message;
    setText(el, message);
  }
}

new App().start();
