// Parses fMP4 with the npm package mp4box, as a browser player would: for
// each directory given, init.mp4 and then every frag-*.m4s in name order
// are appended one buffer at a time. Prints one JSON line per directory:
// the errors mp4box reported (logged or through onError), its tracks and,
// per track, the samples it extracted (count, bytes, decode and
// composition times of the last one, sync samples).
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createFile, Log, MP4BoxBuffer } from 'mp4box';

const errors = [];
for (const level of ['error', 'warn']) {
  const original = console[level];
  console[level] = (...args) => { errors.push(args.join(' ')); original.apply(console, args); };
}
Log.setLogLevel(Log.warn);

for (const dir of process.argv.slice(2)) {
  errors.length = 0;
  const file = createFile(true); // keep mdat data: samples are extracted
  file.onError = (module, msg) => errors.push(`${module}: ${msg}`);
  const result = { dir, tracks: [], samples: {}, moofs: 0 };
  file.onReady = (info) => {
    for (const t of info.tracks) {
      result.tracks.push({ id: t.id, codec: t.codec, timescale: t.timescale });
      result.samples[t.id] = { count: 0, bytes: 0, sync: 0, lastDts: -1, lastCts: -1 };
      file.setExtractionOptions(t.id, null, { nbSamples: 100 });
    }
    file.start();
  };
  file.onSamples = (id, _user, samples) => {
    const s = result.samples[id];
    for (const sample of samples) {
      s.count++;
      s.bytes += sample.data.byteLength;
      if (sample.is_sync) s.sync++;
      s.lastDts = sample.dts;
      s.lastCts = sample.cts;
    }
    file.releaseUsedSamples(id, s.count);
  };
  const names = ['init.mp4', ...readdirSync(dir).filter((n) => n.startsWith('frag-')).sort()];
  let offset = 0;
  for (const name of names) {
    const data = readFileSync(join(dir, name));
    const ab = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength);
    file.appendBuffer(MP4BoxBuffer.fromArrayBuffer(ab, offset));
    offset += data.byteLength;
  }
  file.flush();
  result.moofs = file.moofs ? file.moofs.length : 0;
  result.errors = [...errors];
  process.stdout.write(JSON.stringify(result) + '\n');
}
