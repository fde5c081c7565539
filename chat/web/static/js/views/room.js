// The open room: its header, its messages (scroll up for older ones), who is typing,
// and the composer. Your own messages can be edited in place.

import * as chat from "../chat.js";
import { $, clear, confirmButton, h, linkify, shortTime } from "../dom.js";
import { stamp, store } from "../store.js";
import { describe, presenceDot } from "./presence.js";
import { authorName, roomName } from "./sidebar.js";

const CONTENT_MAX = 4000;
const NEAR_TOP = 120; // px from the top of the history where older pages are fetched
const NEAR_BOTTOM = 60; // px: closer than this to the end, new messages keep it in view

let nodes = new Map(); // key ("s<seq>" or "p<client_id>") -> {el, stamp}
let replyTo = null; // the message the composer replies to
let noticeTimer = null;
// The message being edited: {seq, draft, error, focus}; its draft outlives a redraw.
let editing = null;

export function initRoom() {
  store.on("room-open", drawRoom);
  store.on("rooms", drawHeader);
  store.on("timeline", ({ roomId, reason }) => {
    if (roomId === store.currentRoomId) drawTimeline(reason);
  });
  store.on("notice", ({ roomId, text }) => {
    if (roomId === store.currentRoomId) notice(text);
  });
  store.on("room-error", (error) => {
    $("#room-error").textContent = error ? error.message : "";
  });
  store.on("typing", (roomId) => {
    if (roomId === store.currentRoomId) drawTyping();
  });
  store.on("presence", (userId) => {
    if (store.currentRoom?.participant?.id === userId) drawHeader();
  });
  $("#back-button").addEventListener("click", () => chat.closeRoom());
  confirmButton($("#leave-button"), "Leave", "Really leave?", async () => {
    const roomId = store.currentRoomId;
    try {
      await chat.leaveRoom(roomId);
    } catch (error) {
      $("#room-error").textContent = error.message;
    }
  });
  $("#older-button").addEventListener("click", () => chat.loadOlder(store.currentRoomId));
  $("#timeline").addEventListener("scroll", () => {
    if ($("#timeline").scrollTop < NEAR_TOP) chat.loadOlder(store.currentRoomId);
  });
  initComposer();
}

// -- the room ------------------------------------------------------------------

function drawRoom(roomId) {
  $("#chat-view").classList.toggle("room-open", Boolean(roomId));
  $("#room-view").hidden = !roomId;
  $("#no-room").hidden = Boolean(roomId);
  nodes = new Map();
  editing = null;
  clear($("#message-list"));
  setReply(null);
  drawTyping();
  $("#composer-error").textContent = "";
  $("#room-error").textContent = "";
  $("#room-notice").textContent = "";
  if (!roomId) return;
  drawHeader();
  drawTimeline("open");
  $("#composer-input").focus();
}

function drawHeader() {
  const room = store.currentRoom;
  if (!room) return;
  const direct = room.kind === "direct";
  $("#room-title").textContent = roomName(room);
  $("#leave-button").hidden = direct; // a direct conversation cannot be left
  $("#room-view").classList.toggle("direct", direct);
  const facts = [];
  if (direct) {
    const other = room.participant;
    facts.push("Direct message");
    if (other) {
      if (other.display_name) facts.push(`@${other.username}`);
      const state = describe(other.id);
      if (state) facts.push(state);
    }
  } else if (typeof room.member_count === "number") {
    facts.push(`${room.member_count} member${room.member_count === 1 ? "" : "s"}`);
  }
  if (room.visibility === "private" && !direct) facts.push("private");
  if (room.has_password) facts.push("password");
  if (room.description) facts.push(room.description);
  $("#room-meta").textContent = facts.join(" · ");
}

/** "alice is typing…": the people the server says are typing here, you never. */
function drawTyping() {
  const names = store.typists(store.currentRoomId).map(authorName);
  let text = "";
  if (names.length === 1) text = `${names[0]} is typing…`;
  else if (names.length === 2) text = `${names[0]} and ${names[1]} are typing…`;
  else if (names.length === 3) text = `${names[0]}, ${names[1]} and ${names[2]} are typing…`;
  else if (names.length > 3) text = `${names[0]}, ${names[1]} and ${names.length - 2} others are typing…`;
  $("#typing-indicator").textContent = text;
}

