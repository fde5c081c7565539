// Search in the open room: a panel beside the messages (in their place on a phone).
// Results come newest first, a page at a time ("Load more results" asks for the ones
// before the last shown). Picking one scrolls to it in the room, fetching the older
// pages between it and what is shown; one too far back is shown in its context here.

import * as chat from "../chat.js";
import { $, clear, h, shortTime } from "../dom.js";
import { store } from "../store.js";
import { revealMessage } from "./room.js";
import { authorName } from "./sidebar.js";

const WORD = /[\p{L}\p{N}]+/gu;
const EXCERPT = 300; // characters of a result shown

let query = ""; // what the results are for
let results = [];
let hasMore = false;
let ticket = 0; // the newest request; answers to older ones are dropped
let contexts = new Map(); // seq -> {messages} or {error}: results shown in their context
let errors = new Map(); // seq -> why jumping to it failed

const panel = () => $("#search-panel");
const isOpen = () => !panel().hidden;
const narrow = window.matchMedia("(max-width: 900px)");

export function initSearch() {
  $("#search-button").addEventListener("click", () => toggle(!isOpen()));
  $("#search-close").addEventListener("click", () => toggle(false));
  panel().addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !event.defaultPrevented) {
      event.preventDefault();
      toggle(false);
    }
  });
  $("#search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    run(false);
  });
  $("#search-more").addEventListener("click", () => run(true));
  store.on("room-open", () => {
    reset();
    show(false);
  });
  store.on("panel", (name) => {
    if (name !== "search" && isOpen()) show(false);
  });
}

function show(open) {
  panel().hidden = !open;
  $("#search-button").setAttribute("aria-expanded", String(open));
  $("#room-view").classList.toggle("search-open", open);
  if (open) store.emit("panel", "search");
}

function toggle(open) {
  show(open);
  if (open) $("#search-query").focus();
  else $("#search-button").focus();
}

function reset() {
  ticket += 1;
  query = "";
  results = [];
  hasMore = false;
  contexts = new Map();
  errors = new Map();
  $("#search-query").value = "";
  setError("");
  $("#search-status").textContent = "";
  clear($("#search-results"));
  $("#search-more").hidden = true;
}

function setError(text) {
  $("#search-error").textContent = text;
  if (text) $("#search-query").setAttribute("aria-invalid", "true");
  else $("#search-query").removeAttribute("aria-invalid");
}

async function run(more) {
  const roomId = store.currentRoomId;
  const q = more ? query : $("#search-query").value.trim();
  setError("");
  if (!q.match(WORD)) {
    setError("Type a word to find (letters or digits).");
    $("#search-query").focus();
    return;
  }
  const mine = ++ticket;
  if (!more) {
    query = q;
    results = [];
    contexts = new Map();
    errors = new Map();
  }
  $("#search-status").textContent = "Searching…";
  $("#search-more").disabled = true;
  try {
    const before = more && results.length ? results[results.length - 1].seq : undefined;
    const page = await chat.search(roomId, q, before);
    if (mine !== ticket || roomId !== store.currentRoomId) return;
    results.push(...page.messages);
    hasMore = page.has_more;
    draw(more ? page.messages[0]?.seq : null);
  } catch (error) {
    if (mine !== ticket) return;
    $("#search-status").textContent = "";
    setError(error.errors?.q ? [error.errors.q].flat().join(" ") : error.message);
  } finally {
    $("#search-more").disabled = false;
  }
}

/** `focusSeq`: after "Load more", the keyboard goes to the first new result. */
function draw(focusSeq = null) {
  const list = clear($("#search-results"));
  const words = query.match(WORD) ?? [];
  for (const message of results) list.append(resultItem(message, words));
  const count = results.length;
  $("#search-status").textContent = !count
    ? "No message holds all of those words."
    : `${count} message${count === 1 ? "" : "s"} found${hasMore ? " so far" : ""}, newest first`;
  $("#search-more").hidden = !hasMore;
  if (focusSeq !== null) list.querySelector(`[data-seq="${focusSeq}"] button`)?.focus();
}

function resultItem(message, words) {
  const context = contexts.get(message.seq);
  const error = errors.get(message.seq);
  return h(
    "li",
    { class: "search-result", dataset: { seq: message.seq } },
    h(
      "button",
      {
        type: "button",
        class: "search-hit",
        onclick: () => jump(message),
      },
      h(
        "span",
        { class: "message-meta" },
        h("span", { class: "author", text: authorName(message.author) }),
        h("time", { datetime: message.created_at, text: shortTime(message.created_at) }),
      ),
      h("span", { class: "search-text" }, marked(excerpt(message.content, words), words)),
    ),
    error ? h("p", { class: "field-error", role: "alert", text: error }) : null,
    context ? contextBlock(message.seq, context, words) : null,
  );
}

/** The text around the first word found, at most EXCERPT characters. */
function excerpt(text, words) {
  if (text.length <= EXCERPT) return text;
  const lower = text.toLocaleLowerCase();
  const at = Math.min(...words.map((w) => lower.indexOf(w.toLocaleLowerCase())).filter((i) => i >= 0));
  const start = Number.isFinite(at) && at > EXCERPT / 2 ? at - 40 : 0;
  return `${start ? "…" : ""}${text.slice(start, start + EXCERPT)}…`;
}

/** The words searched for, as <mark>s in the text (text nodes only: no markup). */
function marked(text, words) {
  const fragment = document.createDocumentFragment();
  if (!words.length) {
    fragment.append(text);
    return fragment;
  }
  const pattern = new RegExp(
    `(?<![\\p{L}\\p{N}])(?:${words.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|")})(?![\\p{L}\\p{N}])`,
    "giu",
  );
  let last = 0;
  for (const match of text.matchAll(pattern)) {
    if (match.index > last) fragment.append(text.slice(last, match.index));
    fragment.append(h("mark", { text: match[0] }));
    last = match.index + match[0].length;
  }
  if (last < text.length) fragment.append(text.slice(last));
  return fragment;
}

function contextBlock(seq, context, words) {
  if (context.error) return h("p", { class: "field-error", role: "alert", text: context.error });
  return h(
    "ol",
    { class: "search-context", "aria-label": "The message in its context" },
    context.messages.map((message) =>
      h(
        "li",
        { class: message.seq === seq ? "context-hit" : null },
        h("span", { class: "author", text: `${authorName(message.author)}: ` }),
        message.deleted
          ? h("em", { class: "muted", text: "This message was deleted." })
          : marked(message.content, message.seq === seq ? words : []),
      ),
    ),
  );
}

/** Show the message in the room (fetching the pages up to it), or here in context when
 * it is too far back for that. */
async function jump(message) {
  const roomId = store.currentRoomId;
  errors.delete(message.seq);
  try {
    if (await chat.bringIntoView(roomId, message.seq)) {
      if (roomId !== store.currentRoomId) return;
      if (narrow.matches) show(false); // on a phone the panel covers the messages
      revealMessage(message.seq);
      return;
    }
    if (roomId !== store.currentRoomId) return;
    contexts.set(message.seq, { messages: await chat.around(roomId, message.seq) });
  } catch (error) {
    errors.set(message.seq, error.message);
  }
  if (roomId !== store.currentRoomId) return;
  draw();
  $(`#search-results [data-seq="${message.seq}"] button`)?.focus();
}
