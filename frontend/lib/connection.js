// The WebSocket API client: authenticates, matches results to requests, routes subscription
// events, pings, and reconnects with backoff when the hub goes away.

import { websocketUrl } from "./rest.js";

const BACKOFF_MS = [1000, 2000, 4000, 8000, 15000, 30000];
const PING_INTERVAL_MS = 30_000;
const PONG_TIMEOUT_MS = 10_000;
// A hub that neither answers nor refuses (a dead Wi-Fi link) is given up on after this long.
const HANDSHAKE_TIMEOUT_MS = 15_000;

/** A command the hub answered with `success: false`, or lost with the connection. */
export class CommandError extends Error {
  constructor(code, message) {
    super(message || code);
    this.name = "CommandError";
    this.code = code;
  }
}

/**
 * One logical connection to the hub that survives restarts of the hub.
 *
 * `status` is "connecting", "connected", "reconnecting" (then `retryAt` says when) or
 * "stopped". Listeners given to `onReady` run after every successful authentication: that is
 * where callers (re)load data and (re)subscribe, since subscriptions end with the socket.
 */
export class Connection {
  constructor(auth, url = websocketUrl()) {
    this.auth = auth;
    this.url = url;
    this.status = "stopped";
    this.retryAt = null;
    this._socket = null;
    this._nextId = 1;
    this._pending = new Map();
    this._subscriptions = new Map();
    this._attempt = 0;
    this._retryTimer = null;
    this._pingTimer = null;
    this._statusListeners = new Set();
    this._readyListeners = new Set();
    this._authRetried = false;
    this._generation = 0;
    this._wakeUp = () => {
      if (this.status === "reconnecting") this._connectNow();
    };
  }

  onStatus(listener) {
    this._statusListeners.add(listener);
    return () => this._statusListeners.delete(listener);
  }

  onReady(listener) {
    this._readyListeners.add(listener);
    return () => this._readyListeners.delete(listener);
  }

  start() {
    if (this.status !== "stopped") return;
    window.addEventListener("online", this._wakeUp);
    document.addEventListener("visibilitychange", this._wakeUp);
    this._connectNow();
  }

  stop() {
    window.removeEventListener("online", this._wakeUp);
    document.removeEventListener("visibilitychange", this._wakeUp);
    clearTimeout(this._retryTimer);
    this._generation += 1;
    this._setStatus("stopped");
    this._closeSocket();
  }

  /** Send a command and resolve with its `result` (rejects with CommandError). */
  sendMessage(message) {
    if (this.status !== "connected") {
      return Promise.reject(new CommandError("not_connected", "Not connected to the hub"));
    }
    const id = this._nextId++;
    return new Promise((resolve, reject) => {
      this._pending.set(id, { resolve, reject });
      this._socket.send(JSON.stringify({ ...message, id }));
    });
  }

  /**
   * Send a subscribing command; `onEvent(event)` gets each event it produces. Resolves, once
   * the hub accepted, with a function that unsubscribes. Ends when the connection drops.
   */
  async subscribeMessage(message, onEvent) {
    if (this.status !== "connected") {
      throw new CommandError("not_connected", "Not connected to the hub");
    }
    const id = this._nextId;
    this._subscriptions.set(id, onEvent);
    try {
      await this.sendMessage(message);
    } catch (err) {
      this._subscriptions.delete(id);
      throw err;
    }
    return async () => {
      if (!this._subscriptions.delete(id) || this.status !== "connected") return;
      await this.sendMessage({ type: "unsubscribe_events", subscription: id });
    };
  }

