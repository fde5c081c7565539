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
  store.setMe(me);
  live = new Live({
    state: (name) => store.setConnection(name),
    connected: ({ first }) => onConnected(first),
    ended: (message) => store.emit("session-ended", message),
    new_message: onNewMessage,
    message_deleted: onMessageDeleted,
    user_joined: (event) => onMembership(event, +1),
    user_left: (event) => onMembership(event, -1),
    member_removed: onMemberRemoved,
    room_updated: onRoomUpdated,
    room_deleted: ({ room_id: roomId }) => roomGone(roomId, (name) => `${name} was deleted.`),
    // LATER(issue 7): message_edited -> timeline.put(message); typing -> typing
    // indicator with expiry; presence -> dots beside users; read -> read markers;
    // notification -> unread badge and the page title for rooms not open.
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
    const open = store.currentRoom;
    store.setRooms(await api.rooms("joined"));
    store.emit("rooms-error", null);
    // Removed or deleted while this page was away (events it could not hear).
    if (open && !store.rooms.has(open.id)) {
      store.rooms.set(open.id, open);
      roomGone(open.id, (name) => `${name} is no longer available to you.`);
    }
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
  if (store.currentRoomId === roomId) closeRoom({ tell: false });
  store.dropRoom(roomId);
}

/** Stop showing the open room; `tell: false` when the server stopped our watching
 * already (we left, were removed, or the room is gone). */
export function closeRoom({ tell = true } = {}) {
  const previous = store.currentRoomId;
  if (tell && previous && live?.connected) {
    live.call("leave", { room_id: previous }).catch(() => {});
  }
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
    loadMembers(roomId); // roles may have changed while away: they announce nothing
    if (catchingUp && ack.has_more) await catchUp(roomId);
    if (catchingUp) await refreshTail(roomId);
    store.emit("room-error", null);
  } catch (error) {
    if (error instanceof NotDelivered) return; // the reconnect will watch again
    if (!goneIfNotFound(roomId, error)) store.emit("room-error", error);
  }
}

/** A room the server no longer shows us (deleted while we were not watching it, and
 * so did not hear `room_deleted`): off the list, with a notice. */
