// What the headless Chromium scripts share (play.mjs and ui.mjs here,
// cmd/mediabench/glass.mjs): the browser as they all run it, and a page on a
// real http origin.
import { chromium } from 'playwright-core';
import http from 'node:http';
import fs from 'node:fs';

/**
 * Launches headless Chromium with the flags every script uses; CHROMIUM
 * overrides the browser (default /usr/bin/chromium).
 */
export function launchChromium() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--autoplay-policy=no-user-gesture-required'],
  });
}

/**
 * Serves html at every path but the scripts' (URL path → file name, served
 * as JavaScript) on 127.0.0.1, a real http origin: Media Source Extensions
 * and CORS behave as on a site. Resolves to the listening server.
 */
export async function servePage(html, scripts) {
  const server = http.createServer((req, res) => {
    const file = scripts[req.url];
    if (file) {
      res.writeHead(200, { 'content-type': 'text/javascript' });
      fs.createReadStream(file).pipe(res);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(html);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}
