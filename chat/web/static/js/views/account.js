// Your account: profile (display name and picture), username, password, deletion.
// Each part is its own form, so an error shows beside the field that caused it and a
// change to one part does not send the others.

import * as chat from "../chat.js";
import { $, avatar, busy, clear, clearErrors, formValues, showErrors } from "../dom.js";
import { store } from "../store.js";

const SAVED_FOR = 4000; // ms a "Saved." stays

export function initAccount({ onDeleted }) {
  const dialog = $("#account-dialog");
  store.on("me", drawMe);
  $("#account-button").addEventListener("click", () => {
    for (const form of dialog.querySelectorAll("form")) {
      form.reset();
      clearErrors(form);
      saved(form, "");
    }
    fill();
    dialog.showModal();
  });
  dialog.addEventListener("close", () => disarm($("#delete-account-form")));
  initProfile();
  initUsername();
  initPassword();
  initDelete(dialog, onDeleted);
}

/** The signed-in user wherever they are shown outside the dialog. */
function drawMe(me) {
  if (!me?.id) return;
  $("#me-name").textContent = me.display_name || me.username;
  clear($("#me-avatar")).append(avatar(me, "small"));
  document.body.dataset.user = me.username;
  if ($("#account-dialog").open) preview();
}

function fill() {
  const me = store.me;
  $("#profile-display-name").value = me.display_name ?? "";
  $("#profile-avatar-url").value = me.avatar_url ?? "";
  $("#account-username").value = me.username;
  $("#password-form-username").value = me.username;
  preview();
}

/** The profile as it would look with what is typed (the picture once the address is
 * complete: on change, not on every key). */
function preview() {
  const me = store.me;
  const shown = {
    ...me,
    display_name: $("#profile-display-name").value.trim() || null,
    avatar_url: $("#profile-avatar-url").value.trim() || null,
  };
  clear($("#profile-avatar")).append(avatar(shown, "large"));
  $("#profile-preview-name").textContent = shown.display_name || me.username;
}

function saved(form, text) {
  const status = form.querySelector(".saved");
  if (!status) return;
  status.textContent = text;
  clearTimeout(status.timer);
  if (text) status.timer = setTimeout(() => (status.textContent = ""), SAVED_FOR);
}

function initProfile() {
  const form = $("#profile-form");
  $("#profile-avatar-url").addEventListener("change", preview);
  $("#profile-display-name").addEventListener("input", preview);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    saved(form, "");
    const values = formValues(form);
    // Empty means none: null clears the display name (shown as the username) or picture.
    const fields = {
      display_name: values.display_name || null,
      avatar_url: values.avatar_url || null,
    };
    try {
      await busy(form, () => chat.updateProfile(fields));
      fill();
      saved(form, "Saved.");
    } catch (error) {
      showErrors(form, error);
    }
  });
}

function initUsername() {
  const form = $("#username-form");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    saved(form, "");
    const { username } = formValues(form);
    if (!username) return showErrors(form, { errors: { username: ["Choose a username."] } });
    if (username === store.me.username) return;
    try {
      await busy(form, () => chat.updateProfile({ username }));
      fill();
      saved(form, "Saved: sign in with it from now on.");
    } catch (error) {
      showErrors(form, error);
    }
  });
}

function initPassword() {
  const form = $("#password-form");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    saved(form, "");
    const { password, new_password: next } = formValues(form);
    const missing = {};
    if (!password) missing.password = ["Enter your current password."];
    if (!next) missing.new_password = ["Choose a new password."];
    if (Object.keys(missing).length) return showErrors(form, { errors: missing });
    try {
      await busy(form, () => chat.changePassword(password, next));
      form.reset();
      $("#password-form-username").value = store.me.username;
      saved(form, "Password changed. Your other sessions are signed out.");
    } catch (error) {
      // A wrong current password is a 403 that names no field: it belongs beside it.
      showErrors(form, error, "password");
    }
  });
}

/** Two steps: the password, then "Really delete my account?" on the same button. */
function initDelete(dialog, onDeleted) {
  const form = $("#delete-account-form");
  const button = $("#delete-account-button");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    const { password } = formValues(form);
    if (!password) {
      disarm(form);
      return showErrors(form, { errors: { password: ["Enter your password to confirm."] } });
    }
    if (!button.classList.contains("confirming")) {
      button.classList.add("confirming");
      button.textContent = "Really delete my account?";
      return;
    }
    disarm(form);
    try {
      await busy(form, () => chat.deleteAccount(password));
      dialog.close();
      onDeleted();
    } catch (error) {
      showErrors(form, error, "password");
    }
  });
  $("#delete-password").addEventListener("input", () => disarm(form));
}

function disarm(form) {
  const button = form.querySelector("#delete-account-button");
  if (!button) return;
  button.classList.remove("confirming");
  button.textContent = "Delete my account";
}
