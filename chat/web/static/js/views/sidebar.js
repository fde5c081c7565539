// The rooms list and the direct conversations, and the dialogs that add to them:
// create a room, browse public rooms, start a conversation by username.

import { api } from "../api.js";
import * as chat from "../chat.js";
import { $, busy, clear, clearErrors, formValues, h, showErrors } from "../dom.js";
import { store } from "../store.js";
import { presenceDot, presenceText } from "./presence.js";

const SUGGEST_DELAY = 250; // ms of quiet typing before suggesting names

export function initSidebar() {
  store.on("rooms", drawRooms);
  store.on("room-open", drawRooms);
  store.on("rooms-error", (error) => {
    $("#rooms-error").textContent = error ? error.message : "";
  });
  initCreateRoom();
  initBrowse();
  initNewConversation();
  for (const dialog of document.querySelectorAll("dialog")) {
    for (const button of dialog.querySelectorAll("[data-close]")) {
      button.addEventListener("click", () => dialog.close());
    }
  }
}

function activity(room) {
  return room.last_message?.created_at || room.last_activity_at || room.created_at || "";
}

function drawRooms() {
  const rooms = [...store.rooms.values()].sort((a, b) =>
    activity(b).localeCompare(activity(a)),
  );
  const groups = rooms.filter((room) => room.kind !== "direct");
  const direct = rooms.filter((room) => room.kind === "direct");
  drawList($("#room-list"), groups);
  drawList($("#dm-list"), direct);
  $("#rooms-empty").hidden = groups.length > 0;
  $("#dms-empty").hidden = direct.length > 0;
  const unread = rooms.reduce((sum, room) => sum + unreadOf(room), 0);
  document.title = unread ? `(${unread}) Chat` : "Chat";
}

/** Redrawn whole (it is short); keep keyboard focus on the room it was on. */
function drawList(list, rooms) {
  const focused = list.contains(document.activeElement) ? document.activeElement : null;
  clear(list);
  for (const room of rooms) list.append(roomItem(room));
  if (focused) list.querySelector(`[data-room-id="${CSS.escape(focused.dataset.roomId)}"]`)?.focus();
}

/** Messages past your read marker. The open room's are read while you look at it (the
 * client tells the server); in a window in the background they count, as elsewhere. */
function unreadOf(room) {
  return room.unread_count || 0;
}

/** A room's name; a direct conversation is named after the other person. */
export function roomName(room) {
  if (!room) return "";
  if (room.kind === "direct") return room.participant ? authorName(room.participant) : "Direct conversation";
  return room.name ?? "";
}

function preview(room) {
  const last = room.last_message;
  if (!last) return "No messages yet";
  if (last.deleted) return "Message deleted";
  if (last.author?.id === store.me?.id) return `You: ${last.content}`;
  return room.kind === "direct" ? last.content : `${authorName(last.author)}: ${last.content}`;
}

function roomItem(room) {
  const current = room.id === store.currentRoomId;
  const unread = unreadOf(room);
  const direct = room.kind === "direct";
  return h(
    "li",
    {},
    h(
      "button",
      {
        type: "button",
        class: `room-item${current ? " current" : ""}${unread ? " unread" : ""}`,
        "aria-current": current ? "true" : null,
        dataset: { roomId: room.id, kind: room.kind ?? "group" },
        onclick: () => chat.openRoom(room.id),
      },
      h(
        "span",
        { class: "room-item-top" },
        direct && room.participant ? presenceDot(room.participant.id) : null,
        h("span", { class: "room-name", text: roomName(room) }),
        direct && room.participant
          ? h("span", { class: "visually-hidden" }, " (", presenceText(room.participant.id), ")")
          : null,
        !direct && room.visibility === "private" ? h("span", { class: "tag", text: "private" }) : null,
        unread
          ? [
              h("span", {
                class: "badge",
                "aria-hidden": "true",
                text: unread > 99 ? "99+" : String(unread),
              }),
              h("span", { class: "visually-hidden", text: ` (${unread} unread)` }),
            ]
          : null,
      ),
      h("span", { class: "room-preview", text: preview(room) }),
    ),
  );
}

export function authorName(author) {
  if (!author) return "Deleted account";
  return author.display_name || author.username;
}

// -- create ----------------------------------------------------------------------