function notice(text) {
  $("#room-notice").textContent = text;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => ($("#room-notice").textContent = ""), 6000);
}

// -- the messages --------------------------------------------------------------

function drawTimeline(reason) {
  const roomId = store.currentRoomId;
  const timeline = store.timeline(roomId);
  const box = $("#timeline");
  const list = $("#message-list");
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < NEAR_BOTTOM;
  const before = { height: box.scrollHeight, top: box.scrollTop };

  if (editing && (timeline.bySeq.get(editing.seq)?.deleted ?? true)) editing = null;
  // An editor rebuilt under the cursor (its message changed in another window) keeps it.
  if (editing && document.activeElement?.id === `edit-${editing.seq}`) editing.focus = true;
  const wanted = [];
  for (const message of timeline.sorted()) {
    const quoted = message.reply_to ? quoteOf(timeline, message.reply_to) : null;
    const key = `s${message.seq}`;
    const edit = editing?.seq === message.seq ? `edit:${editing.error ?? ""}` : "";
    const mark = [stamp(message), quoted ? stamp(quoted) : "", timeline.errors.get(message.seq), edit];
    wanted.push({ key, mark: mark.join("|"), build: () => messageItem(message, quoted, timeline) });
  }
  for (const pending of timeline.pending.values()) {
    const quoted = pending.reply_to ? quoteOf(timeline, pending.reply_to) : null;
    const mark = [pending.status, pending.error, quoted ? stamp(quoted) : ""].join("|");
    wanted.push({ key: `p${pending.client_id}`, mark, build: () => pendingItem(pending, quoted) });
  }
  reconcile(list, wanted);
  if (editing?.focus) {
    editing.focus = false;
    const input = $(`#edit-${editing.seq}`);
    if (input && document.activeElement !== input) {
      input.focus();
      input.setSelectionRange(input.value.length, input.value.length);
    }
  }

  $("#older-button").hidden = !timeline.olderExist || timeline.empty;
  $("#history-start").hidden = timeline.olderExist || !timeline.loaded;
  if (reason === "older") {
    box.scrollTop = before.top + (box.scrollHeight - before.height); // stay on what was read
  } else if (reason === "edit") {
    $(`#message-list li[data-seq="${editing?.seq}"]`)?.scrollIntoView({ block: "nearest" });
  } else if (atBottom || reason === "open" || reason === "sent") {
    box.scrollTop = box.scrollHeight;
  }
  // A first page shorter than the screen cannot be scrolled up: fetch more now.
  if (timeline.loaded && timeline.olderExist && box.scrollHeight <= box.clientHeight) {
    chat.loadOlder(roomId);
  }
}

/** Put the wanted items in order, building only those that are new or changed. */
function reconcile(list, wanted) {
  const keep = new Set();
  let cursor = list.firstElementChild;
  for (const item of wanted) {
    keep.add(item.key);
    let node = nodes.get(item.key);
    if (node && node.mark !== item.mark) {
      if (node.el === cursor) cursor = cursor.nextElementSibling;
      node.el.remove();
      node = null;
    }
    if (!node) {
      node = { el: item.build(), mark: item.mark };
      node.el.dataset.key = item.key;
      nodes.set(item.key, node);
    }
    if (node.el === cursor) cursor = cursor.nextElementSibling;
    else list.insertBefore(node.el, cursor);
  }
  for (const [key, node] of nodes) {
    if (!keep.has(key)) {
      node.el.remove();
      nodes.delete(key);
    }
  }
}

function quoteOf(timeline, messageId) {
  const quoted = timeline.byId(messageId);
  if (quoted === undefined) chat.fetchQuoted(timeline.roomId, messageId);
  return quoted ?? { id: messageId, loading: true, content: "", deleted: false };
}

function quoteBlock(quoted) {
  const text = quoted.loading
    ? "…"
    : quoted.deleted
      ? "This message was deleted."
      : excerpt(quoted.content);
  return h(
    "blockquote",
    { class: "quote" },
    quoted.loading ? null : h("span", { class: "quote-author", text: authorName(quoted.author) }),
    h("span", { class: "quote-text", text }),
  );
}

