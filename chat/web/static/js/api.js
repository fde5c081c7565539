// The REST API and the session's tokens.
//
// Tokens live in localStorage so a reload stays signed in. The access token is
// refreshed shortly before it expires (the sign-in and refresh answers say when, in
// `expires_in`), and once more on a 401, in case a timer slept through it; when the
// refresh token itself is refused, the session ends.
//
// A password change answers with the tokens of a new session and ends every other one,
// this one's socket included. While such a request is in flight, a refresh refused
// with the old token waits for it instead of ending the session (see `replacing`).

const ACCESS = "chat.accessToken";
const REFRESH = "chat.refreshToken";
const EXPIRES = "chat.accessExpires"; // ms since the epoch, from `expires_in`

/** An error answered by the API: `{code, message, errors?}` and its HTTP status. */
export class ApiError extends Error {
  constructor(status, body = {}, retryAfter = null) {
    super(body.message || `The server answered ${status}.`);
    this.status = status;
    this.code = body.code || "error";
    this.errors = body.errors || null;
    this.retryAfter = retryAfter; // seconds, from a 429's Retry-After
  }
}

/** The server could not be reached at all. */
export class NetworkError extends ApiError {
  constructor() {
    super(0, { code: "network", message: "Cannot reach the server. Check your connection." });
  }
}

// -- tokens ---------------------------------------------------------------------

const listeners = { ended: [] };
let refreshTimer = null;
let refreshing = null;
const replacements = new Set(); // settle when a session-replacing request is answered

export const session = {
  get access() {
    return localStorage.getItem(ACCESS);
  },
  get refresh() {
    return localStorage.getItem(REFRESH);
  },
  get signedIn() {
    return Boolean(this.access && this.refresh);
  },
  /** `fn(message)` when the session ends by itself (tokens refused). */
  onEnded(fn) {
    listeners.ended.push(fn);
  },
};

/** Keep tokens; `expiresIn` is the answer's lifetime of the access token, seconds.
 * The expiry is written before the token, so another tab that sees the new token
 * reads its expiry too. */
function keep(access, refresh, expiresIn) {
  if (Number.isFinite(expiresIn)) {
    localStorage.setItem(EXPIRES, String(Date.now() + expiresIn * 1000));
  } else localStorage.removeItem(EXPIRES);
  if (refresh) localStorage.setItem(REFRESH, refresh);
  localStorage.setItem(ACCESS, access);
  scheduleRefresh();
}

function forget() {
  clearTimeout(refreshTimer);
  localStorage.removeItem(ACCESS);
  localStorage.removeItem(REFRESH);
  localStorage.removeItem(EXPIRES);
}

function endSession(message) {
  if (!session.refresh && !session.access) return;
  forget();
  for (const fn of listeners.ended) fn(message || "Your session has ended. Sign in again.");
}

// Another tab signed out (or refreshed): follow it rather than find out by a 401.
window.addEventListener("storage", (event) => {
  if (event.key === REFRESH && !event.newValue) {
    clearTimeout(refreshTimer);
    for (const fn of listeners.ended) fn("You signed out in another tab.");
  } else if (event.key === ACCESS && event.newValue) {
    scheduleRefresh();
  }
});

/** Milliseconds the access token has left, or null when unknown (tokens kept by an
 * older version of this page, which did not store the expiry). */
function msLeft() {
  const expires = Number(localStorage.getItem(EXPIRES));
  return expires > 0 ? expires - Date.now() : null;
}

/** Refresh a minute before expiry (or at three quarters of a short lifetime); at once
 * when the expiry is unknown. */
export function scheduleRefresh() {
  clearTimeout(refreshTimer);
  if (!session.access) return;
  const left = msLeft() ?? 0;
  const delay = Math.max(0, left - Math.min(60_000, left * 0.25));
  refreshTimer = setTimeout(() => {
    refreshAccess().catch((error) => {
      // Offline: try again shortly. A refused refresh token has ended the session.
      if (error instanceof NetworkError) refreshTimer = setTimeout(scheduleRefresh, 10_000);
    });
  }, delay);
}

