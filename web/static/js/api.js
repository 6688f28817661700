// The REST API client: JSON requests under /api/v1 with the bearer token
// kept in the browser's local storage.

/** The API's base path. */
export const basePath = '/api/v1';

/** The local storage key of the API token. */
export const tokenStorageKey = 'mediaserver.apiToken';

/** How long one request may take before it is abandoned (ms). */
const requestTimeoutMs = 8000;

/** An API answer that is not a success, or a request that failed. */
export class ApiError extends Error {
  /**
   * @param {number} status HTTP status (0 when the server was not reached)
   * @param {string} code the error document's code ("unauthorized", …)
   * @param {string} message a readable explanation
   */
  constructor(status, code, message) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }

  /** Reports whether the API refused the request for want of a (right) token. */
  get needsToken() {
    return this.status === 401 || this.status === 403;
  }
}

/** A client of the API. */
export class Api {
  /** @param {Storage|null} storage where the token is kept (null: memory only) */
  constructor(storage) {
    this.storage = storage;
    this.memoryToken = '';
  }

  /** Returns the stored token ("" when none). */
  get token() {
    try {
      return (this.storage && this.storage.getItem(tokenStorageKey)) || this.memoryToken;
    } catch {
      return this.memoryToken;
    }
  }

  /** Stores the token ("" forgets it). */
  set token(value) {
    this.memoryToken = value;
    try {
      if (!this.storage) return;
      if (value) this.storage.setItem(tokenStorageKey, value);
      else this.storage.removeItem(tokenStorageKey);
    } catch {
      // Storage may be disabled; the token then lives until the page closes.
    }
  }

  /**
   * Sends a request, with body (when given) as JSON, and returns the
   * decoded JSON body (null for 204). Throws ApiError for every failure.
   */
  async request(method, path, body) {
    const headers = { Accept: 'application/json' };
    const token = this.token;
    if (token) headers.Authorization = `Bearer ${token}`;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let response;
    try {
      response = await fetch(basePath + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: 'no-store',
        credentials: 'same-origin',
        signal: AbortSignal.timeout(requestTimeoutMs),
      });
    } catch (err) {
      const reason = err && err.name === 'TimeoutError' ? 'the server did not answer in time' : 'the server cannot be reached';
      throw new ApiError(0, 'network', reason);
    }
    if (response.status === 204) return null;
    let doc = null;
    try {
      doc = await response.json();
    } catch {
      doc = null;
    }
    if (!response.ok) {
      const e = doc && doc.error;
      throw new ApiError(response.status, (e && e.code) || 'http_' + response.status,
        (e && e.message) || `${method} ${path}: HTTP ${response.status}`);
    }
    return doc;
  }

  /** Returns every live stream (following pages). */
  async streams() {
    const perPage = 100;
    const maxPages = 50;
    const all = [];
    for (let page = 1; page <= maxPages; page++) {
      const doc = await this.request('GET', `/streams?per_page=${perPage}&page=${page}`);
      all.push(...doc.items);
      if (all.length >= doc.total || doc.items.length === 0) break;
    }
    return all;
  }

  /** Returns the sessions of stream "app/name". */
  async sessions(app, name) {
    const stream = encodeURIComponent(`${app}/${name}`);
    const doc = await this.request('GET', `/sessions?stream=${stream}&per_page=100`);
    return doc.items;
  }

  /** Returns the forward targets of app/name (null when it is not live). */
  async forwards(app, name) {
    try {
      const doc = await this.request('GET', `/streams/${encodeURIComponent(app)}/${encodeURIComponent(name)}/forwards`);
      return doc.items;
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) return null;
      throw err;
    }
  }

  /** Starts forwarding app/name to url; the answer is the new target. */
  addForward(app, name, url) {
    return this.request('POST', `/streams/${encodeURIComponent(app)}/${encodeURIComponent(name)}/forwards`, { url });
  }

  /** Stops forward target id of app/name. */
  removeForward(app, name, id) {
    return this.request('DELETE',
      `/streams/${encodeURIComponent(app)}/${encodeURIComponent(name)}/forwards/${encodeURIComponent(id)}`);
  }

  /** Returns the server description (version, totals, effective configuration). */
  server() {
    return this.request('GET', '/server');
  }

  /** Disconnects the publisher of app/name, which ends the stream. */
  kickPublisher(app, name) {
    return this.request('DELETE', `/streams/${encodeURIComponent(app)}/${encodeURIComponent(name)}`);
  }

  /** Returns the stream keys, their secrets masked. */
  async keys() {
    const doc = await this.request('GET', '/keys?per_page=100');
    return doc.items;
  }

  /** Makes a stream key for app/name; the answer carries its secret, once. */
  createKey(app, name) {
    return this.request('POST', '/keys', { app, name });
  }

  /** Gives a stream key a new secret, returned once. */
  rotateKey(id) {
    return this.request('POST', `/keys/${encodeURIComponent(id)}/rotate`);
  }

  /** Revokes a stream key; its live publisher is disconnected. */
  revokeKey(id) {
    return this.request('DELETE', `/keys/${encodeURIComponent(id)}`);
  }

  /** Returns the recorded files, newest first. */
  async recordings() {
    const doc = await this.request('GET', '/recordings?per_page=100');
    return doc.items;
  }

  /** Starts recording app/name. */
  startRecording(app, name) {
    return this.request('POST', `/streams/${encodeURIComponent(app)}/${encodeURIComponent(name)}/recording`);
  }

  /** Stops recording app/name; the answer is its last file. */
  stopRecording(app, name) {
    return this.request('DELETE', `/streams/${encodeURIComponent(app)}/${encodeURIComponent(name)}/recording`);
  }

  /** Deletes a recorded file. */
  deleteRecording(id) {
    return this.request('DELETE', `/recordings/${encodeURIComponent(id)}`);
  }

  /** Disconnects one session. */
  kickSession(id) {
    return this.request('DELETE', `/sessions/${encodeURIComponent(id)}`);
  }
}
