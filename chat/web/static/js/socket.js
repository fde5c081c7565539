// The live connection: Socket.IO on the /chat namespace.
//
// Socket.IO's manager reconnects by itself after a network drop or a server restart;
// this module adds what a chat needs on top: the current token at every (re)connect,
// one refresh-and-retry when the server refuses a token, an immediate retry when the
// browser comes back online, and acknowledgements as promises with a deadline.
// What to do once connected again (replay with `after_seq`, resend pending messages)
// is the app's: it listens for "connected".

import { ApiError, refreshAccess, session } from "./api.js";

const NAMESPACE = "/chat";
const ACK_TIMEOUT = 10_000;

/** An event the server did not acknowledge in time, or could not be sent. */
export class NotDelivered extends Error {
  constructor(message = "Not connected.") {
    super(message);
    this.code = "not_delivered";
  }
}

export const available = () => typeof window.io === "function";

export class Live {
  /**
   * @param {object} handlers server event name -> function(payload), plus
   *   `connected({first})`, `disconnected(reason)`, `state(name)` and `ended(message)`.
   */
  constructor(handlers) {
    this.handlers = handlers;
    this.socket = null;
    this.everConnected = false;
    this.refusals = 0;
    this.onOnline = () => this.#online();
    this.onOffline = () => this.#offline();
  }

  start() {
    if (!available()) {
      this.handlers.state?.("unavailable");
      return;
    }
    this.socket = window.io(NAMESPACE, {
      // A function, so each reconnect presents the token current at that moment.
      auth: (cb) => cb({ token: session.access }),
      reconnectionDelay: 500,
      reconnectionDelayMax: 5000,
    });
    const socket = this.socket;
    socket.on("connect", () => {
      this.refusals = 0;
      const first = !this.everConnected;
      this.everConnected = true;
      this.handlers.state?.("online");
      this.handlers.connected?.({ first });
    });
    socket.on("disconnect", (reason) => {
      this.handlers.state?.(navigator.onLine ? "reconnecting" : "offline");
      this.handlers.disconnected?.(reason);
      // The server closed us (a revoked or replaced token): it will not reconnect by
      // itself, so refresh the token and try again.
      if (reason === "io server disconnect") this.#reauthenticate();
    });
    socket.on("connect_error", (error) => {
      if (error?.message === "unauthorized") this.#reauthenticate();
      else this.handlers.state?.(navigator.onLine ? "reconnecting" : "offline");
    });
    for (const [event, handler] of Object.entries(this.handlers)) {
      if (!LOCAL_EVENTS.has(event)) socket.on(event, handler);
    }
    window.addEventListener("online", this.onOnline);
    window.addEventListener("offline", this.onOffline);
    this.handlers.state?.("connecting");
  }

  stop() {
    window.removeEventListener("online", this.onOnline);
    window.removeEventListener("offline", this.onOffline);
    this.socket?.disconnect();
    this.socket?.off();
    this.socket = null;
    this.everConnected = false;
  }

  get connected() {
    return Boolean(this.socket?.connected);
  }

  /** Emit and wait for the ack: resolves `{ok: true, ...}`, rejects ApiError/NotDelivered. */
  call(event, payload, timeout = ACK_TIMEOUT) {
    return new Promise((resolve, reject) => {
      if (!this.connected) {
        reject(new NotDelivered());
        return;
      }
      this.socket.timeout(timeout).emit(event, payload, (timedOut, ack) => {
        if (timedOut) reject(new NotDelivered("The server did not answer in time."));
        else if (ack?.ok) resolve(ack);
        else reject(new ApiError(STATUS[ack?.error?.code] ?? 400, ack?.error ?? {}));
      });
    });
  }

  /** A refused token: refresh once and reconnect; a second refusal ends the session. */
  async #reauthenticate() {
    this.refusals += 1;
    if (this.refusals > 2) {
      this.handlers.ended?.("The server refused this session. Sign in again.");
      return;
    }
    try {
      await refreshAccess();
      this.socket?.connect();
    } catch (error) {
      if (!(error instanceof ApiError) || error.status === 0) {
        setTimeout(() => this.#reauthenticate(), 3000); // offline: later
        this.refusals -= 1;
      }
      // A refused refresh has ended the session (api.js tells the app).
    }
  }

  /** Back online: reconnect now rather than at the end of the back-off. */
  #online() {
    if (this.socket && !this.socket.connected) {
      this.handlers.state?.("reconnecting");
      this.socket.connect(); // a no-op while the manager's own retry is due
    }
  }

  /** The browser lost the network: drop the transport so nothing waits on a dead
   * connection until the heartbeat notices; the manager retries until it is back. */
  #offline() {
    this.handlers.state?.("offline");
    this.socket?.io.engine?.close();
  }
}

// The ack's error codes as the HTTP statuses the REST twin would answer.
const STATUS = {
  invalid: 422,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  rate_limited: 429,
  unavailable: 503,
};

const LOCAL_EVENTS = new Set(["connected", "disconnected", "state", "ended"]);