function excerpt(text, length = 140) {
  return text.length > length ? `${text.slice(0, length)}…` : text;
}

function messageItem(message, quoted, timeline) {
  const own = message.author?.id === store.me?.id;
  const classes = ["message"];
  if (own) classes.push("own");
  if (message.deleted) classes.push("deleted");
  const actions = h("div", { class: "message-actions" });
  if (!message.deleted) {
    actions.append(
      h("button", {
        type: "button",
        class: "quiet small",
        text: "Reply",
        "aria-label": `Reply to ${authorName(message.author)}`,
        onclick: () => setReply(message),
      }),
    );
    if (own && editing?.seq !== message.seq) {
      actions.append(
        h("button", {
          type: "button",
          class: "quiet small",
          text: "Edit",
          onclick: () => startEdit(message),
        }),
      );
    }
    if (own) {
      const remove = h("button", { type: "button", class: "quiet small danger", text: "Delete" });
      confirmButton(remove, "Delete", "Really delete?", () =>
        chat.deleteMessage(timeline.roomId, message),
      );
      actions.append(remove);
    }
  }
  const error = timeline.errors.get(message.seq);
  return h(
    "li",
    { class: classes.join(" "), dataset: { seq: message.seq, id: message.id } },
    h(
      "div",
      { class: "message-meta" },
      message.author ? presenceDot(message.author.id) : null,
      h("span", { class: "author", text: authorName(message.author) }),
      h("time", {
        datetime: message.created_at,
        title: new Date(message.created_at).toLocaleString(),
        text: shortTime(message.created_at),
      }),
      message.edited_at && !message.deleted
        ? h("span", {
            class: "edited muted",
            title: `Edited ${new Date(message.edited_at).toLocaleString()}`,
            text: "(edited)",
          })
        : null,
    ),
    quoted ? quoteBlock(quoted) : null,
    message.deleted
      ? h("p", { class: "message-text tombstone", text: "This message was deleted." })
      : editing?.seq === message.seq
        ? editor(message, timeline.roomId)
        : h("p", { class: "message-text" }, linkify(message.content)),
    actions,
    error ? h("p", { class: "field-error", role: "alert", text: error }) : null,
  );
}

// -- editing your own message --------------------------------------------------

function startEdit(message) {
  editing = { seq: message.seq, draft: message.content, error: null, focus: true };
  drawTimeline("edit");
}

function stopEdit() {
  editing = null;
  drawTimeline("edit");
  $("#composer-input").focus();
}

/** The inline editor: Enter saves, Shift+Enter breaks the line, Escape cancels. */
function editor(message, roomId) {
  const id = `edit-${message.seq}`;
  const input = h("textarea", {
    id,
    name: "content",
    class: "edit-input",
    rows: 2,
    maxlength: CONTENT_MAX,
    "aria-describedby": `${id}-hint ${id}-error`,
    "aria-invalid": editing.error ? "true" : null,
  });
  input.value = editing.draft;
  const form = h(
    "form",
    { class: "edit-form", novalidate: true },
    h("label", { for: id, class: "visually-hidden", text: "Edit your message" }),
    input,
    h("p", { id: `${id}-error`, class: "field-error", role: "alert", text: editing.error ?? "" }),
    h(
      "div",
      { class: "edit-actions" },
      h("span", { id: `${id}-hint`, class: "hint", text: "Enter saves · Escape cancels" }),
      h("button", { type: "button", class: "quiet small", text: "Cancel", onclick: stopEdit }),
      h("button", { type: "submit", class: "primary small", text: "Save" }),
    ),
  );
  input.addEventListener("input", () => {
    if (editing?.seq === message.seq) editing.draft = input.value;
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    } else if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      stopEdit();
    }
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    saveEdit(roomId, message, form);
  });
  return form;
}

