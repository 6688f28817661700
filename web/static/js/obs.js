// The "Stream from OBS" panel: server URL, stream key, keyframe interval
// and an equivalent ffmpeg command, derived from the server configuration.

import { byId, setText } from './dom.js';
import { formatSeconds } from './format.js';
import { suggestedKeyframeInterval } from './health.js';
import { defaultApp, ffmpegCommand, obsSettings, validName } from './urls.js';

/** Returns the app to suggest and the access rule of it, from the configuration's access section. */
export function publishApp(access) {
  const apps = (access && access.apps) || {};
  const names = Object.keys(apps).filter((n) => n !== '*').sort();
  if (names.length === 0 || apps['*'] || names.includes(defaultApp)) {
    const rule = apps[defaultApp] || apps['*'] || null;
    return { app: defaultApp, rule, others: names.filter((n) => n !== defaultApp) };
  }
  return { app: names[0], rule: apps[names[0]], others: names.slice(1) };
}

/** The OBS panel. */
export class ObsPanel {
  constructor() {
    this.server = /** @type {HTMLInputElement} */ (byId('obs-server'));
    this.key = /** @type {HTMLInputElement} */ (byId('obs-key'));
    this.keyint = byId('obs-keyint');
    this.why = byId('obs-keyint-why');
    this.auth = byId('obs-auth');
    this.ffmpeg = /** @type {HTMLTextAreaElement} */ (byId('ffmpeg-cmd'));
    this.ctx = { rtmpPort: null, segmentTarget: 0, access: null };
    this.key.addEventListener('input', () => this.render());
  }

  /** Updates the panel for ctx {rtmpPort, segmentTarget, access}. */
  update(ctx) {
    this.ctx = ctx;
    this.render();
  }

  render() {
    const { rtmpPort, segmentTarget, access } = this.ctx;
    const { app, rule, others } = publishApp(access);
    const raw = this.key.value.trim();
    const name = raw.split('?')[0];
    const valid = validName(name);
    this.key.setAttribute('aria-invalid', String(!valid));
    const settings = obsSettings(window.location, rtmpPort, app, raw);
    if (this.server.value !== settings.server) this.server.value = settings.server;

    const interval = suggestedKeyframeInterval;
    setText(this.keyint, `${interval} s`);
    setText(this.why, `HLS cuts a segment at the first keyframe after the segment target (${formatSeconds(segmentTarget)}): `
      + 'a keyframe every second keeps every segment within a second of the target and lets new viewers start within a second. '
      + 'Any interval up to the target works.');

    const notes = [];
    if (rule && Array.isArray(rule.publish_keys) && rule.publish_keys.length > 0) {
      notes.push(`The app “${app}” accepts only the stream keys configured in access.apps.${app}.publish_keys.`);
    }
    if (others.length > 0) notes.push(`Other apps open for publishing: ${others.join(', ')}.`);
    if (access && access.on_publish) {
      notes.push('An on_publish hook checks publishers: add what it expects to the key, e.g. mystream?token=….');
    }
    this.auth.hidden = notes.length === 0;
    setText(this.auth, notes.join(' '));

    const command = ffmpegCommand(window.location, rtmpPort, app, valid ? raw : 'mystream', interval);
    if (this.ffmpeg.value !== command) this.ffmpeg.value = command;
  }
}
