// The details of one stream: player, play URLs, facts and sessions with
// kick buttons.

import { byId, h, setText } from './dom.js';
import {
  formatBitrate, formatBytes, formatChannels, formatFPS, formatResolution, formatSampleRate, formatSeconds,
  formatUptime, joinParts,
} from './format.js';
import { isWaiting } from './health.js';
import { protocolNames, protocols } from './player.js';
import { playURLs } from './urls.js';

/** The play URL rows, in display order. */
const urlRows = [
  ['hls', 'HLS', 'Safari, hls.js, VLC, ffplay'],
  ['flv', 'HTTP-FLV', 'mpegts.js, flv.js, VLC, ffplay'],
  ['ws', 'WS-FLV', 'mpegts.js over WebSocket'],
  ['rtmp', 'RTMP', 'ffplay, VLC, OBS media source'],
];

/** How often the player status is refreshed while the panel is open (ms). */
const statusIntervalMs = 500;

/** The stream detail panel. */
export class DetailView {
  /**
   * @param {object} deps
   * @param {import('./player.js').Player} deps.player
   * @param {(field: HTMLInputElement) => void} deps.onCopy
   * @param {() => void} deps.onClose
   * @param {(app: string, name: string) => void} deps.onKickPublisher
   * @param {(session: object) => void} deps.onKickSession
   */
  constructor({ player, onCopy, onClose, onKickPublisher, onKickSession }) {
    this.player = player;
    this.onKickSession = onKickSession;
    this.panel = byId('detail');
    this.title = byId('detail-title');
    this.ended = byId('detail-ended');
    this.warnings = byId('detail-warnings');
    this.facts = byId('facts');
    this.sessionsBody = byId('sessions-body');
    this.kickButton = byId('detail-kick');
    this.errorsBox = byId('player-errors-box');
    this.errorsList = byId('player-errors');
    this.status = {
      engine: byId('ps-engine'), state: byId('ps-state'), size: byId('ps-size'),
      time: byId('ps-time'), buffer: byId('ps-buffer'), latency: byId('ps-latency'),
      levelRow: byId('ps-level-row'), level: byId('ps-level'), levelPlaying: byId('ps-level-playing'),
    };
    this.status.level.addEventListener('change', () => player.setLevel(Number(this.status.level.value)));
    this.segButtons = [...this.panel.querySelectorAll('.seg')];
    this.protocol = 'hls';
    this.app = '';
    this.name = '';
    this.stream = null;
    this.urls = null;
    this.timer = 0;
    /** @type {Map<string, {tr: HTMLTableRowElement, cells: HTMLElement[]}>} */
    this.sessionRows = new Map();

    this.urlInputs = {};
    const urls = byId('urls');
    for (const [key, label, hint] of urlRows) {
      const input = h('input', { id: `url-${key}`, readonly: true, spellcheck: 'false', 'aria-describedby': `url-${key}-hint` });
      this.urlInputs[key] = input;
      urls.append(h('div', { class: 'url-row' },
        h('label', { for: `url-${key}` }, label),
        h('div', { class: 'copy-field' }, input,
          h('button', { type: 'button', class: 'btn small', 'aria-label': `Copy the ${label} URL`, onclick: () => onCopy(input) }, 'Copy')),
        h('p', { class: 'help', id: `url-${key}-hint` }, hint)));
    }
    for (const b of this.segButtons) {
      b.addEventListener('click', () => this.play(b.dataset.protocol));
    }
    byId('detail-close').addEventListener('click', onClose);
    byId('player-retry').addEventListener('click', () => player.retry());
    this.kickButton.addEventListener('click', () => onKickPublisher(this.app, this.name));
    player.onChange = () => this.renderStatus();
  }

  /** The key of the open stream ("" when closed). */
  get key() {
    return this.app ? `${this.app}/${this.name}` : '';
  }

  /** Opens the panel on app/name and starts playing it when it is live. */
  open(app, name, stream, ctx) {
    if (app !== this.app || name !== this.name) {
      this.player.stop();
      this.stream = null;
      this.sessionsBody.replaceChildren();
      this.sessionRows.clear();
    }
    this.app = app;
    this.name = name;
    this.panel.hidden = false;
    setText(this.title, `${app}/${name}`);
    this.update(stream, [], null, ctx);
    clearInterval(this.timer);
    this.timer = setInterval(() => this.renderStatus(), statusIntervalMs);
  }

