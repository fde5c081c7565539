// What the user can do once signed in, and how live events change what is known.
// Views call these actions and draw from the store's events; nothing here touches
// the DOM.

import { api, ApiError } from "./api.js";
import { Live, NotDelivered } from "./socket.js";
import { stamp, store } from "./store.js";

const PAGE = 50;
const LAST_ROOM = "chat.lastRoom";
// The server ends a `typing: true` after TYPING_TIMEOUT (5 s by default) without a
// renewal: renew well within it while the person keeps typing.
const TYPING_RENEW = 3000;
const TYPING_TIMEOUT = 5000;
// A `typing: true` whose `false` never comes (its server process died) lapses here.
const TYPING_LAPSE = 12_000;
const READ_DELAY = 250; // ms: reads of a burst of messages go out as one
const JUMP_PAGES = 5; // pages of 100 fetched at most to bring a search result into view
let live = null;
let typingState = null; // {roomId, lastSent} while we are telling a room we type
let readTimer = null;
const fetchingRooms = new Set(); // rooms learnt of by a notification, being read

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
    member_updated: onMemberUpdated,
    room_updated: onRoomUpdated,
    room_deleted: ({ room_id: roomId }) => roomGone(roomId, (name) => `${name} was deleted.`),
    message_edited: onMessageEdited,
    typing: onTyping,
    presence: ({ user_id: userId, online, last_seen: lastSeen }) =>
      onPresence(userId, online, lastSeen),
    read: onRead,
    notification: onNotification,
  });
  store.setPresence(me.id, true, me.last_seen);
  window.addEventListener("focus", readWhenBack);
  document.addEventListener("visibilitychange", readWhenBack);
  live.start();
  await loadRooms();
  const last = localStorage.getItem(LAST_ROOM);
  if (last && store.rooms.has(last)) await openRoom(last);
}

export function stop() {
  window.removeEventListener("focus", readWhenBack);
  document.removeEventListener("visibilitychange", readWhenBack);
  clearTimeout(readTimer);
  typingState = null;
  fetchingRooms.clear();
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
  if (previous) stopWatching(previous);
  store.currentRoomId = null;
  localStorage.removeItem(LAST_ROOM);
  store.emit("room-open", null);
}

/** Show a room and watch it live. Only the open room is watched: the others learn of
 * new messages from `notification` events, not by watching every room. */
export async function openRoom(roomId) {
  const previous = store.currentRoomId;
  if (previous && previous !== roomId) {
    if (live?.connected) live.call("leave", { room_id: previous }).catch(() => {});
    stopWatching(previous);
  }
  store.currentRoomId = roomId;
  localStorage.setItem(LAST_ROOM, roomId);
  const room = store.rooms.get(roomId);
  if (room && room.unread_count && reading()) store.putRoom({ ...room, unread_count: 0 });
  store.emit("room-open", roomId);
  await watch(roomId);
}

/** What the open room's live events told us that will not be corrected once we stop
 * watching it: who is typing there, who is here, our own typing notice. */
function stopWatching(roomId) {
  if (typingState?.roomId === roomId) typingState = null; // `leave` ends it on the server
  store.clearTyping(roomId);
  store.here.delete(roomId);
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
    scheduleRead(roomId);
    store.emit("timeline", { roomId, reason: "live" });
    loadMembers(roomId); // roles may have changed while away: they announce nothing
    loadHere(roomId);
    if (catchingUp && ack.has_more) await catchUp(roomId);
    if (catchingUp) await refreshHeld(roomId);
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
  scheduleRead(roomId);
}

/** Re-read every message held, so that edits and deletions made while we were not
 * watching (offline, or in another room) show too: a replay by `after_seq` only brings
 * messages newer than those held, and the API has no "changed since". Pages of 100,
 * oldest first; what was fetched before a live event is never put over it (`isStale`). */