function initCreateRoom() {
  const dialog = $("#create-room-dialog");
  const form = $("#create-room-form");
  $("#new-room-button").addEventListener("click", () => {
    form.reset();
    clearErrors(form);
    dialog.showModal();
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const values = formValues(form);
    clearErrors(form);
    if (!values.name) return showErrors(form, { errors: { name: ["Give the room a name."] } });
    const fields = { name: values.name, visibility: values.visibility };
    if (values.description) fields.description = values.description;
    if (values.password) fields.password = values.password;
    try {
      const room = await busy(form, () => chat.createRoom(fields));
      dialog.close();
      chat.openRoom(room.id);
    } catch (error) {
      showErrors(form, error);
    }
  });
}

// -- browse and join ---------------------------------------------------------------

function initBrowse() {
  const dialog = $("#browse-dialog");
  $("#browse-button").addEventListener("click", async () => {
    clear($("#browse-list"));
    $("#browse-error").textContent = "";
    $("#browse-empty").hidden = true;
    dialog.showModal();
    try {
      const rooms = await api.rooms("public");
      drawBrowse(rooms, dialog);
    } catch (error) {
      $("#browse-error").textContent = error.message;
    }
  });
}

function drawBrowse(rooms, dialog) {
  const list = clear($("#browse-list"));
  $("#browse-empty").hidden = rooms.length > 0;
  for (const room of rooms) list.append(browseItem(room, dialog));
}

function browseItem(room, dialog) {
  // A member's view of a room carries its read marker; an outsider's does not.
  const member = room.last_read_seq !== undefined && room.last_read_seq !== null;
  const fieldId = `join-password-${room.id}`;
  const errorId = `join-error-${room.id}`;
  const error = h("p", { class: "field-error", id: errorId, "data-error-for": "_form" });
  const passwordField = h(
    "div",
    { class: "field join-password", hidden: true },
    h("label", { for: fieldId, text: `Password for ${room.name}` }),
    h("input", {
      id: fieldId,
      name: "password",
      type: "password",
      autocomplete: "off",
      "aria-describedby": errorId,
    }),
  );
  const form = h(
    "form",
    { class: "browse-item", novalidate: true, dataset: { roomId: room.id } },
    h(
      "div",
      { class: "browse-info" },
      h(
        "span",
        { class: "room-name" },
        room.name,
        room.has_password ? h("span", { class: "tag", text: "password" }) : null,
      ),
      room.description ? h("span", { class: "muted", text: room.description }) : null,
      h("span", {
        class: "muted small",
        text: `${room.member_count} member${room.member_count === 1 ? "" : "s"}`,
      }),
    ),
    passwordField,
    h("button", { type: "submit", class: member ? "" : "primary", text: member ? "Open" : "Join" }),
    error,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    if (member) {
      dialog.close();
      chat.openRoom(room.id);
      return;
    }
    if (room.has_password && passwordField.hidden) {
      passwordField.hidden = false; // ask for it first
      passwordField.querySelector("input").focus();
      return;
    }
    const { password } = formValues(form);
    try {
      await busy(form, () => chat.joinRoom(room.id, password || undefined));
      dialog.close();
      chat.openRoom(room.id);
    } catch (failure) {
      error.textContent = failure.message;
      passwordField.querySelector("input").setAttribute("aria-invalid", "true");
      if (!passwordField.hidden) passwordField.querySelector("input").focus();
    }
  });
  return h("li", {}, form);
}

// -- a direct conversation by username ------------------------------------------------

function initNewConversation() {
  const dialog = $("#new-dm-dialog");
  const form = $("#new-dm-form");
  const input = $("#dm-username");
  let timer = null;
  let ticket = 0;
  $("#new-dm-button").addEventListener("click", () => {
    form.reset();
    clearErrors(form);
    clear($("#dm-suggestions"));
    dialog.showModal();
    input.focus();
  });
  // Names that match what is typed, offered by the field itself (a datalist).
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const q = input.value.trim().replace(/^@/, "");
      const mine = ++ticket;
      if (!q) return clear($("#dm-suggestions"));
      try {
        const { users } = await api.searchUsers(q, 8);
        if (mine !== ticket) return;
        const options = users
          .filter((user) => user.id !== store.me?.id)
          .map((user) =>
            h("option", {
              value: user.username,
              label: user.display_name ? `${user.display_name} (@${user.username})` : `@${user.username}`,
            }),
          );
        clear($("#dm-suggestions")).append(...options);
      } catch {
        // Suggestions are a help only: the form still takes a typed name.
      }
    }, SUGGEST_DELAY);
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    const username = input.value.trim().replace(/^@/, "");
    if (!username) {
      return showErrors(form, { errors: { username: ["Whom to write to: enter their username."] } });
    }
    try {
      const room = await busy(form, () => chat.openConversation(username));
      dialog.close();
      chat.openRoom(room.id);
    } catch (error) {
      showErrors(form, error, "username");
    }
  });
}
