// What the user can do once signed in, and how live events change what is known.
// Views call these actions and draw from the store's events; nothing here touches
// the DOM.

import { api, ApiError } from "./api.js";
import { Live, NotDelivered } from "./socket.js";
import { store } from "./store.js";

const PAGE = 50;
const LAST_ROOM = "chat.lastRoom";
let live = null;

// -- starting and stopping -------------------------------------------------------

export async function start(me) {
  store.me = me;
  live = new Live({
    state: (name) => store.setConnection(name),
    connected: ({ first }) => onConnected(first),
    ended: (message) => store.emit("session-ended", message),
    new_message: onNewMessage,
    message_deleted: onMessageDeleted,
    user_joined: (event) => onMembership(event, +1),
    user_left: (event) => onMembership(event, -1),
    // LATER(issue 7): message_edited -> timeline.put(message); typing -> typing
    // indicator with expiry; presence -> dots beside users; read -> read markers;
    // notification -> unread badge and the page title for rooms not open.
    // LATER(issue 6): room_updated -> store.putRoom; room_deleted / member_removed
    // (for me) -> store.dropRoom and close the room if it is open.
  });
  live.start();
  await loadRooms();
  const last = localStorage.getItem(LAST_ROOM);
  if (last && store.rooms.has(last)) await openRoom(last);
}

export function stop() {
  live?.stop();
  live = null;
  store.reset();
  store.emit("room-open", null);
}

export async function signOut() {
  stop();
  localStorage.removeItem(LAST_ROOM);
  await api.logout();
}

// -- rooms -----------------------------------------------------------------------

export async function loadRooms() {
  try {
    store.setRooms(await api.rooms("joined"));
    store.emit("rooms-error", null);
  } catch (error) {
    store.emit("rooms-error", error);
  }
}

/** Create a room and add it to the list; the caller opens it (after closing its dialog,
 * which would otherwise take the focus back from the composer). */
export async function createRoom(fields) {
  const room = await api.createRoom(fields);
  store.putRoom(room);
  return room;
}

/** Join over REST (so a password is checked there); the caller opens it. */
export async function joinRoom(roomId, password) {
  const room = await api.joinRoom(roomId, password);
  store.putRoom(room);
  return room;
}

export async function leaveRoom(roomId) {
  await api.leaveRoom(roomId);
  if (live?.connected) live.call("leave", { room_id: roomId }).catch(() => {});
  if (store.currentRoomId === roomId) closeRoom();
  store.dropRoom(roomId);
}

export function closeRoom() {
  const previous = store.currentRoomId;
  if (previous && live?.connected) live.call("leave", { room_id: previous }).catch(() => {});
  store.currentRoomId = null;
  localStorage.removeItem(LAST_ROOM);
  store.emit("room-open", null);
}

/** Show a room and watch it live. Only the open room is watched: the others learn of
 * new messages from `notification` events (issue 7), not by watching every room. */
export async function openRoom(roomId) {
  const previous = store.currentRoomId;
  if (previous && previous !== roomId && live?.connected) {
    live.call("leave", { room_id: previous }).catch(() => {});
  }
  store.currentRoomId = roomId;
  localStorage.setItem(LAST_ROOM, roomId);
  const room = store.rooms.get(roomId);
  if (room && room.unread_count) store.putRoom({ ...room, unread_count: 0 });
  // LATER(issue 7): tell the server this room is read (`read` {room_id, seq}).
  store.emit("room-open", roomId);
  await watch(roomId);
}

/** `join` the room's live channel and take what was missed since the highest seq held. */
async function watch(roomId) {
  const timeline = store.timeline(roomId);
  if (!live?.connected) {
    if (!timeline.loaded) await loadLatest(roomId); // over REST until the socket is up
    return;
  }
  const catchingUp = timeline.loaded && !timeline.empty;
  const payload = { room_id: roomId };
  if (catchingUp) payload.after_seq = timeline.maxSeq;
  try {
    const ack = await live.call("join", payload);
    if (store.currentRoomId !== roomId) return;
    store.putRoom(ack.room);
    timeline.putAll(ack.messages);
    if (!catchingUp) timeline.olderExist = ack.has_more;
    timeline.loaded = true;
    store.emit("timeline", { roomId, reason: "live" });
    if (catchingUp && ack.has_more) await catchUp(roomId);
    if (catchingUp) await refreshTail(roomId);
    store.emit("room-error", null);
  } catch (error) {
    if (error instanceof NotDelivered) return; // the reconnect will watch again
    store.emit("room-error", error);
  }
}