async function refreshHeld(roomId) {
  const timeline = store.timeline(roomId);
  const until = timeline.maxSeq;
  let after = timeline.minSeq - 1;
  while (after < until && store.currentRoomId === roomId) {
    const page = await api.history(roomId, { after, limit: 100 });
    if (!page.messages.length) break;
    if (timeline.putAll(page.messages)) store.emit("timeline", { roomId, reason: "live" });
    after = page.messages[page.messages.length - 1].seq;
    if (!page.has_more) break;
  }
  syncLastMessage(roomId);
}

/** The list's preview follows the newest message held (an edit or deletion of it
 * learnt by re-reading). */
function syncLastMessage(roomId) {
  const room = store.rooms.get(roomId);
  const last = room?.last_message && store.timelines.get(roomId)?.bySeq.get(room.last_message.seq);
  if (last && stamp(last) !== stamp(room.last_message)) store.putRoom({ ...room, last_message: last });
}

async function loadLatest(roomId) {
  const timeline = store.timeline(roomId);
  try {
    const page = await api.history(roomId, { limit: PAGE });
    timeline.putAll(page.messages);
    timeline.olderExist = page.has_more;
    timeline.loaded = true;
    store.emit("timeline", { roomId, reason: "live" });
    scheduleRead(roomId);
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

/** Bring the message of `seq` into the timeline (fetching the older pages between it
 * and what is held, up to JUMP_PAGES of them); true when it is there. */
export async function bringIntoView(roomId, seq) {
  const timeline = store.timeline(roomId);
  for (let pages = 0; !timeline.bySeq.has(seq); pages += 1) {
    if (seq > timeline.maxSeq || !timeline.olderExist || pages >= JUMP_PAGES) return false;
    const page = await api.history(roomId, { before: timeline.minSeq, limit: 100 });
    if (store.currentRoomId !== roomId) return false;
    timeline.putAll(page.messages);
    timeline.olderExist = page.has_more;
    store.emit("timeline", { roomId, reason: "older" });
  }
  return true;
}

/** A few messages around `seq`, for a search result too far back to bring into view. */
export async function around(roomId, seq, span = 2) {
  const page = await api.history(roomId, { before: seq + span + 1, limit: 2 * span + 1 });
  return page.messages;
}

/** Search the room's history: `{messages, has_more}`, newest first. */
export function search(roomId, q, before) {
  return api.search(roomId, q, { before, limit: 20 });
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

/** Change your message's text; throws the refusal for the editor to show. Over the
 * socket when connected (the same rule as REST), else over REST. */
export async function editMessage(roomId, message, content) {
  const edited = live?.connected
    ? (await live.call("edit_message", { room_id: roomId, message_id: message.id, content }))
        .message
    : await api.editMessage(roomId, message.id, content);
  const timeline = store.timeline(roomId);
  timeline.errors.delete(edited.seq);
  if (timeline.put(edited)) store.emit("timeline", { roomId, reason: "live" });
  onLastMessageChanged(edited);
  return edited;
}

/** Tell the room whether we are typing. `true` goes out at most every TYPING_RENEW ms
 * (each one renews the server's expiry); `false` only when a `true` may still stand. */
export function setTyping(roomId, typing) {
  if (!roomId || !live?.connected) return;
  const now = Date.now();
  const standing =
    typingState?.roomId === roomId && now - typingState.lastSent < TYPING_TIMEOUT;
  if (typing) {
    if (standing && now - typingState.lastSent < TYPING_RENEW) return;
    typingState = { roomId, lastSent: now };
  } else {
    if (typingState?.roomId === roomId) typingState = null;
    if (!standing) return;
  }
  live.call("typing", { room_id: roomId, typing }).catch(() => {});
}

// -- read markers -----------------------------------------------------------------

/** Is the person looking at the page (so the open room's messages count as read)? */
function reading() {
  return document.visibilityState === "visible" && document.hasFocus();
}

/** The window came back into view: what arrived in the open room is read now. */
function readWhenBack() {
  if (store.currentRoomId && reading()) scheduleRead(store.currentRoomId);
}

/** Mark the open room read up to the newest message held, soon (one request for a
 * burst), if the person is looking at it. */
function scheduleRead(roomId) {
  if (roomId !== store.currentRoomId || !reading()) return;
  const room = store.rooms.get(roomId);
  if (room?.unread_count) store.putRoom({ ...room, unread_count: 0 });
  clearTimeout(readTimer);
  readTimer = setTimeout(() => markRead(roomId), READ_DELAY);
}

async function markRead(roomId) {
  const seq = store.timelines.get(roomId)?.maxSeq ?? 0;
  const room = store.rooms.get(roomId);
  if (!room || seq <= 0 || seq <= (room.last_read_seq ?? 0)) return;
  try {
    const state = live?.connected
      ? await live.call("read", { room_id: roomId, seq })
      : await api.markRead(roomId, seq);
    const now = store.rooms.get(roomId);
    if (!now) return;
    const marker = Math.max(now.last_read_seq ?? 0, state.last_read_seq);
    // More may have come meanwhile: they are read too if the room is still in view.
    const unread = roomId === store.currentRoomId && reading() ? 0 : state.unread_count;
    store.putRoom({ ...now, last_read_seq: marker, unread_count: unread });
    if (marker < (store.timelines.get(roomId)?.maxSeq ?? 0)) scheduleRead(roomId);
  } catch {
    // Offline or refused: the badge returns with the next listing; the next read retries.
  }
}

// -- direct conversations ----------------------------------------------------------

/** Start (or find) the direct conversation with `username` and list it; the caller
 * opens it. */
export async function openConversation(username) {
  const room = await api.openConversation(username);
  store.putRoom(room);
  return room;
}

// -- who is here -------------------------------------------------------------------

/** Who is watching the room now (`online`), for the members panel. */
export async function loadHere(roomId) {
  try {
    const users = live?.connected
      ? (await live.call("online", { room_id: roomId })).users
      : await api.online(roomId);
    if (store.currentRoomId !== roomId) return;
    store.learnPresence(users);
    store.setHere(roomId, users.map((user) => user.id));
  } catch {
    // Not essential: the dots still say who is online.
  }
}

// -- members and moderation ---------------------------------------------------------

/** Read the room's members (with roles); the views draw from the "members" event. */
export async function loadMembers(roomId) {
  try {
    const members = await api.members(roomId);
    if (!store.rooms.has(roomId)) return; // gone meanwhile
    store.setMembers(roomId, members); // and their presence
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
  if (message.author) store.setTyping(message.room_id, message.author, false);
  scheduleRead(message.room_id);
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

function onMessageEdited(message) {
  const timeline = store.timelines.get(message.room_id);
  if (timeline?.bySeq.has(message.seq) && timeline.put(message)) {
    store.emit("timeline", { roomId: message.room_id, reason: "live" });
  } else if (timeline?.extra.has(message.id)) {
    timeline.extra.set(message.id, message); // a quoted message older than the pages held
    store.emit("timeline", { roomId: message.room_id, reason: "quote" });
  }
  onLastMessageChanged(message);
}

/** An edit of a room's newest message changes its preview in the list. */
function onLastMessageChanged(message) {
  const room = store.rooms.get(message.room_id);
  if (room?.last_message?.seq === message.seq) store.putRoom({ ...room, last_message: message });
}

function onTyping({ room_id: roomId, user, typing }) {
  if (!user || user.id === store.me?.id || roomId !== store.currentRoomId) return;
  store.setTyping(roomId, user, typing, TYPING_LAPSE);
}

/** Someone came online or went offline: their dots, their direct conversation's
 * header, and who is in the open room. */
function onPresence(userId, online, lastSeen) {
  store.setPresence(userId, online, lastSeen);
  for (const room of store.rooms.values()) {
    if (room.participant?.id === userId) {
      store.putRoom({ ...room, participant: { ...room.participant, online, last_seen: lastSeen } });
    }
  }
  const roomId = store.currentRoomId;
  if (!roomId) return;
  if (!online) {
    // Offline: not here any more, and no longer typing (the server says so too).
    const here = store.here.get(roomId);
    if (here?.delete(userId)) store.emit("here", roomId);
  } else if (store.members.get(roomId)?.has(userId)) {
    loadHere(roomId); // they may have come straight into this room
  }
}

/** A read marker moved. Ours (from another tab or device): the badge there goes too. */
function onRead({ room_id: roomId, user_id: userId, seq }) {
  if (userId !== store.me?.id) return;
  const room = store.rooms.get(roomId);
  if (!room || seq <= (room.last_read_seq ?? 0)) return;
  const lastSeq = room.last_message?.seq ?? 0;
  const inView = roomId === store.currentRoomId && reading(); // read here anyway
  if (seq >= lastSeq || inView) {
    store.putRoom({ ...room, last_read_seq: seq, unread_count: seq >= lastSeq ? 0 : room.unread_count });
  } else {
    // Read part of the way: the server counts the rest (tombstones are not unread).
    store.putRoom({ ...room, last_read_seq: seq });
    api.room(roomId).then(
      (fresh) => {
        const now = store.rooms.get(roomId);
        if (now && (fresh.last_read_seq ?? 0) >= (now.last_read_seq ?? 0)) store.putRoom(fresh);
      },
      () => {},
    );
  }
}

/** A message in a room we are not watching (a direct message included): its badge,
 * its preview, the page title. A room we do not know yet (someone opened a direct
 * conversation with us) is read and listed. */
function onNotification({ room_id: roomId, message }) {
  if (store.rooms.has(roomId)) {
    bumpRoom(message);
    if (roomId === store.currentRoomId) scheduleRead(roomId);
    return;
  }
  if (fetchingRooms.has(roomId)) return; // its listing will count this one too
  fetchingRooms.add(roomId);
  api
    .room(roomId)
    .then((room) => {
      if (fetchingRooms.has(roomId) && !store.rooms.has(roomId)) store.putRoom(room);
    })
    .catch(() => {})
    .finally(() => fetchingRooms.delete(roomId));
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
  if (delta < 0 && store.here.get(roomId)?.delete(user.id)) store.emit("here", roomId);
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

/** The owner made someone an admin or a plain member: their role in the list, and, if
 * it is ours, what we may do (the controls follow `roleOf`). */
function onMemberUpdated({ room_id: roomId, user, role }) {
  if (!store.rooms.has(roomId)) return;
  const mine = user.id === store.me?.id;
  if (store.members.has(roomId)) store.putMember(roomId, { ...user, role });
  else if (mine && roomId === store.currentRoomId) loadMembers(roomId);
  const who = mine ? "You are" : `${displayName(user)} is`;
  const what = role === "admin" ? "an admin" : role === "owner" ? "the owner" : "a member";
  store.emit("notice", { roomId, text: `${who} now ${what} of this room` });
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

/** A room's last message, and its unread count: none for your own message (posting
 * moves your marker) or in the room you are looking at; else one more. */
function bumpRoom(message) {
  const room = store.rooms.get(message.room_id);
  if (!room) return;
  const newer = !room.last_message || message.seq >= room.last_message.seq;
  if (!newer) return;
  const fresh = message.seq > (room.last_message?.seq ?? 0);
  const changes = { last_message: message };
  if (message.author?.id === store.me?.id) {
    changes.unread_count = 0;
    changes.last_read_seq = Math.max(room.last_read_seq ?? 0, message.seq);
  } else if (message.room_id === store.currentRoomId && reading()) {
    changes.unread_count = 0;
  } else if (fresh && message.seq > (room.last_read_seq ?? 0)) {
    changes.unread_count = (room.unread_count ?? 0) + 1;
  }
  store.putRoom({ ...room, ...changes });
}

export { ApiError };