/** A new access token from the refresh token; concurrent callers share one request. */
export function refreshAccess() {
  refreshing ??= (async () => {
    const refresh = session.refresh;
    if (!refresh) throw new ApiError(401, { code: "unauthorized", message: "Sign in first." });
    const response = await send("POST", "/api/auth/refresh", { token: refresh });
    const body = await parse(response);
    if (!response.ok) {
      if (response.status === 401) {
        // Refused because a password change (here) replaced the session: use the new one.
        await Promise.all(replacements);
        if (session.refresh && session.refresh !== refresh) return session.access;
        endSession(body?.message || "Your session has expired. Sign in again.");
      }
      throw new ApiError(response.status, body || {});
    }
    if (session.refresh !== refresh) return session.access; // replaced meanwhile
    keep(body.access_token, null, body.expires_in);
    return body.access_token;
  })().finally(() => {
    refreshing = null;
  });
  return refreshing;
}

// -- requests -------------------------------------------------------------------

async function send(method, path, { body, token, query } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  let url = path;
  if (query) {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined && value !== null) params.set(key, String(value));
    }
    if ([...params].length) url += `?${params}`;
  }
  try {
    return await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "omit",
    });
  } catch {
    throw new NetworkError();
  }
}

async function parse(response) {
  if (response.status === 204) return null;
  try {
    return await response.json();
  } catch {
    return { message: `The server answered ${response.status} ${response.statusText}.` };
  }
}

/** A JSON request; `auth: false` for the routes that need no token, `retry: false`
 * not to refresh the token and try again on a 401. */
export async function request(method, path, { body, query, auth = true, retry = true } = {}) {
  let response = await send(method, path, { body, query, token: auth && session.access });
  if (response.status === 401 && auth && retry && session.refresh) {
    await refreshAccess();
    response = await send(method, path, { body, query, token: session.access });
  }
  const data = await parse(response);
  if (!response.ok) {
    if (response.status === 401 && auth) endSession(data?.message);
    const retryAfter = Number.parseInt(response.headers.get("Retry-After") ?? "", 10);
    throw new ApiError(response.status, data || {}, Number.isNaN(retryAfter) ? null : retryAfter);
  }
  return data;
}

/** Run a request that ends this session on the server (a password change, an account
 * deletion). The server closes this session's socket meanwhile; a refresh that the
 * socket's reconnection attempts with the old token waits for the answer rather than
 * ending the session. The access token is made fresh first, so that `work` (which
 * must not refresh: that refresh would wait for itself) is not refused for its age. */
async function replacing(work) {
  const left = msLeft();
  if (left === null || left < 30_000) await refreshAccess();
  let settle;
  const settled = new Promise((resolve) => (settle = resolve));
  replacements.add(settled);
  try {
    return await work();
  } finally {
    replacements.delete(settled);
    settle();
  }
}

const enc = encodeURIComponent;

// -- the routes -----------------------------------------------------------------