  /** Closes the panel and stops the player. */
  close() {
    this.app = '';
    this.name = '';
    this.stream = null;
    this.panel.hidden = true;
    clearInterval(this.timer);
    this.player.stop();
    this.sessionsBody.replaceChildren();
    this.sessionRows.clear();
  }

  /** Plays the open stream with protocol ("hls", "flv", "ws"). */
  play(protocol) {
    if (!protocols.includes(protocol) || !this.urls) return;
    this.protocol = protocol;
    for (const b of this.segButtons) b.setAttribute('aria-pressed', String(b.dataset.protocol === protocol));
    const tracks = this.stream ? this.stream.tracks : null;
    this.player.start(protocol, this.urls[protocol], {
      hasAudio: tracks ? !!tracks.audio : true,
      hasVideo: tracks ? !!tracks.video : true,
    });
  }

  /**
   * Shows the latest state: stream (null when it is no longer live), its
   * warnings, its sessions (null: unchanged) and ctx {rtmpPort, segmentTarget}.
   */
  update(stream, warnings, sessions, ctx) {
    if (!this.app) return;
    const live = stream !== null;
    if (live) this.stream = stream;
    this.ended.hidden = live;
    this.kickButton.disabled = !live || isWaiting(stream);
    this.panel.classList.toggle('ended', !live);
    if (!live && this.player.state !== 'idle') this.player.stop();

    this.urls = playURLs(window.location, ctx.rtmpPort, this.app, this.name);
    for (const [key, input] of Object.entries(this.urlInputs)) {
      if (input.value !== this.urls[key]) input.value = this.urls[key];
    }
    this.warnings.replaceChildren(...warnings.map((w) =>
      h('li', { class: 'warning', dataset: { kind: w.kind } }, h('strong', {}, w.title), ' — ', w.detail)));
    if (this.stream) this.renderFacts(this.stream, ctx);
    if (sessions) this.renderSessions(live ? sessions : []);
    // A live stream plays unless the player failed (then Retry restarts it):
    // on opening, and again when a publisher comes back under the name.
    if (live && this.player.state === 'idle') this.play(this.protocol);
  }

  renderFacts(s, ctx) {
    const v = s.tracks.video;
    const a = s.tracks.audio;
    const rows = [
      ['Video', v ? joinParts(v.codec, v.profile && `${v.profile}${v.level ? ' ' + v.level : ''}`, v.codec_string) : 'none'],
      ['Picture', v ? joinParts(formatResolution(v.width, v.height), formatFPS(v.fps)) : '–'],
      ['Keyframe interval', s.keyframe_interval_seconds > 0
        ? `${formatSeconds(s.keyframe_interval_seconds)} (HLS target ${formatSeconds(ctx.segmentTarget)})` : 'not measured yet'],
      ['Audio', a ? joinParts(a.codec, formatSampleRate(a.sample_rate), formatChannels(a.channels), a.codec_string) : 'none'],
      ['Bitrate', `${formatBitrate(s.bitrate_bps)} (video ${formatBitrate(s.video_bitrate_bps)}, audio ${formatBitrate(s.audio_bitrate_bps)})`],
      ['Received', `${formatBytes(s.bytes_in)} in ${s.frames_in} frames`],
      ['Dropped by viewers', String(s.dropped_frames)],
      ['Publisher', s.publisher
        ? joinParts(s.publisher.id, s.publisher.protocol, s.publisher.remote_addr) : 'waiting for publisher'],
      ['Encoder', (s.publisher && s.publisher.encoder) || 'unknown'],
      ['Live for', formatUptime(s.uptime_seconds)],
    ];
    const list = Array.isArray(s.tracks.list) ? s.tracks.list : [];
    if (list.length > (v ? 1 : 0) + (a ? 1 : 0) || list.some((t) => t.hls === 'left_out')) {
      rows.splice(4, 0, ['Tracks', list.map((t) => joinParts(`#${t.id} ${t.kind}`, t.codec,
        formatResolution(t.width, t.height), t.hdr, t.hls === 'left_out' ? 'not in HLS' : '')).join('; ')]);
    }
    const fourccs = s.publisher && Array.isArray(s.publisher.fourccs) ? s.publisher.fourccs : [];
    if (fourccs.length > 0) rows.push(['Enhanced RTMP', fourccs.join(', ')]);
    this.facts.replaceChildren(...rows.map(([k, val]) => h('div', {}, h('dt', {}, k), h('dd', {}, val))));
  }

