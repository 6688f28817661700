// The forward targets of the open stream: the other RTMP/RTMPS servers it
// is sent to, their state, and a form to add one.

import { byId, h, setText } from './dom.js';
import { formatBitrate, formatBytes } from './format.js';

/** Target URL schemes the server forwards to. */
const schemes = ['rtmp:', 'rtmps:'];

/** Reports whether url can be a forward target: rtmp(s)://host/app/stream. */
export function validTargetURL(url) {
  let u;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  const parts = u.pathname.split('/').filter((p) => p !== '');
  return schemes.includes(u.protocol) && u.hostname !== '' && parts.length >= 2;
}

/** The forwards table and form of the stream detail panel. */
export class ForwardsView {
  /**
   * @param {{onAdd: function(string): void, onRemove: function(object): void}} actions
   */
  constructor(actions) {
    this.actions = actions;
    this.body = byId('forwards-body');
    this.form = /** @type {HTMLFormElement} */ (byId('forward-form'));
    this.url = /** @type {HTMLInputElement} */ (byId('forward-url'));
    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      const url = this.url.value.trim();
      if (!validTargetURL(url)) {
        this.url.setCustomValidity('Want rtmp://host/app/stream or rtmps://host:port/app/key');
        this.url.reportValidity();
        return;
      }
      this.url.setCustomValidity('');
      this.actions.onAdd(url);
    });
    this.url.addEventListener('input', () => this.url.setCustomValidity(''));
  }

  /** Empties the form once a target was added. */
  added() {
    this.url.value = '';
  }

  /** Shows the targets (null: the stream is not live). */
  render(targets) {
    this.form.hidden = targets === null;
    if (!targets || targets.length === 0) {
      this.body.replaceChildren(h('tr', { class: 'none' },
        h('td', { colspan: 8, class: 'muted' }, targets ? 'Not forwarded.' : 'The stream is not live.')));
      return;
    }
    this.body.replaceChildren(...targets.map((f) => {
      const state = h('td', { 'data-label': 'State', class: `forward-state state-${f.state}` });
      setText(state, f.state);
      const error = h('td', { 'data-label': 'Last error', class: 'muted' });
      setText(error, f.last_error || '–');
      return h('tr', { dataset: { forwardId: f.id, state: f.state } },
        h('th', { scope: 'row', 'data-label': 'Target', title: `${f.id} (${f.origin})` }, f.url),
        state,
        h('td', { 'data-label': 'Bitrate' }, formatBitrate(f.bitrate)),
        h('td', { 'data-label': 'Sent' }, formatBytes(f.bytes)),
        h('td', { 'data-label': 'Retries' }, String(f.retries)),
        h('td', { 'data-label': 'Dropped', class: f.dropped > 0 ? 'bad' : '' }, String(f.dropped)),
        error,
        h('td', { class: 'actions' }, h('button', {
          type: 'button', class: 'btn small danger', dataset: { action: 'remove-forward' },
          'aria-label': `Stop forwarding to ${f.url}`, onclick: () => this.actions.onRemove(f),
        }, 'Stop')));
    }));
  }
}
