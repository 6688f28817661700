// Health rules: turn a stream document from GET /api/v1/streams (plus a
// short history the dashboard keeps) into warnings an operator can act on.
// Pure functions and one small class; no DOM.

/** How long the dashboard keeps samples of a stream, in seconds. */
export const historySeconds = 120;

/** Dropped frames count as a problem when they grew within this window (s). */
export const droppedWindowSeconds = 30;

/** A stream younger than this (s) is not yet judged on missing tracks or data. */
export const settleSeconds = 6;

/** Bitrate collapse: the current rate is below this share of the usual rate. */
export const collapseRatio = 0.3;

/** Bitrate collapse is judged only for streams usually above this rate (b/s). */
export const collapseMinBaseline = 100e3;

/** The baseline is taken from samples at least this old (s), so a drop shows at once. */
export const baselineGapSeconds = 10;

/** At least this many baseline samples are needed to judge a collapse. */
export const baselineMinSamples = 5;

/** The HLS segment target when the configuration leaves it at 0 (server default). */
export const defaultSegmentTarget = 2;

/**
 * Reports whether a stream document is waiting for its publisher to come
 * back (state "waiting": no publisher, nothing arriving, viewers kept).
 */
export function isWaiting(stream) {
  return stream.state === 'waiting';
}

/**
 * The keyframe interval (s) suggested to encoders, whatever the segment
 * target. HLS cuts a segment at the first keyframe after the segment target,
 * so keyframes every second keep every segment within a second of the target,
 * and a new viewer waits at most a second for a picture.
 */
export const suggestedKeyframeInterval = 1;

/**
 * Returns the longest keyframe interval (whole seconds, at least 1) that
 * still lets the segmenter cut every segment of an HLS segment target on
 * time; longer intervals get a warning.
 */
export function recommendedKeyframeInterval(segmentTarget) {
  const target = segmentTarget > 0 ? segmentTarget : defaultSegmentTarget;
  return Math.max(1, Math.floor(target + 1e-9));
}

/** Rounds to one decimal for messages. */
function oneDecimal(v) {
  return (Math.round(v * 10) / 10).toFixed(1).replace(/\.0$/, '');
}

/** Formats b/s for messages (kept local so the rules have no imports). */
function rate(bps) {
  return bps >= 1e6 ? `${(bps / 1e6).toFixed(1)} Mb/s` : `${Math.round(bps / 1e3)} kb/s`;
}