  async _connectNow() {
    clearTimeout(this._retryTimer);
    this._closeSocket();
    this._setStatus("connecting");
    const generation = ++this._generation;
    let token;
    try {
      token = await this.auth.accessToken();
    } catch {
      if (this.auth.loggedIn) this._scheduleReconnect();
      else this.stop();
      return;
    }
    if (generation !== this._generation || this.status !== "connecting") return;
    const socket = new WebSocket(this.url);
    this._socket = socket;
    socket.addEventListener("message", (event) => {
      if (socket === this._socket) this._receive(socket, event.data, token);
    });
    socket.addEventListener("close", () => {
      if (socket === this._socket) this._lost();
    });
    setTimeout(() => {
      if (socket === this._socket && this.status === "connecting") socket.close();
    }, HANDSHAKE_TIMEOUT_MS);
  }

  _receive(socket, data, token) {
    let parsed;
    try {
      parsed = JSON.parse(data);
    } catch {
      console.warn("PlantPulse: ignoring a WebSocket message that is not JSON");
      return;
    }
    for (const message of Array.isArray(parsed) ? parsed : [parsed]) {
      this._handle(socket, message, token);
    }
  }

  _handle(socket, message, token) {
    switch (message.type) {
      case "auth_required":
        socket.send(JSON.stringify({ type: "auth", access_token: token }));
        break;
      case "auth_ok":
        this._authenticated();
        break;
      case "auth_invalid":
        this._authRejected(message.message);
        break;
      case "result":
      case "pong":
        this._settle(message);
        break;
      case "event":
        this._subscriptions.get(message.id)?.(message.event);
        break;
      default:
        break;
    }
  }

  _authenticated() {
    this._attempt = 0;
    this._authRetried = false;
    this._setStatus("connected");
    this._pingTimer = setInterval(() => this._ping(), PING_INTERVAL_MS);
    for (const listener of this._readyListeners) listener(this);
  }

  async _authRejected(reason) {
    console.warn("PlantPulse: the hub refused the access token:", reason);
    const socket = this._socket;
    this._socket = null;
    socket?.close();
    if (this._authRetried) {
      this._lost();
      return;
    }
    this._authRetried = true;
    try {
      await this.auth.refresh();
    } catch {
      if (!this.auth.loggedIn) {
        this.stop();
        return;
      }
    }
    this._connectNow();
  }

  _settle(message) {
    const waiter = this._pending.get(message.id);
    if (!waiter) return;
    this._pending.delete(message.id);
    if (message.type === "pong" || message.success) {
      waiter.resolve(message.result ?? null);
    } else {
      const error = message.error || {};
      waiter.reject(new CommandError(error.code || "unknown_error", error.message));
    }
  }

  async _ping() {
    const socket = this._socket;
    const timeout = setTimeout(() => {
      if (socket === this._socket) socket.close();
    }, PONG_TIMEOUT_MS);
    try {
      await this.sendMessage({ type: "ping" });
    } catch {
      // A lost connection is handled by the close listener.
    } finally {
      clearTimeout(timeout);
    }
  }

  _lost() {
    this._closeSocket();
    if (this.status !== "stopped") this._scheduleReconnect();
  }

  _scheduleReconnect() {
    const base = BACKOFF_MS[Math.min(this._attempt, BACKOFF_MS.length - 1)];
    const delay = Math.round(base * (0.8 + Math.random() * 0.4));
    this._attempt += 1;
    this.retryAt = Date.now() + delay;
    this._setStatus("reconnecting");
    this._retryTimer = setTimeout(() => this._connectNow(), delay);
  }

  _closeSocket() {
    clearInterval(this._pingTimer);
    const socket = this._socket;
    this._socket = null;
    if (socket && socket.readyState <= WebSocket.OPEN) socket.close();
    for (const waiter of this._pending.values()) {
      waiter.reject(new CommandError("connection_lost", "The connection to the hub was lost"));
    }
    this._pending.clear();
    this._subscriptions.clear();
    this._nextId = 1;
  }

  _setStatus(status) {
    if (status !== "reconnecting") this.retryAt = null;
    const changed = status !== this.status;
    this.status = status;
    if (changed || status === "reconnecting") {
      for (const listener of this._statusListeners) listener(status);
    }
  }
}