/** Fetch forward from the highest seq held until nothing more is there. */
async function catchUp(roomId) {
  const timeline = store.timeline(roomId);
  for (let more = true; more; ) {
    const page = await api.history(roomId, { after: timeline.maxSeq, limit: 100 });
    timeline.putAll(page.messages);
    more = page.has_more && page.messages.length > 0;
    store.emit("timeline", { roomId, reason: "live" });
  }
}

/** Re-read the newest page, so deletions made while away show too (a replay by
 * `after_seq` only brings messages newer than those held). */
async function refreshTail(roomId) {
  const timeline = store.timeline(roomId);
  const page = await api.history(roomId, { before: timeline.maxSeq + 1, limit: PAGE });
  if (timeline.putAll(page.messages)) store.emit("timeline", { roomId, reason: "live" });
}

async function loadLatest(roomId) {
  const timeline = store.timeline(roomId);
  try {
    const page = await api.history(roomId, { limit: PAGE });
    timeline.putAll(page.messages);
    timeline.olderExist = page.has_more;
    timeline.loaded = true;
    store.emit("timeline", { roomId, reason: "live" });
  } catch (error) {
    store.emit("room-error", error);
  }
}

/** Scroll-back: the page before the oldest message held. */
export async function loadOlder(roomId) {
  const timeline = store.timeline(roomId);
  if (!timeline.olderExist || timeline.loadingOlder || timeline.empty) return;
  timeline.loadingOlder = true;
  try {
    const page = await api.history(roomId, { before: timeline.minSeq, limit: PAGE });
    timeline.putAll(page.messages);
    timeline.olderExist = page.has_more;
    store.emit("timeline", { roomId, reason: "older" });
  } catch (error) {
    store.emit("room-error", error);
  } finally {
    timeline.loadingOlder = false;
  }
}

/** The message a reply quotes, fetched when it is older than the pages held. */
export async function fetchQuoted(roomId, messageId) {
  const timeline = store.timeline(roomId);
  if (timeline.byId(messageId) || timeline.extra.has(messageId)) return;
  timeline.extra.set(messageId, null); // asked once
  try {
    timeline.extra.set(messageId, await api.message(roomId, messageId));
  } catch {
    timeline.extra.set(messageId, { id: messageId, deleted: true, content: "", author: null });
  }
  store.emit("timeline", { roomId, reason: "quote" });
}

// -- sending ---------------------------------------------------------------------

/** A client_id that makes a retried send idempotent. crypto.randomUUID needs a secure
 * context; plain http on a LAN address is not one, so fall back to random bytes. */
export function newClientId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function send(roomId, content, replyTo = null) {
  const timeline = store.timeline(roomId);
  const pending = {
    client_id: newClientId(),
    content,
    reply_to: replyTo,
    status: "sending",
    error: null,
  };
  timeline.pending.set(pending.client_id, pending);
  store.emit("timeline", { roomId, reason: "sent" });
  deliver(roomId, pending);
}

/** Send (again) with the same client_id: the server stores it once whatever happens. */
async function deliver(roomId, pending) {
  const timeline = store.timeline(roomId);
  if (!live?.connected) {
    pending.status = "queued";
    store.emit("timeline", { roomId, reason: "pending" });
    return; // sent when the connection is back (onConnected)
  }
  pending.status = "sending";
  pending.error = null;
  store.emit("timeline", { roomId, reason: "pending" });
  const payload = { room_id: roomId, content: pending.content, client_id: pending.client_id };
  if (pending.reply_to) payload.reply_to = pending.reply_to;
  try {
    const ack = await live.call("message", payload);
    timeline.put(ack.message); // also clears the pending entry (same client_id)
    bumpRoom(ack.message);
  } catch (error) {
    if (!timeline.pending.has(pending.client_id)) return; // arrived live meanwhile
    if (error instanceof NotDelivered) {
      pending.status = "queued"; // retried on reconnect, or by the Retry button
    } else {
      pending.status = "failed";
      pending.error = error.message;
    }
  }
  store.emit("timeline", { roomId, reason: "pending" });
}

