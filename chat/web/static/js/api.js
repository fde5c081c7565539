// The REST API and the session's tokens.
//
// Tokens live in localStorage so a reload stays signed in. The access token is
// refreshed shortly before it expires (and once more on a 401, in case a timer slept
// through it); when the refresh token itself is refused, the session ends.

const ACCESS = "chat.accessToken";
const REFRESH = "chat.refreshToken";

/** An error answered by the API: `{code, message, errors?}` and its HTTP status. */
export class ApiError extends Error {
  constructor(status, body = {}) {
    super(body.message || `The server answered ${status}.`);
    this.status = status;
    this.code = body.code || "error";
    this.errors = body.errors || null;
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

function keep(access, refresh) {
  localStorage.setItem(ACCESS, access);
  if (refresh) localStorage.setItem(REFRESH, refresh);
  scheduleRefresh();
}

function forget() {
  clearTimeout(refreshTimer);
  localStorage.removeItem(ACCESS);
  localStorage.removeItem(REFRESH);
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

/** Milliseconds until the token's `exp`, or null if it has none we can read. */
function msLeft(token) {
  try {
    const payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const { exp } = JSON.parse(atob(payload));
    return typeof exp === "number" ? exp * 1000 - Date.now() : null;
  } catch {
    return null;
  }
}

/** Refresh a minute before expiry (or at three quarters of a short lifetime). */
export function scheduleRefresh() {
  clearTimeout(refreshTimer);
  const left = session.access ? msLeft(session.access) : null;
  if (left === null) return;
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
      if (response.status === 401) endSession("Your session has expired. Sign in again.");
      throw new ApiError(response.status, body);
    }
    keep(body.access_token);
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

/** A JSON request; `auth: false` for the routes that need no token. */
export async function request(method, path, { body, query, auth = true } = {}) {
  let response = await send(method, path, { body, query, token: auth && session.access });
  if (response.status === 401 && auth && session.refresh) {
    await refreshAccess();
    response = await send(method, path, { body, query, token: session.access });
  }
  const data = await parse(response);
  if (!response.ok) {
    if (response.status === 401 && auth) endSession(data?.message);
    throw new ApiError(response.status, data || {});
  }
  return data;
}

const enc = encodeURIComponent;

// -- the routes -----------------------------------------------------------------

export const api = {
  // Accounts
  register: (fields) => request("POST", "/api/auth/register", { body: fields, auth: false }),

  async login(login, password) {
    const body = { password, [login.includes("@") ? "email" : "username"]: login };
    const data = await request("POST", "/api/auth/login", { body, auth: false });
    keep(data.access_token, data.refresh_token);
    return data.user;
  },

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
  // LATER(issue 6): updateMe (PATCH /api/users/me), changePassword (PUT
  // /api/users/me/password), deleteMe (DELETE /api/users/me), searchUsers (GET /api/users?q=).

  // Rooms
  rooms: async (scope = "joined") =>
    (await request("GET", "/api/rooms", { query: { scope } })).rooms,
  room: (id) => request("GET", `/api/rooms/${enc(id)}`),
  createRoom: (fields) => request("POST", "/api/rooms", { body: fields }),
  joinRoom: (id, password) =>
    request("POST", `/api/rooms/${enc(id)}/join`, { body: password ? { password } : {} }),
  leaveRoom: (id) => request("POST", `/api/rooms/${enc(id)}/leave`),
  members: async (id) => (await request("GET", `/api/rooms/${enc(id)}/members`)).members,
  // LATER(issue 6): updateRoom (PATCH), deleteRoom (DELETE), invite (POST members),
  // removeMember (DELETE members/<user_id>), setRole (PATCH members/<user_id>).

  // Messages
  history: (id, { before, after, limit } = {}) =>
    request("GET", `/api/rooms/${enc(id)}/messages`, { query: { before, after, limit } }),
  message: (id, messageId) => request("GET", `/api/rooms/${enc(id)}/messages/${enc(messageId)}`),
  // LATER(issue 7): editMessage (PATCH messages/<id>), search (GET messages/search?q=),
  // markRead (POST /api/rooms/<id>/read {seq}), conversations (GET/POST /api/conversations).
};
