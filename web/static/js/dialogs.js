// Dialogs and small notifications: the token prompt, the kick
// confirmation, the toast and copy-to-clipboard.

import { byId } from './dom.js';

/**
 * Asks for the API token. Resolves with the entered token. Only one prompt
 * is open at a time: a second call while it is open gets the same answer.
 */
export class TokenPrompt {
  constructor() {
    this.dialog = /** @type {HTMLDialogElement} */ (byId('token-dialog'));
    this.form = byId('token-form');
    this.input = /** @type {HTMLInputElement} */ (byId('token-input'));
    this.reason = byId('token-reason');
    this.pending = null;
    this.dialog.addEventListener('cancel', (e) => e.preventDefault()); // nothing works without it
    this.form.addEventListener('submit', (e) => {
      const token = this.input.value.trim();
      if (!token) {
        e.preventDefault();
        this.input.focus();
        return;
      }
      this.input.value = '';
      const done = this.resolve;
      this.pending = null;
      this.resolve = null;
      if (done) done(token);
    });
  }

  /** Opens the prompt with a reason and resolves with the token entered. */
  ask(reason) {
    this.reason.textContent = reason;
    if (this.pending) return this.pending;
    this.pending = new Promise((resolve) => {
      this.resolve = resolve;
    });
    if (!this.dialog.open) this.dialog.showModal();
    this.input.focus();
    return this.pending;
  }
}

/**
 * Asks the operator to confirm a kick (or another destructive action,
 * named by verb). Resolves true when confirmed.
 */
export function confirmKick(title, text, verb = 'Kick') {
  const dialog = /** @type {HTMLDialogElement} */ (byId('confirm-dialog'));
  byId('confirm-title').textContent = title;
  byId('confirm-text').textContent = text;
  byId('confirm-ok').textContent = verb;
  dialog.returnValue = '';
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true });
    dialog.showModal();
    byId('confirm-cancel').focus();
  });
}

/** Shows a short message at the bottom of the page. */
export class Toast {
  constructor() {
    this.el = byId('toast');
    this.timer = 0;
  }

  show(message, kind = 'info') {
    this.el.textContent = message;
    this.el.dataset.kind = kind;
    this.el.hidden = false;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.el.hidden = true;
    }, 3500);
  }
}

/**
 * Copies the value of an input or textarea. navigator.clipboard needs a
 * secure context (https or localhost); on plain http the field is selected
 * and copied the old way.
 */
export async function copyField(field) {
  const text = field.value;
  if (navigator.clipboard && window.isSecureContext) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch {
      // fall through to the selection copy
    }
  }
  field.focus();
  field.select();
  try {
    return document.execCommand('copy');
  } catch {
    return false;
  }
}