  renderSessions(sessions) {
    const seen = new Set();
    const order = [];
    for (const s of sessions) {
      seen.add(s.id);
      let row = this.sessionRows.get(s.id);
      if (!row) {
        const publisher = s.role === 'publisher';
        const kick = h('button', {
          type: 'button', class: 'btn small danger',
          dataset: { action: publisher ? 'kick-publisher' : 'kick-session', sessionId: s.id },
          'aria-label': `Kick ${s.role} ${s.id}`,
          onclick: () => this.onKickSession(s),
        }, 'Kick');
        const cells = [h('td', { 'data-label': 'Role' }), h('td', { 'data-label': 'Protocol' }),
          h('td', { 'data-label': 'Client' }), h('td', { 'data-label': 'Connected' }),
          h('td', { 'data-label': 'Sent' }), h('td', { 'data-label': 'Dropped' })];
        const tr = h('tr', { dataset: { sessionId: s.id, role: s.role, protocol: s.protocol } },
          h('th', { scope: 'row', 'data-label': 'Session' }, s.id), ...cells, h('td', { class: 'actions' }, kick));
        row = { tr, cells };
        this.sessionRows.set(s.id, row);
      }
      const [role, protocol, client, connected, sent, dropped] = row.cells;
      setText(role, s.role);
      setText(protocol, s.protocol);
      setText(client, s.remote_addr);
      setText(connected, formatUptime(s.duration_seconds));
      setText(sent, s.role === 'publisher' ? `${formatBytes(s.bytes_in)} in` : formatBytes(s.bytes_out));
      setText(dropped, String(s.dropped_frames));
      dropped.classList.toggle('bad', s.dropped_frames > 0);
      order.push(row.tr);
    }
    for (const [id, row] of this.sessionRows) {
      if (!seen.has(id)) {
        row.tr.remove();
        this.sessionRows.delete(id);
      }
    }
    if (order.length === 0) {
      this.sessionsBody.replaceChildren(h('tr', { class: 'none' }, h('td', { colspan: 8, class: 'muted' }, 'No sessions.')));
      return;
    }
    const current = [...this.sessionsBody.children];
    if (current.length !== order.length || current.some((el, i) => el !== order[i])) {
      this.sessionsBody.replaceChildren(...order);
    }
  }

  /** Offers the renditions of a multivariant HLS playlist and names the one playing. */
  renderLevels(st) {
    const { levelRow, level, levelPlaying } = this.status;
    levelRow.hidden = st.levels.length < 2;
    if (levelRow.hidden) return;
    const names = st.levels.map((l) => `${formatResolution(l.width, l.height) || '?'} · ${formatLevelRate(l.bitrate)}`);
    const want = ['Auto', ...names];
    if (level.options.length !== want.length || [...level.options].some((o, i) => o.textContent !== want[i])) {
      level.replaceChildren(...want.map((text, i) => h('option', { value: String(i - 1) }, text)));
    }
    if (document.activeElement !== level) level.value = String(st.chosenLevel);
    setText(levelPlaying, st.level >= 0 && st.level < names.length ? `playing ${names[st.level]}` : '');
  }

  renderStatus() {
    const st = this.player.status();
    this.panel.dataset.playerState = st.state;
    setText(this.status.engine, st.engine || '–');
    setText(this.status.state, `${protocolNames[st.protocol] || ''} ${st.state}`.trim());
    setText(this.status.size, formatResolution(st.width, st.height) || '–');
    setText(this.status.time, st.state === 'idle' ? '–' : `${st.currentTime.toFixed(1)} s`);
    setText(this.status.buffer, st.state === 'idle' ? '–' : `${st.buffer.toFixed(1)} s`);
    setText(this.status.latency, st.latency === null ? '–' : `${st.latency.toFixed(1)} s`);
    this.renderLevels(st);
    this.errorsBox.hidden = st.errors.length === 0;
    if (this.errorsList.children.length !== st.errors.length) {
      this.errorsList.replaceChildren(...st.errors.map((e) => h('li', {}, e)));
    }
  }
}

/** Formats a variant's bandwidth (bit/s) for the rendition menu. */
function formatLevelRate(bps) {
  if (!bps) return '?';
  return bps >= 1e6 ? `${(bps / 1e6).toFixed(1)} Mb/s` : `${Math.round(bps / 1e3)} kb/s`;
}
