// What the client knows: the signed-in user, the rooms (direct conversations among
// them, kind `direct`), each room's messages, the members of the rooms whose member
// list was read, who is online, who is watching the open room, and who is typing there.
//
// Messages are kept by seq per room. Whatever way a message arrives (the join
// acknowledgement, a live event, a history page, a replay after a reconnect), putting
// it again changes nothing, so there is never a duplicate; a gap shows as a jump in
// seq and is filled by fetching after the highest seq held.

/** A tiny event hub: views subscribe to what they draw. */
class Emitter {
  #handlers = new Map();

  on(event, fn) {
    if (!this.#handlers.has(event)) this.#handlers.set(event, new Set());
    this.#handlers.get(event).add(fn);
    return () => this.#handlers.get(event).delete(fn);
  }

  emit(event, detail) {
    for (const fn of this.#handlers.get(event) ?? []) fn(detail);
  }
}

/** One room's messages, keyed by seq, and the sends not yet acknowledged. */
export class Timeline {
  constructor(roomId) {
    this.roomId = roomId;
    this.bySeq = new Map();
    this.seqById = new Map();
    this.pending = new Map(); // client_id -> {client_id, content, reply_to, status, error}
    this.olderExist = true; // until a page says otherwise
    this.loaded = false; // has the first page arrived?
    this.maxSeq = 0;
    this.minSeq = Infinity;
    this.extra = new Map(); // id -> message fetched only to quote a reply
    this.errors = new Map(); // seq -> error text shown beside that message
  }

  /** Put a message; true when it is new or changed. */
  put(message) {
    const known = this.bySeq.get(message.seq);
    if (message.client_id) this.pending.delete(message.client_id);
    if (known && (stamp(known) === stamp(message) || isStale(message, known))) return false;
    this.bySeq.set(message.seq, message);
    this.seqById.set(message.id, message.seq);
    this.extra.delete(message.id);
    this.maxSeq = Math.max(this.maxSeq, message.seq);
    this.minSeq = Math.min(this.minSeq, message.seq);
    return true;
  }

  putAll(messages) {
    let changed = false;
    for (const message of messages) changed = this.put(message) || changed;
    return changed;
  }

  /** `message_deleted`: the message becomes a tombstone where it stood. */
  markDeleted(seq) {
    const known = this.bySeq.get(seq);
    if (!known || known.deleted) return false;
    this.bySeq.set(seq, { ...known, deleted: true, content: "" });
    return true;
  }

  byId(id) {
    const seq = this.seqById.get(id);
    return seq === undefined ? this.extra.get(id) : this.bySeq.get(seq);
  }

  /** The newest message that is yours and not deleted (what ArrowUp edits). */
  lastOwn(userId) {
    let found = null;
    for (const message of this.bySeq.values()) {
      if (message.author?.id === userId && !message.deleted && (!found || message.seq > found.seq)) {
        found = message;
      }
    }
    return found;
  }

  /** Messages in seq order. */
  sorted() {
    return [...this.bySeq.values()].sort((a, b) => a.seq - b.seq);
  }

  get empty() {
    return this.bySeq.size === 0;
  }
}

/** A copy older than the one held: a page fetched before a delete (or edit) landed. */
function isStale(message, known) {
  if (known.deleted && !message.deleted) return true;
  return Boolean(known.edited_at && (!message.edited_at || message.edited_at < known.edited_at));
}

/** What makes a message look different: used to skip redrawing the same thing. */
export function stamp(message) {
  return [message.deleted, message.edited_at, message.content, message.reply_to].join("\u0000");
}

class Store extends Emitter {
  me = null;
  rooms = new Map(); // id -> room as the API lists it
  timelines = new Map(); // room id -> Timeline
  members = new Map(); // room id -> Map(user id -> member with `role`), once read
  presence = new Map(); // user id -> {online, last_seen}, as last heard
  here = new Map(); // room id -> Set of user ids watching it now (the `online` answer)
  typing = new Map(); // room id -> Map(user id -> {user, timer})
  currentRoomId = null;
  connection = "idle"; // idle | connecting | online | reconnecting | offline | unavailable

  timeline(roomId) {
    if (!this.timelines.has(roomId)) this.timelines.set(roomId, new Timeline(roomId));
    return this.timelines.get(roomId);
  }

  get currentRoom() {
    return this.currentRoomId ? this.rooms.get(this.currentRoomId) : null;
  }

  setRooms(rooms) {
    this.rooms = new Map(rooms.map((room) => [room.id, room]));
    this.learnPresence(rooms.map((room) => room.participant));
    this.emit("rooms");
  }

  putRoom(room) {
    const known = this.rooms.get(room.id) ?? {};
    this.rooms.set(room.id, { ...known, ...room });
    if (room.participant) this.learnPresence([room.participant]);
    this.emit("rooms");
  }

  dropRoom(roomId) {
    this.rooms.delete(roomId);
    this.timelines.delete(roomId);
    this.members.delete(roomId);
    this.emit("rooms");
  }

  setMe(me) {
    this.me = { ...this.me, ...me };
    this.emit("me", this.me);
  }

  // -- members -------------------------------------------------------------------

  setMembers(roomId, members) {
    this.members.set(roomId, new Map(members.map((member) => [member.id, member])));
    this.learnPresence(members);
    this.#countMembers(roomId);
  }

  /** Add or change one member, where the room's list has been read. */
  putMember(roomId, member) {
    const members = this.members.get(roomId);
    if (!members) return;
    members.set(member.id, { ...members.get(member.id), ...member });
    this.#countMembers(roomId);
  }

  dropMember(roomId, userId) {
    const members = this.members.get(roomId);
    if (!members?.delete(userId)) return;
    this.#countMembers(roomId);
  }

  /** A list that has been read is the count; the room's own count follows it. */
  #countMembers(roomId) {
    const room = this.rooms.get(roomId);
    const count = this.members.get(roomId)?.size;
    if (room && count !== undefined && room.member_count !== count) {
      this.rooms.set(roomId, { ...room, member_count: count });
      this.emit("rooms");
    }
    this.emit("members", roomId);
  }

  /** owner | admin | member, or null when unknown (the list not read yet). The owner
   * is known from the room itself. */
  roleOf(roomId, userId = this.me?.id) {
    const room = this.rooms.get(roomId);
    if (room && userId && room.owner_id === userId) return "owner";
    return this.members.get(roomId)?.get(userId)?.role ?? null;
  }

  // -- presence and typing ---------------------------------------------------------

  /** What is known of a user's presence: `{online, last_seen}` or undefined. */
  presenceOf(userId) {
    return userId ? this.presence.get(userId) : undefined;
  }

  /** Learn presence from an event or from a user as the API showed it (with `online`);
   * views redraw the dots of that user in place ("presence"). */
  setPresence(userId, online, lastSeen) {
    if (!userId || typeof online !== "boolean") return;
    const known = this.presence.get(userId);
    const last_seen = lastSeen ?? known?.last_seen ?? null;
    if (known && known.online === online && known.last_seen === last_seen) return;
    this.presence.set(userId, { online, last_seen });
    this.emit("presence", userId);
  }

  learnPresence(users) {
    for (const user of users) if (user) this.setPresence(user.id, user.online, user.last_seen);
  }

  setHere(roomId, userIds) {
    this.here.set(roomId, new Set(userIds));
    this.emit("here", roomId);
  }

  isHere(roomId, userId) {
    return Boolean(this.here.get(roomId)?.has(userId));
  }

  /** Someone started or stopped typing in a room. A `true` that is never followed by
   * `false` (its process died) lapses by itself after `lapse` ms. */
  setTyping(roomId, user, typing, lapse) {
    if (!this.typing.has(roomId)) this.typing.set(roomId, new Map());
    const typists = this.typing.get(roomId);
    const known = typists.get(user.id);
    if (known) clearTimeout(known.timer);
    if (typing) {
      const timer = setTimeout(() => this.setTyping(roomId, user, false), lapse);
      typists.set(user.id, { user, timer });
    } else if (!typists.delete(user.id)) return;
    if (typing && known) return; // a renewal: nothing to redraw
    this.emit("typing", roomId);
  }

  clearTyping(roomId) {
    const typists = this.typing.get(roomId);
    if (!typists?.size) return;
    for (const { timer } of typists.values()) clearTimeout(timer);
    typists.clear();
    this.emit("typing", roomId);
  }

  typists(roomId) {
    return [...(this.typing.get(roomId)?.values() ?? [])].map(({ user }) => user);
  }

  setConnection(state, detail) {
    this.connection = state;
    this.emit("connection", detail);
  }

  reset() {
    this.me = null;
    this.rooms = new Map();
    this.timelines = new Map();
    this.members = new Map();
    this.presence = new Map();
    this.here = new Map();
    for (const roomId of this.typing.keys()) this.clearTyping(roomId);
    this.typing = new Map();
    this.currentRoomId = null;
    this.emit("rooms");
  }
}

export const store = new Store();
