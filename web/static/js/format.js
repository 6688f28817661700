// Formatting and parsing helpers shared by the views. Pure functions, no DOM.

/** Seconds per Go duration unit, for parseGoDuration. */
const durationUnits = { h: 3600, m: 60, s: 1, ms: 1e-3, us: 1e-6, 'µs': 1e-6, 'μs': 1e-6, ns: 1e-9 };

/**
 * Parses a Go duration string as the API writes it ("2s", "1m30s", "500ms",
 * "0s") into seconds. Returns NaN for anything else.
 */
export function parseGoDuration(text) {
  if (typeof text === 'number') return text;
  if (typeof text !== 'string' || text === '') return NaN;
  let s = text.trim();
  let sign = 1;
  if (s[0] === '-' || s[0] === '+') {
    if (s[0] === '-') sign = -1;
    s = s.slice(1);
  }
  if (s === '0') return 0;
  const part = /^(\d+(?:\.\d*)?|\.\d+)(h|ms|m|s|us|µs|μs|ns)/;
  let total = 0;
  let matched = false;
  while (s.length > 0) {
    const m = part.exec(s);
    if (!m) return NaN;
    total += parseFloat(m[1]) * durationUnits[m[2]];
    s = s.slice(m[0].length);
    matched = true;
  }
  return matched ? sign * total : NaN;
}

/** Formats bits per second: "2.10 Mb/s", "96 kb/s", "0 b/s". */
export function formatBitrate(bps) {
  if (!Number.isFinite(bps) || bps <= 0) return '0 b/s';
  if (bps >= 1e9) return (bps / 1e9).toFixed(2) + ' Gb/s';
  if (bps >= 1e6) return (bps / 1e6).toFixed(2) + ' Mb/s';
  if (bps >= 1e3) return Math.round(bps / 1e3) + ' kb/s';
  return Math.round(bps) + ' b/s';
}

/** Formats a byte count: "1.3 MB". */
export function formatBytes(n) {
  if (!Number.isFinite(n) || n <= 0) return '0 B';
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  return (i === 0 ? String(Math.round(n)) : n.toFixed(n < 10 ? 2 : 1)) + ' ' + units[i];
}

/** Formats an elapsed time in seconds: "45 s", "4 m 05 s", "2 h 03 m", "3 d 04 h". */
export function formatUptime(seconds) {
  if (!Number.isFinite(seconds) || seconds < 0) return '–';
  const s = Math.floor(seconds);
  const pad = (v) => String(v).padStart(2, '0');
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} m ${pad(s % 60)} s`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${pad(Math.floor((s % 3600) / 60))} m`;
  return `${Math.floor(s / 86400)} d ${pad(Math.floor((s % 86400) / 3600))} h`;
}

/** Formats seconds with one decimal below ten: "1.0 s", "2.5 s", "12 s". */
export function formatSeconds(seconds) {
  if (!Number.isFinite(seconds)) return '–';
  return (seconds < 10 ? seconds.toFixed(1) : String(Math.round(seconds))) + ' s';
}

/** Formats a picture size: "1280×720", or "" when unknown. */
export function formatResolution(width, height) {
  return width > 0 && height > 0 ? `${width}×${height}` : '';
}

/** Formats a frame rate: "30 fps", "29.97 fps". */
export function formatFPS(fps) {
  if (!Number.isFinite(fps) || fps <= 0) return '';
  return (Number.isInteger(fps) ? String(fps) : fps.toFixed(2).replace(/0$/, '')) + ' fps';
}

/** Formats a sample rate: "48 kHz", "44.1 kHz". */
export function formatSampleRate(hz) {
  if (!Number.isFinite(hz) || hz <= 0) return '';
  return (hz % 1000 === 0 ? String(hz / 1000) : (hz / 1000).toFixed(1)) + ' kHz';
}

/** Names a channel count: "mono", "stereo", "6 ch". */
export function formatChannels(n) {
  if (n === 1) return 'mono';
  if (n === 2) return 'stereo';
  return n > 0 ? `${n} ch` : '';
}

/**
 * Returns the port of a Go listen address (":1935", "0.0.0.0:1935",
 * "[::]:1935"), or null when there is none.
 */
export function listenPort(addr) {
  if (typeof addr !== 'string') return null;
  const m = /:(\d+)$/.exec(addr.trim());
  if (!m) return null;
  const port = Number(m[1]);
  return port > 0 && port < 65536 ? port : null;
}

/** Joins the non-empty parts with " · ". */
export function joinParts(...parts) {
  return parts.filter((p) => p !== '' && p !== null && p !== undefined).join(' · ');
}

/** Formats a clock time for "updated at" labels. */
export function formatClock(date) {
  return date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}