async function saveEdit(roomId, message, form) {
  if (editing?.seq !== message.seq) return;
  const content = editing.draft.trim();
  const refuse = (text) => {
    editing.error = text;
    editing.focus = true;
    drawTimeline("edit");
  };
  if (!content) return refuse("A message needs some text (or delete it instead).");
  if (content.length > CONTENT_MAX) {
    return refuse(`A message is at most ${CONTENT_MAX} characters (this one has ${content.length}).`);
  }
  if (content === message.content) return stopEdit();
  for (const control of form.querySelectorAll("button, textarea")) control.disabled = true;
  try {
    await chat.editMessage(roomId, message, content);
    if (editing?.seq === message.seq && store.currentRoomId === roomId) stopEdit();
  } catch (error) {
    if (editing?.seq !== message.seq || store.currentRoomId !== roomId) return;
    for (const control of form.querySelectorAll("button, textarea")) control.disabled = false;
    refuse(error.message);
  }
}

/** Scroll to a message held in the timeline and mark it for a moment (search). */
export function revealMessage(seq) {
  const item = $(`#message-list li[data-seq="${seq}"]`);
  if (!item) return false;
  item.scrollIntoView({ block: "center" });
  item.classList.remove("highlight");
  void item.offsetWidth; // restart the animation when shown twice
  item.classList.add("highlight");
  item.setAttribute("tabindex", "-1");
  item.focus({ preventScroll: true });
  return true;
}

function pendingItem(pending, quoted) {
  const status = {
    queued: "Waiting for the connection…",
    sending: "Sending…",
    failed: `Not sent: ${pending.error}`,
  }[pending.status];
  const roomId = store.currentRoomId;
  return h(
    "li",
    {
      class: `message own pending ${pending.status}`,
      dataset: { clientId: pending.client_id },
    },
    h(
      "div",
      { class: "message-meta" },
      h("span", { class: "author", text: authorName(store.me) }),
      h("span", { class: "pending-status", role: "status", text: status }),
    ),
    quoted ? quoteBlock(quoted) : null,
    h("p", { class: "message-text" }, linkify(pending.content)),
    pending.status === "sending"
      ? null
      : h(
          "div",
          { class: "message-actions visible" },
          h("button", {
            type: "button",
            class: "quiet small",
            text: "Retry",
            onclick: () => chat.retry(roomId, pending.client_id),
          }),
          h("button", {
            type: "button",
            class: "quiet small danger",
            text: "Discard",
            onclick: () => chat.discard(roomId, pending.client_id),
          }),
        ),
  );
}

// -- the composer --------------------------------------------------------------

function initComposer() {
  const form = $("#composer");
  const input = $("#composer-input");
  const error = $("#composer-error");

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const content = input.value.trim();
    error.textContent = "";
    input.removeAttribute("aria-invalid");
    if (!content) return;
    if (content.length > CONTENT_MAX) {
      error.textContent = `A message is at most ${CONTENT_MAX} characters (this one has ${content.length}).`;
      input.setAttribute("aria-invalid", "true");
      return;
    }
    chat.setTyping(store.currentRoomId, false);
    chat.send(store.currentRoomId, content, replyTo?.id ?? null);
    input.value = "";
    setReply(null);
    resize(input);
    input.focus();
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    } else if (event.key === "Escape" && replyTo) {
      setReply(null);
    } else if (event.key === "ArrowUp" && !input.value) {
      // Up in an empty composer edits your last message, as in most chat programs.
      const mine = store.timeline(store.currentRoomId).lastOwn(store.me?.id);
      if (mine) {
        event.preventDefault();
        startEdit(mine);
      }
    }
  });
  input.addEventListener("input", () => {
    resize(input);
    chat.setTyping(store.currentRoomId, input.value.trim() !== "");
  });
  input.addEventListener("blur", () => chat.setTyping(store.currentRoomId, false));
  $("#reply-cancel").addEventListener("click", () => {
    setReply(null);
    input.focus();
  });
}

/** Grow with its content where CSS `field-sizing` cannot (the CSSOM is allowed by CSP). */
function resize(input) {
  if (CSS.supports("field-sizing", "content")) return;
  input.style.height = "auto";
  input.style.height = `${Math.min(input.scrollHeight, 200)}px`;
}

function setReply(message) {
  replyTo = message;
  $("#reply-preview").hidden = !message;
  if (!message) return;
  $("#reply-author").textContent = authorName(message.author);
  $("#reply-text").textContent = excerpt(message.content, 80);
  $("#composer-input").focus();
}