/** Returns the median of a non-empty list of numbers. */
function median(values) {
  const v = [...values].sort((a, b) => a - b);
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

/**
 * Keeps recent samples ({t, bps, dropped}) per stream key, t in seconds.
 */
export class StreamHistory {
  constructor() {
    /** @type {Map<string, {t:number, bps:number, dropped:number}[]>} */
    this.samples = new Map();
  }

  /** Records the stream documents seen at time now (seconds) and forgets streams that are gone. */
  record(streams, now) {
    const live = new Set();
    for (const s of streams) {
      const key = `${s.app}/${s.name}`;
      live.add(key);
      let list = this.samples.get(key);
      if (!list) {
        list = [];
        this.samples.set(key, list);
      }
      list.push({ t: now, bps: s.bitrate_bps || 0, dropped: s.dropped_frames || 0 });
      while (list.length > 0 && list[0].t < now - historySeconds) list.shift();
    }
    for (const key of [...this.samples.keys()]) {
      if (!live.has(key)) this.samples.delete(key);
    }
  }

  /** Returns the samples of key, oldest first (empty when unknown). */
  of(key) {
    return this.samples.get(key) || [];
  }
}

/**
 * Returns the warnings for one stream, most important first. Each warning is
 * { kind, title, detail }: kind is a stable identifier ("keyframe-interval",
 * "no-keyframes", "no-audio", "no-video", "not-in-hls", "no-data",
 * "bitrate-collapse", "dropped-frames"), title a short label for the list and detail what it
 * means and what to do.
 *
 * ctx: { segmentTarget: seconds (0: server default), history: samples of
 * this stream oldest first (see StreamHistory), now: seconds }.
 */
export function streamWarnings(stream, ctx) {
  const out = [];
  // A stream waiting for its publisher receives nothing by design; it is
  // shown as waiting, not warned about.
  if (isWaiting(stream)) return out;
  const target = ctx.segmentTarget > 0 ? ctx.segmentTarget : defaultSegmentTarget;
  const uptime = stream.uptime_seconds || 0;
  const video = stream.tracks && stream.tracks.video;
  const audio = stream.tracks && stream.tracks.audio;
  const history = ctx.history || [];
  const now = ctx.now;
  const bitrate = stream.bitrate_bps || 0;

  if (uptime >= settleSeconds && bitrate === 0) {
    out.push({
      kind: 'no-data',
      title: 'No media arriving',
      detail: 'The publisher is connected but has sent nothing for several seconds. ' +
        'Check the encoder: it may be frozen or its network stalled. Kick the publisher to let it reconnect.',
    });
  } else if (bitrate > 0) {
    const baseline = history.filter((p) => p.t <= now - baselineGapSeconds).map((p) => p.bps);
    if (baseline.length >= baselineMinSamples) {
      const usual = median(baseline);
      if (usual >= collapseMinBaseline && bitrate < usual * collapseRatio) {
        out.push({
          kind: 'bitrate-collapse',
          title: `Bitrate collapsed to ${rate(bitrate)}`,
          detail: `The stream usually carries ${rate(usual)}. The encoder's upload is probably congested ` +
            '(OBS shows dropped frames in its status bar) or it is overloaded: lower its bitrate or fix the link.',
        });
      }
    }
  }

  const kfi = stream.keyframe_interval_seconds || 0;
  if (video && kfi > target * 1.05 + 0.05) {
    const fps = video.fps > 0 ? Math.round(video.fps) : 30;
    out.push({
      kind: 'keyframe-interval',
      title: `Keyframes every ${oneDecimal(kfi)} s`,
      detail: `That is longer than the HLS segment target of ${oneDecimal(target)} s, so HLS segments run long ` +
        `and viewers wait longer to start. Set the encoder's keyframe interval to ${suggestedKeyframeInterval} s ` +
        `(OBS: Settings → Output → Keyframe Interval; ffmpeg: -g ${suggestedKeyframeInterval * fps} at ${fps} fps).`,
    });
  } else if (video && kfi === 0 && uptime >= Math.max(2 * settleSeconds, 3 * target)) {
    out.push({
      kind: 'no-keyframes',
      title: `No keyframe for ${Math.floor(uptime)} s`,
      detail: 'Viewers can only start at a keyframe and HLS can only cut segments at one. ' +
        `Set the encoder's keyframe interval to ${suggestedKeyframeInterval} s.`,
    });
  }

  if (uptime >= settleSeconds && !audio && video) {
    out.push({
      kind: 'no-audio',
      title: 'No audio',
      detail: 'The publisher sends no audio track (or no AAC/MP3/Opus configuration). ' +
        'If viewers should hear something, check the encoder\'s audio source and encoder (OBS: Settings → Audio).',
    });
  }
  if (uptime >= settleSeconds && !video && audio) {
    out.push({
      kind: 'no-video',
      title: 'No video',
      detail: 'The publisher sends only audio. If a picture is expected, check the encoder\'s video source.',
    });
  }

  // A default track (id 0) the HLS rendition cannot carry: HLS viewers miss it.
  const tracks = stream.tracks && Array.isArray(stream.tracks.list) ? stream.tracks.list : [];
  for (const t of tracks) {
    if (t.id !== 0 || t.hls !== 'left_out') continue;
    const what = t.kind === 'video' ? 'picture' : 'sound';
    out.push({
      kind: 'not-in-hls',
      title: `${t.codec || t.fourcc || t.kind} ${t.kind} not in HLS`,
      detail: `${t.hls_reason ? t.hls_reason + ': ' : ''}HLS viewers get no ${what}; HTTP-FLV, WS-FLV and RTMP viewers ` +
        'are not affected. Publish H.264 video and AAC audio to reach every player.',
    });
  }

  const recent = history.filter((p) => p.t >= now - droppedWindowSeconds);
  if (recent.length > 0) {
    const grew = (stream.dropped_frames || 0) - recent[0].dropped;
    if (grew > 0) {
      out.push({
        kind: 'dropped-frames',
        title: `${grew} frames dropped in the last ${droppedWindowSeconds} s`,
        detail: 'A viewer cannot keep up with the stream and skips ahead to the next keyframe. ' +
          'Find the session with the most dropped frames below and kick it, or lower the encoder\'s bitrate.',
      });
    }
  }
  return out;
}
