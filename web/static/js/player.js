// The stream player: HLS through hls.js (or the browser's own HLS when it
// has no Media Source Extensions), HTTP-FLV and WebSocket-FLV through
// mpegts.js. The libraries are loaded from this server on first use.

/** Protocols the player plays. */
export const protocols = /** @type {const} */ (['hls', 'flv', 'ws']);

/** Display names of the protocols. */
export const protocolNames = { hls: 'HLS', flv: 'HTTP-FLV', ws: 'WS-FLV' };

/** Loads a classic script once; resolves when it ran. */
function loadScript(cache, src) {
  let p = cache.get(src);
  if (!p) {
    p = new Promise((resolve, reject) => {
      const el = document.createElement('script');
      el.src = src;
      el.async = true;
      el.onload = () => resolve();
      el.onerror = () => {
        cache.delete(src);
        reject(new Error(`cannot load ${src}`));
      };
      document.head.append(el);
    });
    cache.set(src, p);
  }
  return p;
}

/**
 * Plays one stream at a time in a video element and reports what happens.
 * status() is a snapshot for display and for tests; onChange is called
 * when the state or the error list changes.
 */
export class Player {
  /**
   * @param {HTMLVideoElement} video
   * @param {{hlsSrc: string, mpegtsSrc: string, onChange: () => void}} opts
   */
  constructor(video, { hlsSrc, mpegtsSrc, onChange }) {
    this.video = video;
    this.hlsSrc = hlsSrc;
    this.mpegtsSrc = mpegtsSrc;
    this.onChange = onChange || (() => {});
    this.scripts = new Map();
    this.generation = 0;
    this.engine = '';
    this.state = 'idle';
    this.errors = [];
    this.fatal = false;
    this.instance = null;
    this.detach = null;
    /** The variants of a multivariant HLS playlist (hls.js levels). */
    this.levels = [];
    /** The level hls.js plays (-1: none yet). */
    this.level = -1;
    /** Whether hls.js has appended media of the current stream yet. */
    this.mediaBuffered = false;
    for (const [event, state] of [['playing', 'playing'], ['waiting', 'buffering'], ['ended', 'ended']]) {
      video.addEventListener(event, () => this.setState(state));
    }
    video.addEventListener('error', () => {
      if (this.state === 'idle') return; // emptied on purpose
      const e = video.error;
      this.fail(`video element: ${e ? e.message || `media error ${e.code}` : 'error'}`, true);
    });
  }

  /** Starts playing url with protocol ("hls", "flv" or "ws"). */
  async start(protocol, url, { hasAudio = true, hasVideo = true } = {}) {
    this.stop();
    const generation = ++this.generation;
    this.errors = [];
    this.fatal = false;
    this.protocol = protocol;
    this.url = url;
    this.lastTracks = { hasAudio, hasVideo };
    this.setState('loading');
    try {
      if (protocol === 'hls') await this.startHLS(url, generation);
      else await this.startFLV(url, generation, { hasAudio, hasVideo });
    } catch (err) {
      if (generation === this.generation) this.fail(String(err && err.message ? err.message : err), true);
      return;
    }
    if (generation !== this.generation) return;
    this.video.play().catch((err) => {
      // AbortError: a newer load replaced this one; not a failure.
      if (err && err.name !== 'AbortError' && generation === this.generation) this.fail(`play(): ${err.message}`, false);
    });
  }

  async startHLS(url, generation) {
    await loadScript(this.scripts, this.hlsSrc);
    if (generation !== this.generation) return;
    const Hls = window.Hls;
    if (Hls && Hls.isSupported()) {
      this.engine = `hls.js ${Hls.version}`;
      // Low-Latency HLS: blocking playlist reloads, parts and preload hints
      // when the server offers them (hls.variant lowlatency), plain HLS else.
      const hls = new Hls({ lowLatencyMode: true, backBufferLength: 30 });
      hls.on(Hls.Events.ERROR, (_, d) => {
        // hls.js aborting a load of its own (a level switch) is no error.
        if (!d.fatal && d.details === Hls.ErrorDetails.INTERNAL_ABORTED) return;
        this.fail(`hls.js ${d.fatal ? 'fatal' : 'recoverable'} ${d.type}: ${d.details}`, d.fatal);
      });
      // A multivariant playlist (renditions): offer its levels, show the
      // one that plays.
      hls.on(Hls.Events.MANIFEST_PARSED, (_, d) => {
        if (generation !== this.generation) return;
        this.levels = d.levels.map((l) => ({ width: l.width, height: l.height, bitrate: l.bitrate }));
        this.onChange();
      });
      hls.on(Hls.Events.LEVEL_SWITCHED, (_, d) => {
        if (generation !== this.generation) return;
        this.level = d.level;
        this.onChange();
      });
      hls.on(Hls.Events.FRAG_BUFFERED, (_, d) => {
        if (generation === this.generation && d.frag.type === 'main') this.mediaBuffered = true;
      });
      hls.attachMedia(this.video);
      hls.loadSource(url);
      this.instance = hls;
      this.detach = () => hls.destroy();
      return;
    }
    if (this.video.canPlayType('application/vnd.apple.mpegurl')) {
      this.engine = 'native HLS';
      this.video.src = url;
      this.detach = () => {};
      return;
    }
    throw new Error('this browser can play HLS neither with hls.js (no Media Source Extensions) nor natively');
  }

