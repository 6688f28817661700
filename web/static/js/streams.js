// The live stream table. Rows are keyed by "app/name" and updated in place,
// so buttons keep their focus across refreshes.

import { h, setText, sparkline } from './dom.js';
import {
  formatBitrate, formatChannels, formatFPS, formatResolution, formatSampleRate, formatUptime, joinParts,
} from './format.js';
import { isWaiting } from './health.js';

/** Viewer protocols in display order, with their labels. */
const viewerProtocols = [['hls', 'HLS'], ['flv', 'FLV'], ['ws', 'WS'], ['rtmp', 'RTMP']];

/** The number of columns, for the warning row. */
const columns = 8;

/** One stream's table rows: the stream and, below it, its warnings. */
class StreamRow {
  constructor(key, stream, { onWatch, onKick }) {
    this.key = key;
    const cell = (label) => h('td', { 'data-label': label });
    this.link = h('a', { href: `#/${key}`, class: 'stream-name' }, key);
    this.origin = h('div', { class: 'sub' });
    this.video = cell('Video');
    this.audio = cell('Audio');
    this.bitrate = cell('Bitrate');
    this.viewers = cell('Viewers');
    this.uptime = cell('Uptime');
    this.health = cell('Health');
    this.watch = h('button', {
      type: 'button', class: 'btn small', dataset: { action: 'watch' },
      'aria-label': `Watch ${key}`, onclick: () => onWatch(stream.app, stream.name),
    }, 'Watch');
    this.kick = h('button', {
      type: 'button', class: 'btn small danger', dataset: { action: 'kick-publisher' },
      'aria-label': `Kick the publisher of ${key}`, onclick: () => onKick(stream.app, stream.name),
    }, 'Kick');
    this.tr = h('tr', { class: 'stream-row', dataset: { stream: key } },
      h('th', { scope: 'row', 'data-label': 'Stream' }, this.link, this.origin),
      this.video, this.audio, this.bitrate, this.viewers, this.uptime, this.health,
      h('td', { class: 'actions' }, this.watch, this.kick));
    this.warnList = h('ul', { class: 'warnings', 'aria-label': `Health warnings of ${key}` });
    this.warnRow = h('tr', { class: 'warn-row', dataset: { warningsFor: key }, hidden: true },
      h('td', { colspan: columns }, this.warnList));
  }

  update(s, warnings, bitrates, selected) {
    const waiting = isWaiting(s);
    this.tr.classList.toggle('selected', selected);
    this.tr.dataset.state = waiting ? 'waiting' : 'live';
    setText(this.origin, s.publisher ? joinParts(s.publisher.remote_addr, s.publisher.encoder) : 'waiting for publisher');
    // A waiting stream has no publisher to kick.
    this.kick.disabled = waiting;

    const v = s.tracks.video;
    if (v) {
      const res = formatResolution(v.width, v.height);
      this.video.replaceChildren(
        h('span', { class: 'res', dataset: { field: 'resolution' } }, res || 'size unknown'),
        h('div', { class: 'sub' }, joinParts(v.codec, formatFPS(v.fps))));
    } else {
      this.video.replaceChildren(h('span', { class: 'muted' }, 'none'));
    }
    const a = s.tracks.audio;
    this.audio.replaceChildren(...(a
      ? [h('span', {}, a.codec), h('div', { class: 'sub' }, joinParts(formatSampleRate(a.sample_rate), formatChannels(a.channels)))]
      : [h('span', { class: 'muted' }, 'none')]));

    this.bitrate.replaceChildren(
      h('span', {}, formatBitrate(s.bitrate_bps)),
      sparkline(bitrates, `Bitrate over the last ${bitrates.length} samples`));

    const parts = viewerProtocols.filter(([k]) => s.viewers[k] > 0).map(([k, label]) => `${label} ${s.viewers[k]}`);
    this.viewers.replaceChildren(
      h('strong', { dataset: { field: 'viewers' } }, String(s.viewers.total)),
      h('div', { class: 'sub' }, parts.length ? parts.join(' · ') : 'no viewers'));

    setText(this.uptime, formatUptime(s.uptime_seconds));

    let pill;
    if (waiting) {
      pill = h('span', { class: 'pill waiting', dataset: { field: 'state' },
        title: 'The publisher left; viewers stay connected while it may come back.' }, 'Waiting for publisher');
    } else if (warnings.length) {
      pill = h('span', { class: 'pill warn' }, warnings.length === 1 ? '1 warning' : `${warnings.length} warnings`);
    } else {
      pill = h('span', { class: 'pill ok' }, 'Healthy');
    }
    this.health.replaceChildren(pill);

    this.warnRow.hidden = warnings.length === 0;
    this.warnList.replaceChildren(...warnings.map((w) =>
      h('li', { class: 'warning', dataset: { kind: w.kind } },
        h('strong', {}, w.title), ' — ', w.detail)));
  }
}

/** The table of live streams. */
export class StreamTable {
  /**
   * @param {HTMLTableSectionElement} body the table's tbody
   * @param {{onWatch: (app: string, name: string) => void, onKick: (app: string, name: string) => void}} actions
   */
  constructor(body, actions) {
    this.body = body;
    this.actions = actions;
    /** @type {Map<string, StreamRow>} */
    this.rows = new Map();
  }

  /**
   * Shows the streams (in the API's order).
   * @param {object[]} streams stream documents
   * @param {(s: object) => object[]} warningsOf the warnings of a stream
   * @param {(s: object) => number[]} bitratesOf recent bitrate samples of a stream
   * @param {string} selected the key of the stream whose details are open
   */
  render(streams, warningsOf, bitratesOf, selected) {
    const seen = new Set();
    const order = [];
    for (const s of streams) {
      const key = `${s.app}/${s.name}`;
      seen.add(key);
      let row = this.rows.get(key);
      if (!row) {
        row = new StreamRow(key, s, this.actions);
        this.rows.set(key, row);
      }
      row.update(s, warningsOf(s), bitratesOf(s), key === selected);
      order.push(row.tr, row.warnRow);
    }
    for (const [key, row] of this.rows) {
      if (!seen.has(key)) {
        row.tr.remove();
        row.warnRow.remove();
        this.rows.delete(key);
      }
    }
    const current = [...this.body.children];
    if (current.length !== order.length || current.some((el, i) => el !== order[i])) {
      this.body.append(...order);
    }
  }
}
