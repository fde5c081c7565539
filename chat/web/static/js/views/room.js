// The open room: its header, its messages (scroll up for older ones) and the composer.

import * as chat from "../chat.js";
import { $, clear, confirmButton, h, linkify, shortTime } from "../dom.js";
import { stamp, store } from "../store.js";
import { authorName } from "./sidebar.js";

const CONTENT_MAX = 4000;
const NEAR_TOP = 120; // px from the top of the history where older pages are fetched
const NEAR_BOTTOM = 60; // px: closer than this to the end, new messages keep it in view

let nodes = new Map(); // key ("s<seq>" or "p<client_id>") -> {el, stamp}
let replyTo = null; // the message the composer replies to
let noticeTimer = null;

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
  clear($("#message-list"));
  setReply(null);
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
  $("#room-title").textContent = room.name ?? "Direct conversation";
  const facts = [];
  if (typeof room.member_count === "number") {
    facts.push(`${room.member_count} member${room.member_count === 1 ? "" : "s"}`);
  }
  if (room.visibility === "private") facts.push("private");
  if (room.has_password) facts.push("password");
  if (room.description) facts.push(room.description);
  $("#room-meta").textContent = facts.join(" · ");
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

  const wanted = [];
  for (const message of timeline.sorted()) {
    const quoted = message.reply_to ? quoteOf(timeline, message.reply_to) : null;
    const key = `s${message.seq}`;
    const mark = [stamp(message), quoted ? stamp(quoted) : "", timeline.errors.get(message.seq)];
    wanted.push({ key, mark: mark.join("|"), build: () => messageItem(message, quoted, timeline) });
  }
  for (const pending of timeline.pending.values()) {
    const quoted = pending.reply_to ? quoteOf(timeline, pending.reply_to) : null;
    const mark = [pending.status, pending.error, quoted ? stamp(quoted) : ""].join("|");
    wanted.push({ key: `p${pending.client_id}`, mark, build: () => pendingItem(pending, quoted) });
  }
  reconcile(list, wanted);

  $("#older-button").hidden = !timeline.olderExist || timeline.empty;
  $("#history-start").hidden = timeline.olderExist || !timeline.loaded;
  if (reason === "older") {
    box.scrollTop = before.top + (box.scrollHeight - before.height); // stay on what was read
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
    // LATER(issue 7): an Edit button on own messages (`edit_message`), and "edited".
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
      h("span", { class: "author", text: authorName(message.author) }),
      h("time", {
        datetime: message.created_at,
        title: new Date(message.created_at).toLocaleString(),
        text: shortTime(message.created_at),
      }),
      message.edited_at && !message.deleted ? h("span", { class: "muted", text: "(edited)" }) : null,
    ),
    quoted ? quoteBlock(quoted) : null,
    message.deleted
      ? h("p", { class: "message-text tombstone", text: "This message was deleted." })
      : h("p", { class: "message-text" }, linkify(message.content)),
    actions,
    error ? h("p", { class: "field-error", role: "alert", text: error }) : null,
  );
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
    }
  });
  input.addEventListener("input", () => resize(input));
  // LATER(issue 7): typing notices from the input event (chat.setTyping).
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
