// Enhanced RTMP peer for the integration tests, on the FFmpeg 8 libraries
// that the npm package node-av bundles (Debian's ffmpeg 5.1 can neither
// publish Enhanced RTMP nor demux enhanced FLV).
//
//   node enhanced.mjs publish INPUT URL   remux INPUT (MP4/MKV) to URL with
//                                         the flv muxer, in real time
//   node enhanced.mjs probe URL           open URL (HTTP-FLV, RTMP, HLS),
//                                         read until every stream is known
//                                         and print one JSON line:
//                                         {"streams":[{"type","codec",…}]}
//
// Both stop by themselves after MEDIASERVER_PEER_TIMEOUT_MS (default 30 s)
// and exit non-zero on any error, with the reason on stderr.

// node-av uses Promise.withResolvers, which Node 20 lacks.
if (!Promise.withResolvers) {
  Promise.withResolvers = function withResolvers() {
    let resolve, reject;
    const promise = new Promise((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}

const limitMs = Number(process.env.MEDIASERVER_PEER_TIMEOUT_MS || 30000);
const watchdog = setTimeout(() => {
  console.error(`enhanced.mjs: gave up after ${limitMs} ms`);
  process.exit(3);
}, limitMs);

const { FormatContext, Packet, FFmpegError, Dictionary, avGetCodecName, avGetMediaTypeString, Log } =
  await import('node-av/lib');
const { AV_LOG_ERROR } = await import('node-av/constants');
Log.setLevel(AV_LOG_ERROR);

function check(ret, what) {
  FFmpegError.throwIfError(ret, what);
}

// openInput opens a URL with options suited to live sources: bounded
// network waits, and a short analysis (the server sends the sequence
// headers first).
async function openInput(url) {
  const ic = new FormatContext();
  const opts = Dictionary.fromObject({
    rw_timeout: String(limitMs * 1000),
    analyzeduration: '3000000',
    probesize: '2000000',
    rtmp_live: 'live',
  });
  check(await ic.openInput(url, null, opts), `open ${url}`);
  check(await ic.findStreamInfo(), `stream info of ${url}`);
  return ic;
}

async function publish(input, url) {
  const ic = await openInput(input);
  const oc = new FormatContext();
  check(oc.allocOutputContext2(null, 'flv', url), 'flv output');
  const out = [];
  for (const st of ic.streams) {
    const os = oc.newStream(null);
    check(st.codecpar.copy(os.codecpar), 'copy codec parameters');
    os.codecpar.codecTag = 0;
    os.timeBase = st.timeBase;
    out.push(os);
  }
  check(await oc.openOutput(), `connect ${url}`);
  check(await oc.writeHeader(), 'flv header');
  const pkt = new Packet();
  pkt.alloc();
  const started = Date.now();
  let packets = 0;
  while ((await ic.readFrame(pkt)) >= 0) {
    const ist = ic.streams[pkt.streamIndex];
    const ost = out[pkt.streamIndex];
    // Real time: a packet is sent when its DTS is due.
    const dts = pkt.dts ?? pkt.pts;
    if (dts !== null && dts !== undefined) {
      const dueMs = (Number(dts) * ist.timeBase.num * 1000) / ist.timeBase.den;
      const wait = started + dueMs - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    pkt.rescaleTs(ist.timeBase, ost.timeBase);
    pkt.pos = -1n;
    check(await oc.interleavedWriteFrame(pkt), 'write packet');
    pkt.unref();
    packets++;
  }
  check(await oc.writeTrailer(), 'flv trailer');
  await oc.closeOutput();
  await ic.closeInput();
  console.log(JSON.stringify({ published: packets }));
}

async function probe(url) {
  const ic = await openInput(url);
  const format = ic.iformat ? ic.iformat.name : '';
  const streams = ic.streams.map((st) => {
    const p = st.codecpar;
    return {
      index: st.index,
      type: avGetMediaTypeString(p.codecType),
      codec: avGetCodecName(p.codecId),
      width: p.width,
      height: p.height,
      sample_rate: p.sampleRate,
      channels: p.channelLayout ? p.channelLayout.nbChannels : 0,
    };
  });
  // Read a few packets: the stream must really flow, not only announce.
  const pkt = new Packet();
  pkt.alloc();
  const counts = {};
  for (let i = 0; i < 50 && (await ic.readFrame(pkt)) >= 0; i++) {
    counts[pkt.streamIndex] = (counts[pkt.streamIndex] || 0) + 1;
    pkt.unref();
  }
  for (const s of streams) s.packets = counts[s.index] || 0;
  await ic.closeInput();
  console.log(JSON.stringify({ format, streams }));
}

try {
  const [cmd, a, b] = process.argv.slice(2);
  if (cmd === 'publish' && a && b) await publish(a, b);
  else if (cmd === 'probe' && a) await probe(a);
  else throw new Error('usage: enhanced.mjs publish INPUT URL | probe URL');
  clearTimeout(watchdog);
  process.exit(0);
} catch (err) {
  console.error(`enhanced.mjs: ${err && err.message ? err.message : err}`);
  process.exit(2);
}
