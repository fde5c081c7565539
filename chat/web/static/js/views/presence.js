// Presence: a dot (and, in the members panel, a few words) per person, drawn from what
// the store knows and kept right in place when someone comes or goes, so that no list
// is redrawn for it (a redraw would reset a button that is asking to confirm).

import { h, shortTime } from "../dom.js";
import { store } from "../store.js";

export function initPresence() {
  store.on("presence", refresh);
  // Who is watching the open room changes only the words of the members panel.
  store.on("here", (roomId) => {
    for (const el of document.querySelectorAll(`.presence-text[data-room-id="${CSS.escape(roomId)}"]`)) {
      el.textContent = describe(el.dataset.presenceFor, roomId);
    }
  });
}

/** A dot: green when online, hollow when offline, nothing while unknown. Decorative:
 * where it matters, words say the same (`presenceText`, visible or not). */
export function presenceDot(userId) {
  const dot = h("span", {
    class: "presence",
    dataset: { presenceFor: userId ?? "" },
    "aria-hidden": "true",
  });
  paint(dot, userId);
  return dot;
}

/** "here now", "online", or "offline · last seen …", kept up to date; `roomId` is the
 * room whose watchers count as here. */
export function presenceText(userId, roomId) {
  return h("span", {
    class: "presence-text",
    dataset: { presenceFor: userId, roomId: roomId ?? "" },
    text: describe(userId, roomId),
  });
}

export function describe(userId, roomId) {
  const state = store.presenceOf(userId);
  if (!state) return "";
  if (state.online) return roomId && store.isHere(roomId, userId) ? "here now" : "online";
  return state.last_seen ? `offline · last seen ${shortTime(state.last_seen)}` : "offline";
}

function paint(dot, userId) {
  const state = store.presenceOf(userId);
  dot.classList.toggle("online", Boolean(state?.online));
  dot.classList.toggle("unknown", !state);
  dot.title = state ? (state.online ? "Online" : "Offline") : "";
}

function refresh(userId) {
  if (!userId) return;
  for (const el of document.querySelectorAll(`[data-presence-for="${CSS.escape(userId)}"]`)) {
    if (el.classList.contains("presence")) paint(el, userId);
    else el.textContent = describe(userId, el.dataset.roomId || null);
  }
}