export function retry(roomId, clientId) {
  const pending = store.timeline(roomId).pending.get(clientId);
  if (pending) deliver(roomId, pending);
}

export function discard(roomId, clientId) {
  store.timeline(roomId).pending.delete(clientId);
  store.emit("timeline", { roomId, reason: "pending" });
}

export async function deleteMessage(roomId, message) {
  const timeline = store.timeline(roomId);
  timeline.errors.delete(message.seq);
  try {
    if (!live?.connected) throw new NotDelivered("Not connected: try again when back online.");
    const ack = await live.call("delete_message", { room_id: roomId, message_id: message.id });
    timeline.put(ack.message);
  } catch (error) {
    timeline.errors.set(message.seq, error.message);
  }
  store.emit("timeline", { roomId, reason: "live" });
}

// LATER(issue 7): editMessage(roomId, message, content) -> `edit_message`, and
// setTyping(roomId, typing) -> `typing` (throttled, with `typing: false` on send/blur).

// -- live events -----------------------------------------------------------------

async function onConnected(first) {
  if (!first) await loadRooms(); // counts and last messages may have moved while away
  const roomId = store.currentRoomId;
  if (roomId) await watch(roomId);
  // Then everything still waiting, in the order it was written.
  for (const [id, timeline] of store.timelines) {
    for (const pending of timeline.pending.values()) {
      // "sending" ones are in flight on this connection already; "failed" ones were
      // refused by the server and wait for the Retry button.
      if (pending.status === "queued") deliver(id, pending);
    }
  }
}

function onNewMessage(message) {
  bumpRoom(message);
  if (message.room_id !== store.currentRoomId) return;
  const timeline = store.timeline(message.room_id);
  const gap = timeline.loaded && !timeline.empty && message.seq > timeline.maxSeq + 1;
  const held = timeline.maxSeq;
  if (timeline.put(message)) store.emit("timeline", { roomId: message.room_id, reason: "live" });
  if (gap) {
    // Something was missed (a queue that dropped an emit): fetch what lies between.
    api
      .history(message.room_id, { after: held, limit: 100 })
      .then((page) => {
        if (timeline.putAll(page.messages)) {
          store.emit("timeline", { roomId: message.room_id, reason: "live" });
        }
      })
      .catch(() => {});
  }
}

function onMessageDeleted({ room_id: roomId, seq }) {
  const timeline = store.timelines.get(roomId);
  if (timeline?.markDeleted(seq)) store.emit("timeline", { roomId, reason: "live" });
  const room = store.rooms.get(roomId);
  if (room?.last_message?.seq === seq) {
    store.putRoom({ ...room, last_message: { ...room.last_message, deleted: true, content: "" } });
  }
}

function onMembership({ room_id: roomId, user }, delta) {
  const room = store.rooms.get(roomId);
  if (user.id === store.me?.id) {
    if (delta < 0) {
      // Left from another tab or device.
      if (store.currentRoomId === roomId) closeRoom();
      store.dropRoom(roomId);
    }
    return;
  }
  if (room) store.putRoom({ ...room, member_count: Math.max(0, (room.member_count ?? 0) + delta) });
  const name = user.display_name || user.username;
  store.emit("notice", { roomId, text: `${name} ${delta > 0 ? "joined" : "left"} the room` });
}

/** A room's last message, and its unread count when it is not the open room. */
function bumpRoom(message) {
  const room = store.rooms.get(message.room_id);
  if (!room) return;
  const newer = !room.last_message || message.seq >= room.last_message.seq;
  if (!newer) return;
  const unread =
    message.room_id === store.currentRoomId || message.author?.id === store.me?.id
      ? 0
      : (room.unread_count ?? 0) + (message.seq > (room.last_message?.seq ?? 0) ? 1 : 0);
  store.putRoom({ ...room, last_message: message, unread_count: unread });
}

export { ApiError };
