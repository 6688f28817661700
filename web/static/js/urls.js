// Play and publish URLs. The HTTP side (HLS, HTTP-FLV, WS-FLV) is served by
// the same listener as this page, so its URLs use the page's own origin; the
// RTMP side uses the page's host name with the RTMP port from the server's
// configuration.

/** The RTMP port encoders and players use when a URL names none. */
export const defaultRTMPPort = 1935;

/** The app suggested for publishing when the configuration names none. */
export const defaultApp = 'live';

/** Returns "rtmp://HOST" or "rtmp://HOST:PORT" (no port when it is 1935). */
export function rtmpOrigin(hostname, rtmpPort) {
  const port = rtmpPort && rtmpPort !== defaultRTMPPort ? `:${rtmpPort}` : '';
  return `rtmp://${hostname}${port}`;
}

/**
 * Returns the play URLs of app/name: { hls, flv, ws, rtmp }.
 * loc is a Location (or { protocol, host, hostname }).
 */
export function playURLs(loc, rtmpPort, app, name) {
  const path = `/${encodeURIComponent(app)}/${encodeURIComponent(name)}`;
  const origin = `${loc.protocol}//${loc.host}`;
  const wsOrigin = `${loc.protocol === 'https:' ? 'wss:' : 'ws:'}//${loc.host}`;
  return {
    hls: `${origin}${path}.m3u8`,
    flv: `${origin}${path}.flv`,
    ws: `${wsOrigin}${path}.flv`,
    rtmp: `${rtmpOrigin(loc.hostname, rtmpPort)}${path}`,
  };
}

/** Returns what OBS needs: { server: "rtmp://HOST/app", key }. */
export function obsSettings(loc, rtmpPort, app, key) {
  return { server: `${rtmpOrigin(loc.hostname, rtmpPort)}/${app}`, key };
}

/** Quotes a word for a POSIX shell when it needs it. */
export function shellQuote(word) {
  return /^[A-Za-z0-9._~\/:@%+=,-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** Returns an ffmpeg command that publishes a test pattern to app/key. */
export function ffmpegCommand(loc, rtmpPort, app, key, keyframeSeconds) {
  const fps = 30;
  const gop = Math.max(1, Math.round(fps * keyframeSeconds));
  const url = shellQuote(`${rtmpOrigin(loc.hostname, rtmpPort)}/${app}/${key}`);
  return [
    'ffmpeg -re',
    `  -f lavfi -i testsrc2=size=1280x720:rate=${fps}`,
    '  -f lavfi -i sine=frequency=440:sample_rate=48000',
    `  -c:v libx264 -preset veryfast -tune zerolatency -pix_fmt yuv420p -g ${gop} -keyint_min ${gop}`,
    '  -c:a aac -b:a 128k',
    `  -f flv ${url}`,
  ].join(' \\\n');
}

/** Reports whether s is a valid app or stream name (as the server checks them). */
export function validName(s) {
  return typeof s === 'string' && s.length > 0 && s.length <= 128 && s[0] !== '.' && /^[A-Za-z0-9._~-]+$/.test(s);
}
