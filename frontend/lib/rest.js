// Plain HTTP calls to the hub: URLs relative to where the frontend is served, JSON errors.

const ROOT = new URL("../", import.meta.url);

/** An absolute URL for a hub path such as "auth/token", working behind a path prefix too. */
export function hubUrl(path) {
  return new URL(path.replace(/^\//, ""), ROOT);
}

/** The WebSocket URL of the hub's API. */
export function websocketUrl() {
  const url = hubUrl("api/websocket");
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return url.href;
}

/** The client id sent with logins: the origin the page was served from. */
export function clientId() {
  return window.location.origin;
}

/** A request the hub answered with an error (status >= 400), or could not be reached (0). */
export class HttpError extends Error {
  constructor(status, code, message) {
    super(message || code || `HTTP ${status}`);
    this.name = "HttpError";
    this.status = status;
    this.code = code;
  }
}

async function request(path, init) {
  let response;
  try {
    response = await fetch(hubUrl(path), { cache: "no-store", ...init });
  } catch (err) {
    throw new HttpError(0, "unreachable", err.message);
  }
  const text = await response.text();
  let body = null;
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      // A plain-text error ("400: Bad Request") reads well; an HTML error page does not.
      const plain = text.length < 300 && !text.includes("<");
      body = { message: plain ? text.trim() : `HTTP ${response.status} ${response.statusText}` };
    }
  }
  if (!response.ok) {
    const detail = body || {};
    throw new HttpError(
      response.status,
      detail.error || detail.code || null,
      detail.error_description || detail.message || detail.error || response.statusText,
    );
  }
  return body;
}

/** POST url-encoded fields (the OAuth-style token endpoints take these). */
export function postForm(path, fields) {
  return request(path, { method: "POST", body: new URLSearchParams(fields) });
}

/** POST a JSON body and return the decoded answer. */
export function postJson(path, data) {
  return request(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(data),
  });
}

/** GET and decode JSON. */
export function getJson(path) {
  return request(path, { method: "GET" });
}