function goneIfNotFound(roomId, error) {
  if (error?.status !== 404) return false;
  roomGone(roomId, (name) => `${name} is no longer available: it was deleted.`);
  return true;
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
    if (!goneIfNotFound(roomId, error)) store.emit("room-error", error);
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

// -- members and moderation ---------------------------------------------------------

/** Read the room's members (with roles); the views draw from the "members" event. */
export async function loadMembers(roomId) {
  try {
    const members = await api.members(roomId);
    if (!store.rooms.has(roomId)) return; // gone meanwhile
    store.setMembers(roomId, members);
    store.emit("members-error", { roomId, error: null });
  } catch (error) {
    if (!goneIfNotFound(roomId, error)) store.emit("members-error", { roomId, error });
  }
}

/** Owners and admins add someone (the only way into a private room). */
export async function invite(roomId, userId) {
  const member = await api.invite(roomId, userId);
  store.putMember(roomId, member);
  return member;
}

/** A refusal may mean the list is stale (a role changed: that announces nothing), so
 * it is read again; the error still goes to the caller, to show beside the button. */
export async function removeMember(roomId, userId) {
  try {
    await api.removeMember(roomId, userId);
    store.dropMember(roomId, userId);
  } catch (error) {
    loadMembers(roomId);
    throw error;
  }
}

/** The owner sets a role; `owner` hands the room over, and we become an admin. */
export async function setRole(roomId, userId, role) {
  try {
    const member = await api.setRole(roomId, userId, role);
    if (role === "owner") {
      const room = store.rooms.get(roomId);
      if (room) store.putRoom({ ...room, owner_id: userId });
      if (store.members.get(roomId)?.has(store.me.id)) {
        store.putMember(roomId, { id: store.me.id, role: "admin" });
      }
    }
    store.putMember(roomId, member);
    if (role === "owner") {
      // Said here as well as on `room_updated`, which finds nothing new if it comes later.
      store.emit("notice", { roomId, text: `${displayName(member)} is now the owner of this room` });
    }
    return member;
  } catch (error) {
    loadMembers(roomId);
    throw error;
  }
}

export async function updateRoom(roomId, fields) {
  const room = await api.updateRoom(roomId, fields);
  store.putRoom(room);
  return room;
}

export async function deleteRoom(roomId) {
  await api.deleteRoom(roomId);
  roomGone(roomId, (name) => `${name} was deleted.`);
}

/** Take a room off the list (closing it if open) and say why: `why(name)`. */
function roomGone(roomId, why) {
  const room = store.rooms.get(roomId);
  if (!room) return; // already gone (the event and the answer both tell)
  if (store.currentRoomId === roomId) closeRoom({ tell: false });
  store.dropRoom(roomId);
  store.emit("app-notice", why(room.name ?? "The conversation"));
}

// -- your account ----------------------------------------------------------------

export async function updateProfile(fields) {
  const me = await api.updateMe(fields);
  store.setMe(me);
  for (const roomId of store.members.keys()) {
    if (store.members.get(roomId).has(me.id)) store.putMember(roomId, publicUser(me));
  }
  return me;
}

/** The other sessions end; this one carries on with new tokens (api.js keeps them,
 * and the socket, closed by the server with the old session, reconnects with them). */
export async function changePassword(password, newPassword) {
  store.setMe(await api.changePassword(password, newPassword));
}

export async function deleteAccount(password) {
  await api.deleteMe(password);
  stop();
  localStorage.removeItem(LAST_ROOM);
}

function publicUser({ id, username, display_name, avatar_url }) {
  return { id, username, display_name, avatar_url };
}

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
      if (store.currentRoomId === roomId) closeRoom({ tell: false });
      store.dropRoom(roomId);
    } else if (!room) {
      // Invited: only invites reach a user's own sockets before they watch the room.
      addInvitedRoom(roomId);
    }
    return;
  }
  if (!room) return;
  if (store.members.has(roomId)) {
    if (delta > 0) store.putMember(roomId, { role: "member", ...user });
    else store.dropMember(roomId, user.id);
  } else {
    store.putRoom({ ...room, member_count: Math.max(0, (room.member_count ?? 0) + delta) });
  }
  const name = displayName(user);
  store.emit("notice", { roomId, text: `${name} ${delta > 0 ? "joined" : "left"} the room` });
}

async function addInvitedRoom(roomId) {
  try {
    const room = await api.room(roomId);
    if (store.rooms.has(roomId)) return;
    store.putRoom(room);
    store.emit("app-notice", `You were added to ${room.name ?? "a conversation"}.`);
  } catch {
    // Removed again at once, or offline: the next list (on reconnect) will tell.
  }
}

function onMemberRemoved({ room_id: roomId, user }) {
  if (user.id === store.me?.id) {
    roomGone(roomId, (name) => `You were removed from ${name}.`);
    return;
  }
  const room = store.rooms.get(roomId);
  if (!room) return;
  if (store.members.has(roomId)) store.dropMember(roomId, user.id);
  else store.putRoom({ ...room, member_count: Math.max(0, (room.member_count ?? 1) - 1) });
  store.emit("notice", { roomId, text: `${displayName(user)} was removed from the room` });
}

/** Settings or the owner changed. A new owner means roles moved: the new owner's, and
 * the old one's, who stays on as an admin after a handover (one who left is gone). */
function onRoomUpdated({ room_id: roomId, room }) {
  const known = store.rooms.get(roomId);
  if (!known) return;
  store.putRoom(room);
  const members = store.members.get(roomId);
  if (room.owner_id !== known.owner_id) {
    if (members?.has(known.owner_id)) store.putMember(roomId, { id: known.owner_id, role: "admin" });
    if (members?.has(room.owner_id)) store.putMember(roomId, { id: room.owner_id, role: "owner" });
    const owner = members?.get(room.owner_id);
    const who = room.owner_id === store.me?.id ? "You are" : owner ? `${displayName(owner)} is` : null;
    if (who) store.emit("notice", { roomId, text: `${who} now the owner of this room` });
  } else if (room.name !== undefined && room.name !== known.name) {
    store.emit("notice", { roomId, text: `The room is now called ${room.name}` });
  }
}

function displayName(user) {
  return user.display_name || user.username;
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
