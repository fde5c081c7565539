// Room settings for owners and admins: name, description, visibility and the join
// password (set, change or remove); the owner may also delete the room.

import * as chat from "../chat.js";
import { $, busy, clearErrors, confirmButton, formValues, showErrors } from "../dom.js";
import { store } from "../store.js";

let roomId = null; // the room the dialog was opened for

export function initRoomSettings() {
  const dialog = $("#room-settings-dialog");
  const form = $("#room-settings-form");
  const updateButton = () => {
    const room = store.currentRoom;
    const role = room && room.kind !== "direct" ? store.roleOf(room.id) : null;
    $("#settings-button").hidden = role !== "owner" && role !== "admin";
    $("#room-delete-section").hidden = role !== "owner";
  };
  store.on("rooms", updateButton);
  store.on("members", updateButton);
  store.on("room-open", (id) => {
    updateButton();
    if (dialog.open && id !== roomId) dialog.close(); // the room went away, or another opened
  });

  $("#settings-button").addEventListener("click", () => open(dialog, form));
  $("#settings-password-on").addEventListener("change", () => passwordField(true));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    const changes = changed(form);
    if (changes === null) return;
    if (!Object.keys(changes).length) {
      dialog.close();
      return;
    }
    try {
      await busy(form, () => chat.updateRoom(roomId, changes));
      dialog.close();
    } catch (error) {
      showErrors(form, error);
    }
  });

  confirmButton($("#room-delete-button"), "Delete room", "Really delete it, with its history?", async () => {
    $("#room-delete-error").textContent = "";
    try {
      await chat.deleteRoom(roomId);
      if (dialog.open) dialog.close();
    } catch (error) {
      $("#room-delete-error").textContent = error.message;
    }
  });
}

function open(dialog, form) {
  const room = store.currentRoom;
  if (!room) return;
  roomId = room.id;
  form.reset();
  clearErrors(form);
  $("#room-delete-error").textContent = "";
  $("#settings-name").value = room.name ?? "";
  $("#settings-description").value = room.description ?? "";
  $("#settings-visibility").value = room.visibility ?? "public";
  $("#settings-password-on").checked = Boolean(room.has_password);
  passwordField(false);
  dialog.showModal();
}

/** The password box shows only while a password is asked for; with one set already,
 * leaving it empty keeps that one. */
function passwordField(focus) {
  const on = $("#settings-password-on").checked;
  const had = Boolean(store.rooms.get(roomId)?.has_password);
  $("#settings-password-field").hidden = !on;
  $("#settings-password-note").textContent = had ? "(empty: keep the current one)" : "";
  if (on && focus) $("#settings-password").focus();
}

/** What differs from the room as it is, as the PATCH body; null when the form itself
 * shows what is missing. */
function changed(form) {
  const room = store.rooms.get(roomId);
  const values = formValues(form);
  const changes = {};
  if (!values.name) {
    showErrors(form, { errors: { name: ["Give the room a name."] } });
    return null;
  }
  if (values.name !== room.name) changes.name = values.name;
  if (values.description !== (room.description ?? "")) changes.description = values.description;
  if (values.visibility !== room.visibility) changes.visibility = values.visibility;
  const asked = Boolean(values.password_on);
  if (asked && values.password) changes.password = values.password;
  else if (asked && !room.has_password) {
    showErrors(form, { errors: { password: ["Choose the password people must give."] } });
    return null;
  } else if (!asked && room.has_password) changes.password = null;
  return changes;
}