  async startFLV(url, generation, { hasAudio, hasVideo }) {
    await loadScript(this.scripts, this.mpegtsSrc);
    if (generation !== this.generation) return;
    const mpegts = window.mpegts;
    if (!mpegts || !mpegts.isSupported()) {
      throw new Error('this browser cannot play FLV: mpegts.js needs Media Source Extensions');
    }
    mpegts.LoggingControl.enableVerbose = false;
    mpegts.LoggingControl.enableDebug = false;
    mpegts.LoggingControl.enableInfo = false;
    this.engine = `mpegts.js ${mpegts.version || ''}`.trim();
    const player = mpegts.createPlayer(
      { type: 'flv', isLive: true, url, hasAudio, hasVideo },
      {
        enableWorker: false,
        lazyLoad: false,
        liveBufferLatencyChasing: true,
        liveBufferLatencyMaxLatency: 3,
        liveBufferLatencyMinRemain: 0.5,
      },
    );
    player.on(mpegts.Events.ERROR, (type, detail, info) => {
      this.fail(`mpegts.js ${type}: ${detail}${info && info.msg ? ` (${info.msg})` : ''}`, true);
    });
    player.on(mpegts.Events.LOADING_COMPLETE, () => this.setState('ended'));
    player.attachMediaElement(this.video);
    player.load();
    this.instance = player;
    this.detach = () => {
      player.pause();
      player.unload();
      player.detachMediaElement();
      player.destroy();
    };
  }

  /**
   * Plays level i of a multivariant HLS playlist from now on, or lets
   * hls.js choose by bandwidth (-1).
   *
   * Once media plays, a level is switched to at once (hls.currentLevel:
   * the load in flight is aborted and the buffer flushed). Before the first
   * fragment is buffered, and when i is the level already loading, the
   * load in flight is kept and the level applies from the next fragment
   * (hls.loadLevel): aborting the first fragment loses the init segment
   * hls.js (1.7) is parsing from it, it never creates its SourceBuffer then
   * and every later append fails, so the picture never starts. Auto also
   * applies from the next fragment: nothing needs flushing for it.
   */
  setLevel(i) {
    if (this.protocol !== 'hls' || !this.instance || this.engine.indexOf('hls.js') !== 0) return;
    const hls = this.instance;
    if (i < 0 || !this.mediaBuffered || i === hls.loadLevel) hls.loadLevel = i;
    else hls.currentLevel = i;
    this.onChange();
  }

  /** Stops playback and releases the library instance. */
  stop() {
    this.generation++;
    this.levels = [];
    this.level = -1;
    this.mediaBuffered = false;
    const detach = this.detach;
    this.detach = null;
    this.instance = null;
    this.state = 'idle';
    if (detach) {
      try {
        detach();
      } catch {
        // A player torn down mid-error may throw; nothing is left to free.
      }
    }
    this.video.removeAttribute('src');
    this.video.load();
    this.onChange();
  }

  /** Restarts the current stream. */
  retry() {
    if (this.protocol && this.url) this.start(this.protocol, this.url, this.lastTracks);
  }

  setState(state) {
    if (this.state === state) return;
    if (this.fatal && state !== 'loading') return;
    this.state = state;
    this.onChange();
  }

  fail(message, fatal) {
    this.errors.push(message);
    if (this.errors.length > 20) this.errors.shift();
    if (fatal) {
      this.fatal = true;
      this.state = 'error';
    }
    this.onChange();
  }

  /**
   * Returns how far behind live the picture is, in seconds, as hls.js
   * measures it (now minus the EXT-X-PROGRAM-DATE-TIME of what plays), or
   * null when it cannot tell (another protocol or engine, not playing yet).
   */
  latency() {
    const date = this.instance && this.protocol === 'hls' ? this.instance.playingDate : null;
    if (!date || this.state !== 'playing') return null;
    return Math.max(0, (Date.now() - date.getTime()) / 1000);
  }

  /** Returns what the player is doing, for display and tests. */
  status() {
    const v = this.video;
    let buffer = 0;
    if (v.buffered.length > 0) buffer = Math.max(0, v.buffered.end(v.buffered.length - 1) - v.currentTime);
    return {
      protocol: this.protocol || '',
      engine: this.engine,
      state: this.state,
      currentTime: v.currentTime,
      buffer,
      latency: this.latency(),
      width: v.videoWidth,
      height: v.videoHeight,
      errors: [...this.errors],
      levels: this.levels.map((l) => ({ ...l })),
      level: this.level,
      // The level asked for through setLevel (-1: hls.js chooses).
      chosenLevel: this.levels.length > 0 && typeof this.instance?.manualLevel === 'number' ? this.instance.manualLevel : -1,
    };
  }
}
