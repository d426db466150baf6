// Login, token refresh and logout against the hub's /auth endpoints; tokens kept in localStorage.

import { clientId, HttpError, postForm } from "./rest.js";

const STORAGE_KEY = "plantpulse.auth";
const MIN_MARGIN_MS = 10_000;
const MAX_MARGIN_MS = 60_000;
const RETRY_MS = 15_000;

function loadTokens() {
  try {
    const tokens = JSON.parse(localStorage.getItem(STORAGE_KEY));
    return tokens && tokens.access_token && tokens.refresh_token ? tokens : null;
  } catch {
    return null;
  }
}

/**
 * The user's session: logs in, keeps the access token fresh before it expires, logs out.
 *
 * `onChange(listener)` reports "login", "logout" and "expired" (the hub no longer accepts the
 * refresh token, so the user must log in again). Other tabs of the same hub share the session.
 */
export class Auth {
  constructor() {
    this._tokens = loadTokens();
    this._listeners = new Set();
    this._refreshing = null;
    this._timer = null;
    window.addEventListener("storage", (event) => {
      if (event.key === STORAGE_KEY || event.key === null) this._adoptStoredTokens();
    });
    this._schedule();
  }

  get loggedIn() {
    return this._tokens !== null;
  }

  onChange(listener) {
    this._listeners.add(listener);
    return () => this._listeners.delete(listener);
  }

  /** Exchange a username and password for tokens; throws HttpError on refusal. */
  async login(username, password) {
    const answer = await postForm("auth/token", {
      grant_type: "password",
      username,
      password,
      client_id: clientId(),
    });
    this.useTokens(answer);
  }

  /** Start a session from a token answer obtained elsewhere (onboarding answers one). */
  useTokens(answer) {
    this._save(answer);
    this._emit("login");
  }

  /** A valid access token, refreshed first when it is about to expire. */
  async accessToken() {
    if (!this._tokens) throw new HttpError(401, "logged_out", "Not logged in");
    if (Date.now() < this._tokens.expires - MIN_MARGIN_MS) return this._tokens.access_token;
    await this.refresh();
    return this._tokens.access_token;
  }

  /** Get a new access token with the refresh token (one request even when called twice). */
  refresh() {
    this._refreshing ??= this._refresh().finally(() => {
      this._refreshing = null;
    });
    return this._refreshing;
  }

  /** Forget the tokens here at once, and ask the hub to revoke the refresh token. */
  async logout() {
    const tokens = this._tokens;
    this._clear("logout");
    if (!tokens) return;
    try {
      await postForm("auth/revoke", { token: tokens.refresh_token });
    } catch (err) {
      console.warn("PlantPulse: the hub did not confirm the logout:", err.message);
    }
  }

  async _refresh() {
    const tokens = this._tokens;
    if (!tokens) throw new HttpError(401, "logged_out", "Not logged in");
    let answer;
    try {
      answer = await postForm("auth/token", {
        grant_type: "refresh_token",
        refresh_token: tokens.refresh_token,
        client_id: clientId(),
      });
    } catch (err) {
      const refused = err.status >= 400 && err.status < 500 && err.status !== 429;
      if (refused && this._tokens === tokens) {
        this._clear("expired");
      } else if (!refused) {
        this._schedule(RETRY_MS);
      }
      throw err;
    }
    if (this._tokens !== tokens) return;
    this._save({ ...answer, refresh_token: answer.refresh_token || tokens.refresh_token });
  }

  _save(answer) {
    const lifetime = Number(answer.expires_in || 1800) * 1000;
    this._tokens = {
      access_token: answer.access_token,
      refresh_token: answer.refresh_token,
      lifetime,
      expires: Date.now() + lifetime,
    };
    try {
      localStorage.setItem(STORAGE_KEY, JSON.stringify(this._tokens));
    } catch (err) {
      console.warn("PlantPulse: cannot store the login, it lasts for this page only:", err.message);
    }
    this._schedule();
  }

  _clear(reason) {
    clearTimeout(this._timer);
    this._tokens = null;
    try {
      localStorage.removeItem(STORAGE_KEY);
    } catch {
      // Nothing was stored.
    }
    this._emit(reason);
  }

  _schedule(delay) {
    clearTimeout(this._timer);
    if (!this._tokens) return;
    const margin = Math.min(MAX_MARGIN_MS, Math.max(MIN_MARGIN_MS, this._tokens.lifetime / 5));
    const due = delay ?? Math.max(0, this._tokens.expires - margin - Date.now());
    this._timer = setTimeout(() => this.refresh().catch(() => {}), due);
  }

  _adoptStoredTokens() {
    const hadTokens = this._tokens !== null;
    this._tokens = loadTokens();
    this._schedule();
    if (hadTokens && !this._tokens) this._emit("logout");
    else if (!hadTokens && this._tokens) this._emit("login");
  }

  _emit(reason) {
    for (const listener of this._listeners) listener(reason);
  }
}
