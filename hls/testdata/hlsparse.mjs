// Parses each playlist file named on the command line with the npm package
// hls-parser in strict mode and prints one JSON line per file: what it
// found, or the error it raised.
import { readFileSync } from 'node:fs';
import HLS from 'hls-parser';

HLS.setOptions({ strictMode: true, silent: true });
for (const file of process.argv.slice(2)) {
  const report = { file, error: '' };
  try {
    const p = HLS.parse(readFileSync(file, 'utf8'));
    report.master = p.isMasterPlaylist;
    report.version = p.version ?? 0;
    report.mediaSequence = p.mediaSequenceBase ?? 0;
    const segments = p.segments ?? []; // a multivariant playlist has variants instead
    report.variants = (p.variants ?? []).length;
    report.segments = segments.filter((s) => s.uri).length;
    report.parts = segments.reduce((n, s) => n + s.parts.filter((x) => !x.hint).length, 0);
    report.hints = segments.reduce((n, s) => n + s.parts.filter((x) => x.hint).length, 0);
    report.skipped = p.skip ?? 0;
    report.partTarget = p.partTargetDuration ?? 0;
    report.canBlockReload = !!p.lowLatencyCompatibility?.canBlockReload;
    report.endlist = !!p.endlist;
  } catch (e) {
    report.error = String(e && e.message ? e.message : e);
  }
  console.log(JSON.stringify(report));
}
