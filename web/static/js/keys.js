// The "Stream keys" panel: secret stream keys made through the API. A
// key's secret is shown once, right after it is made or rotated; the list
// shows it masked.

import { byId, h, setText } from './dom.js';
import { defaultApp, validName } from './urls.js';

/** The stream keys panel. */
export class KeysPanel {
  /**
   * @param {{onCreate: function(string, string): void, onRotate: function(object): void,
   *   onRevoke: function(object): void, onCopy: function(HTMLElement): void}} actions
   */
  constructor(actions) {
    this.actions = actions;
    this.form = /** @type {HTMLFormElement} */ (byId('key-form'));
    this.app = /** @type {HTMLInputElement} */ (byId('key-app'));
    this.name = /** @type {HTMLInputElement} */ (byId('key-name'));
    this.list = byId('keys-list');
    this.empty = byId('keys-empty');
    this.secretBox = byId('key-secret-box');
    this.secretTitle = byId('key-secret-title');
    this.secret = /** @type {HTMLInputElement} */ (byId('key-secret'));
    this.app.value = defaultApp;
    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      const app = this.app.value.trim();
      const name = this.name.value.trim();
      if (!validName(app)) {
        this.app.focus();
        return;
      }
      if (!validName(name)) {
        this.name.focus();
        return;
      }
      this.actions.onCreate(app, name);
    });
    byId('key-secret-copy').addEventListener('click', () => this.actions.onCopy(this.secret));
    byId('key-secret-hide').addEventListener('click', () => this.hideSecret());
  }

  /** Shows a key's secret, once: the stream key to paste into OBS. */
  showSecret(doc) {
    setText(this.secretTitle, `Stream key for ${doc.app}/${doc.name}`);
    this.secret.value = doc.stream_key;
    this.secretBox.hidden = false;
    this.secret.focus();
    this.secret.select();
  }

  /** Forgets the secret shown. */
  hideSecret() {
    this.secret.value = '';
    this.secretBox.hidden = true;
  }

  /** Lists the keys (documents of GET /api/v1/keys). */
  render(keys) {
    this.empty.hidden = keys.length > 0;
    this.list.replaceChildren(...keys.map((k) => h('li', { class: 'key', dataset: { keyId: k.id } },
      h('span', { class: 'key-stream' }, `${k.app}/${k.name}`),
      h('code', { class: 'key-masked' }, k.masked_key),
      h('span', { class: 'key-actions' },
        h('button', { type: 'button', class: 'btn small', dataset: { action: 'rotate-key' },
          'aria-label': `Rotate the key of ${k.app}/${k.name}`, onclick: () => this.actions.onRotate(k) }, 'Rotate'),
        h('button', { type: 'button', class: 'btn small danger', dataset: { action: 'revoke-key' },
          'aria-label': `Revoke the key of ${k.app}/${k.name}`, onclick: () => this.actions.onRevoke(k) }, 'Revoke')))));
  }
}
