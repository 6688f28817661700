// Parses one MP4 file with the npm package mp4box, as a browser player
// would: the whole file is appended as one buffer. Prints one JSON line: the
// errors mp4box reported (logged or through onError), its tracks, the
// number of movie fragments and, per track, the samples it extracted.
import { readFileSync } from 'node:fs';
import { createFile, Log, MP4BoxBuffer } from 'mp4box';

const errors = [];
for (const level of ['error', 'warn']) {
  const original = console[level];
  console[level] = (...args) => { errors.push(args.join(' ')); original.apply(console, args); };
}
Log.setLogLevel(Log.warn);

const file = createFile(true);
file.onError = (module, msg) => errors.push(`${module}: ${msg}`);
const result = { tracks: [], samples: {}, moofs: 0 };
file.onReady = (info) => {
  for (const t of info.tracks) {
    result.tracks.push({ id: t.id, codec: t.codec, timescale: t.timescale });
    result.samples[t.id] = { count: 0, sync: 0 };
    file.setExtractionOptions(t.id, null, { nbSamples: 100 });
  }
  file.start();
};
file.onSamples = (id, _user, samples) => {
  const s = result.samples[id];
  for (const sample of samples) {
    s.count++;
    if (sample.is_sync) s.sync++;
  }
  file.releaseUsedSamples(id, s.count);
};
const data = readFileSync(process.argv[2]);
file.appendBuffer(MP4BoxBuffer.fromArrayBuffer(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength), 0));
file.flush();
result.moofs = file.moofs ? file.moofs.length : 0;
result.errors = [...errors];
process.stdout.write(JSON.stringify(result) + '\n');