export const api = {
  // Accounts
  register: (fields) => request("POST", "/api/auth/register", { body: fields, auth: false }),

  /** Sign in; an account whose email code is pending is refused with 403 `unverified`. */
  async login(login, password) {
    const body = { password, [login.includes("@") ? "email" : "username"]: login };
    const data = await request("POST", "/api/auth/login", { body, auth: false });
    keep(data.access_token, data.refresh_token, data.expires_in);
    return data.user;
  },

  verify: (email, code) =>
    request("POST", "/api/auth/verify", { body: { email, code }, auth: false }),
  /** A new code by mail; a 429 carries `retryAfter` (seconds). */
  resendCode: (email) =>
    request("POST", "/api/auth/verify/resend", { body: { email }, auth: false }),

  /** Revoke both tokens on the server (refreshing an expired access token first), and
   * forget them here whatever it answers. */
  async logout() {
    const refresh = session.refresh;
    try {
      if (session.access) {
        await request("POST", "/api/auth/logout", { body: { refresh_token: refresh } });
      }
    } catch {
      // Offline, or the tokens were refused already: they are forgotten all the same.
    } finally {
      forget();
    }
  },

  me: () => request("GET", "/api/users/me"),
  /** `{username?, display_name?, avatar_url?}`; null clears a display name or avatar. */
  updateMe: (fields) => request("PATCH", "/api/users/me", { body: fields }),

  /** Every other session of yours ends; this one goes on with the answer's tokens. */
  changePassword: (password, newPassword) =>
    replacing(async () => {
      const body = { password, new_password: newPassword };
      const data = await request("PUT", "/api/users/me/password", { body, retry: false });
      keep(data.access_token, data.refresh_token, data.expires_in);
      return data.user;
    }),

  /** Delete the account; its tokens are forgotten here without a "session ended". */
  deleteMe: (password) =>
    replacing(async () => {
      await request("DELETE", "/api/users/me", { body: { password }, retry: false });
      forget();
    }),

  searchUsers: (q, limit = 8) => request("GET", "/api/users", { query: { q, limit } }),

  // Rooms
  rooms: async (scope = "joined") =>
    (await request("GET", "/api/rooms", { query: { scope } })).rooms,
  room: (id) => request("GET", `/api/rooms/${enc(id)}`),
  createRoom: (fields) => request("POST", "/api/rooms", { body: fields }),
  joinRoom: (id, password) =>
    request("POST", `/api/rooms/${enc(id)}/join`, { body: password ? { password } : {} }),
  leaveRoom: (id) => request("POST", `/api/rooms/${enc(id)}/leave`),
  members: async (id) => (await request("GET", `/api/rooms/${enc(id)}/members`)).members,
  /** `{name?, description?, visibility?, password?}`; `password: null` removes it. */
  updateRoom: (id, fields) => request("PATCH", `/api/rooms/${enc(id)}`, { body: fields }),
  deleteRoom: (id) => request("DELETE", `/api/rooms/${enc(id)}`),
  invite: (id, userId) =>
    request("POST", `/api/rooms/${enc(id)}/members`, { body: { user_id: userId } }),
  removeMember: (id, userId) =>
    request("DELETE", `/api/rooms/${enc(id)}/members/${enc(userId)}`),
  /** `role`: admin | member, or owner to hand the room over (you become an admin). */
  setRole: (id, userId, role) =>
    request("PATCH", `/api/rooms/${enc(id)}/members/${enc(userId)}`, { body: { role } }),

  // Messages
  history: (id, { before, after, limit } = {}) =>
    request("GET", `/api/rooms/${enc(id)}/messages`, { query: { before, after, limit } }),
  message: (id, messageId) => request("GET", `/api/rooms/${enc(id)}/messages/${enc(messageId)}`),
  /** The author only; the socket's `edit_message` is the same rule. */
  editMessage: (id, messageId, content) =>
    request("PATCH", `/api/rooms/${enc(id)}/messages/${enc(messageId)}`, { body: { content } }),
  /** `{messages, has_more}`, newest first; `before` is the last seq shown. */
  search: (id, q, { before, limit } = {}) =>
    request("GET", `/api/rooms/${enc(id)}/messages/search`, { query: { q, before, limit } }),
  /** Move your read marker forward: `{room_id, last_read_seq, unread_count}`. */
  markRead: (id, seq) => request("POST", `/api/rooms/${enc(id)}/read`, { body: { seq } }),
  /** Members connected now and watching the room. */
  online: async (id) => (await request("GET", `/api/rooms/${enc(id)}/online`)).users,

  // Direct conversations (rooms of kind `direct`, listed by `rooms()` too)
  /** The one direct room of you and `username`: new or existing. */
  openConversation: (username) => request("POST", "/api/conversations", { body: { username } }),
};
