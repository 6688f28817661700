// The "Recordings" panel: the files the server recorded (GET
// /api/v1/recordings), and the record button of the stream detail.

import { byId, h, setText } from './dom.js';
import { formatBytes, formatUptime } from './format.js';

/** Reports whether stream "app/name" is being recorded, by the recordings list. */
export function isRecording(recordings, app, name) {
  const key = `${app}/${name}`;
  return recordings.some((r) => r.stream === key && r.state === 'recording');
}

/** The recordings panel and the detail's record button. */
export class RecordingsPanel {
  /**
   * @param {{onStart: function(string, string): void, onStop: function(string, string): void,
   *   onDelete: function(object): void}} actions
   */
  constructor(actions) {
    this.actions = actions;
    this.list = byId('recordings-list');
    this.empty = byId('recordings-empty');
    this.button = byId('detail-record');
    this.recordings = [];
    this.stream = null;
    this.button.addEventListener('click', () => {
      if (!this.stream) return;
      const { app, name } = this.stream;
      if (isRecording(this.recordings, app, name)) this.actions.onStop(app, name);
      else this.actions.onStart(app, name);
    });
  }

  /** Sets the stream the detail shows (null: none), for the record button. */
  show(app, name) {
    this.stream = app ? { app, name } : null;
    this.update();
  }

  /** Lists the recordings (documents of GET /api/v1/recordings). */
  render(recordings) {
    this.recordings = recordings;
    this.empty.hidden = recordings.length > 0;
    this.list.replaceChildren(...recordings.map((r) => h('li', { class: 'recording', dataset: { id: r.id, state: r.state } },
      h('span', { class: 'recording-stream' }, r.stream || r.id),
      h('span', { class: 'recording-facts', title: r.reason ? `${r.id}: ${r.reason}` : r.id },
        `${r.format === 'flv' ? 'FLV' : 'MP4'} · ${formatUptime(r.duration_seconds)} · ${formatBytes(r.size)} · ${r.state}`),
      r.state === 'recording' ? null : h('button', { type: 'button', class: 'btn small danger', dataset: { action: 'delete-recording' },
        'aria-label': `Delete recording ${r.id}`, onclick: () => this.actions.onDelete(r) }, 'Delete'))));
    this.update();
  }

  /** Labels the record button for the stream shown. */
  update() {
    const on = this.stream && isRecording(this.recordings, this.stream.app, this.stream.name);
    setText(this.button, on ? 'Stop recording' : 'Record');
    this.button.setAttribute('aria-pressed', on ? 'true' : 'false');
  }
}
