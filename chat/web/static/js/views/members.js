// The open room's members panel: who is in, with their role and presence (kept live by
// views/presence.js: online, offline and when last seen, or here now), and
// for owners and admins the moderation controls: invite (a search by name with a small
// picker), remove, and for the owner role changes and the handover of the room.
//
// The controls follow the rules (admins remove plain members; the owner also removes
// admins, changes roles and hands the room over); whatever the server still refuses
// (a role that changed meanwhile, which is not announced) is shown beside the control.

import { api } from "../api.js";
import * as chat from "../chat.js";
import { $, avatar, clear, confirmButton, h } from "../dom.js";
import { store } from "../store.js";
import { presenceDot, presenceText } from "./presence.js";

const RANK = { owner: 0, admin: 1, member: 2 };
const SEARCH_DELAY = 250; // ms of quiet typing before searching
const SEARCH_LIMIT = 8;

let errors = new Map(); // user id -> the server's refusal, shown beside that member
let busy = new Set(); // user ids with a request in flight
let found = []; // the picker's users
let inviteErrors = new Map(); // user id -> refusal of an invite
let searchTimer = null;
let searchSeq = 0;
let drawnOwner = null; // the owner the list was drawn with

const panel = () => $("#members-panel");
const isOpen = () => !panel().hidden;
const nameOf = (user) => user.display_name || user.username;

export function initMembers() {
  $("#members-button").addEventListener("click", () => toggle(!isOpen()));
  $("#members-close").addEventListener("click", () => toggle(false));
  panel().addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !event.defaultPrevented) {
      event.preventDefault();
      toggle(false);
    }
  });
  store.on("members", (roomId) => {
    if (roomId === store.currentRoomId) draw();
  });
  // A new owner changes who may do what; other changes to the rooms do not concern
  // the list (and redrawing it would reset a button that is asking to confirm).
  store.on("rooms", () => {
    if ((store.currentRoom?.owner_id ?? null) !== drawnOwner) draw();
  });
  store.on("members-error", ({ roomId, error }) => {
    if (roomId === store.currentRoomId) $("#members-error").textContent = error?.message ?? "";
  });
  store.on("panel", (name) => {
    if (name !== "members" && isOpen()) show(false);
  });
  store.on("room-open", (roomId) => {
    errors = new Map();
    busy = new Set();
    resetPicker();
    $("#members-error").textContent = "";
    if (!roomId) show(false);
    else draw();
  });
  initPicker();
}

function show(open) {
  panel().hidden = !open;
  $("#members-button").setAttribute("aria-expanded", String(open));
  $("#room-view").classList.toggle("members-open", open);
  if (open) store.emit("panel", "members");
}

/** Open (reading the list afresh: role changes are not announced) or close. */
function toggle(open) {
  show(open);
  if (!open) {
    $("#members-button").focus();
    return;
  }
  errors = new Map();
  draw();
  if (store.currentRoomId) {
    chat.loadMembers(store.currentRoomId);
    chat.loadHere(store.currentRoomId);
  }
  const invite = $("#invite-form");
  (invite.hidden ? $("#members-close") : $("#invite-query")).focus();
}

function managing(role) {
  return role === "owner" || role === "admin";
}

// -- the list ------------------------------------------------------------------------

function draw() {
  const roomId = store.currentRoomId;
  const room = store.currentRoom;
  if (!isOpen() || !room) return;
  drawnOwner = room.owner_id ?? null;
  // A direct conversation has no invites, removals or roles.
  const mine = room.kind === "direct" ? null : store.roleOf(roomId);
  $("#invite-form").hidden = !managing(mine);
  const members = store.members.get(roomId);
  const list = $("#member-list");
  // Redrawn whole (it is short); keep keyboard focus on the same control.
  const active = list.contains(document.activeElement) ? document.activeElement : null;
  const focus = active && {
    user: active.closest("[data-user-id]")?.dataset.userId,
    action: active.dataset.action,
  };
  clear(list);
  $("#members-title").textContent = members ? `Members (${members.size})` : "Members";
  if (!members) {
    list.append(h("li", { class: "muted", text: "Loading…" }));
    return;
  }
  const sorted = [...members.values()].sort(
    (a, b) =>
      RANK[roleOf(roomId, a)] - RANK[roleOf(roomId, b)] ||
      nameOf(a).localeCompare(nameOf(b), undefined, { sensitivity: "base" }),
  );
  for (const member of sorted) list.append(memberItem(roomId, member, mine));
  if (focus?.user) {
    const row = list.querySelector(`[data-user-id="${CSS.escape(focus.user)}"]`);
    const again = focus.action && row?.querySelector(`[data-action="${focus.action}"]`);
    (again || row?.querySelector("button") || $("#members-close")).focus();
  }
  if (found.length) drawPicker();
}

function roleOf(roomId, member) {
  return store.roleOf(roomId, member.id) ?? member.role ?? "member";
}

function memberItem(roomId, member, mine) {
  const me = member.id === store.me?.id;
  const role = roleOf(roomId, member);
  const name = nameOf(member);
  const controls = h("div", { class: "member-controls" });
  if (!me && mine === "owner") {
    const toAdmin = role !== "admin";
    controls.append(
      h("button", {
        type: "button",
        class: "small",
        text: toAdmin ? "Make admin" : "Make member",
        "aria-label": toAdmin ? `Make ${name} an admin` : `Make ${name} a member`,
        dataset: { action: "role" },
        disabled: busy.has(member.id),
        onclick: () => act(member.id, () => chat.setRole(roomId, member.id, toAdmin ? "admin" : "member")),
      }),
    );
    const handOver = h("button", {
      type: "button",
      class: "small",
      dataset: { action: "owner" },
      disabled: busy.has(member.id),
    });
    confirmButton(
      handOver,
      "Make owner",
      "Hand over?",
      () => act(member.id, () => chat.setRole(roomId, member.id, "owner")),
      {
        label: `Make ${name} the owner`,
        asking: `Really hand this room over to ${name}? You become an admin.`,
      },
    );
    controls.append(handOver);
  }
  const mayRemove = !me && (mine === "owner" ? role !== "owner" : mine === "admin" && role === "member");
  if (mayRemove) {
    const remove = h("button", {
      type: "button",
      class: "small danger",
      dataset: { action: "remove" },
      disabled: busy.has(member.id),
    });
    confirmButton(remove, "Remove", "Really remove?", () => act(member.id, () => chat.removeMember(roomId, member.id)), {
      label: `Remove ${name}`,
      asking: `Really remove ${name}? They cannot rejoin until invited.`,
    });
    controls.append(remove);
  }
  const error = errors.get(member.id);
  return h(
    "li",
    { class: `member${me ? " me" : ""}`, dataset: { userId: member.id, role } },
    avatar(member, "small"),
    h(
      "div",
      { class: "member-info" },
      h(
        "span",
        { class: "member-name" },
        h("span", { class: "member-display", text: name }),
        me ? h("span", { class: "muted", text: " (you)" }) : null,
      ),
      h(
        "span",
        { class: "member-sub" },
        presenceDot(member.id),
        presenceText(member.id, roomId),
        member.display_name ? h("span", { class: "muted", text: ` · @${member.username}` }) : null,
      ),
    ),
    h("span", { class: `tag role role-${role}`, text: role }),
    controls.childElementCount ? controls : null,
    error ? h("p", { class: "field-error member-error", role: "alert", text: error }) : null,
  );
}

/** Run one moderation request for a member; a refusal stays beside their controls. */
async function act(userId, work) {
  errors.delete(userId);
  busy.add(userId);
  draw();
  try {
    await work();
  } catch (error) {
    errors.set(userId, error.message);
  } finally {
    busy.delete(userId);
    draw();
  }
}

// -- inviting: search by name, pick a person ----------------------------------------

function initPicker() {
  const form = $("#invite-form");
  const input = $("#invite-query");
  input.addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(search, SEARCH_DELAY);
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    clearTimeout(searchTimer);
    search();
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown") {
      event.preventDefault();
      $("#invite-results button")?.focus();
    } else if (event.key === "Escape" && input.value) {
      event.preventDefault(); // clear the search, not close the panel
      resetPicker();
    }
  });
  // Up and down move between the people found; up from the first goes back to typing.
  $("#invite-results").addEventListener("keydown", (event) => {
    if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
    const buttons = [...$("#invite-results").querySelectorAll("button")];
    const at = buttons.indexOf(document.activeElement);
    if (at < 0) return;
    event.preventDefault();
    const next = at + (event.key === "ArrowDown" ? 1 : -1);
    (next < 0 ? input : buttons[Math.min(next, buttons.length - 1)]).focus();
  });
}

function resetPicker() {
  clearTimeout(searchTimer);
  searchSeq += 1;
  found = [];
  inviteErrors = new Map();
  $("#invite-query").value = "";
  $("#invite-error").textContent = "";
  clear($("#invite-results"));
}

async function search() {
  const query = $("#invite-query").value.trim();
  const seq = ++searchSeq;
  $("#invite-error").textContent = "";
  inviteErrors = new Map();
  if (!query) {
    found = [];
    clear($("#invite-results"));
    return;
  }
  try {
    const { users } = await api.searchUsers(query, SEARCH_LIMIT);
    if (seq !== searchSeq) return; // a newer search is on its way
    found = users;
    drawPicker(true);
  } catch (error) {
    if (seq === searchSeq) $("#invite-error").textContent = error.message;
  }
}

function drawPicker(fresh = false) {
  const list = $("#invite-results");
  const active = list.contains(document.activeElement)
    ? document.activeElement.closest("[data-user-id]")?.dataset.userId
    : null;
  clear(list);
  if (fresh && !found.length) {
    list.append(h("li", { class: "muted small", text: "Nobody by that name." }));
    return;
  }
  const roomId = store.currentRoomId;
  const members = store.members.get(roomId);
  for (const user of found) {
    const name = nameOf(user);
    const error = inviteErrors.get(user.id);
    const isMember = members?.has(user.id);
    list.append(
      h(
        "li",
        { class: "invite-result", dataset: { userId: user.id } },
        avatar(user, "small"),
        h(
          "span",
          { class: "member-info" },
          h("span", { class: "member-display", text: name }),
          h("span", { class: "member-sub muted", text: `@${user.username}` }),
        ),
        isMember
          ? h("span", { class: "muted small", text: user.id === store.me?.id ? "You" : "Member" })
          : h("button", {
              type: "button",
              class: "small primary",
              text: "Invite",
              "aria-label": `Invite ${name}`,
              onclick: (event) => invite(roomId, user, event.currentTarget),
            }),
        error ? h("p", { class: "field-error", role: "alert", text: error }) : null,
      ),
    );
  }
  // Redrawn when the members change: keep the keyboard where it was.
  if (active) {
    const row = list.querySelector(`[data-user-id="${CSS.escape(active)}"]`);
    (row?.querySelector("button") ?? $("#invite-query")).focus();
  }
}

async function invite(roomId, user, button) {
  inviteErrors.delete(user.id);
  button.disabled = true;
  try {
    await chat.invite(roomId, user.id);
    drawPicker();
    $("#invite-query").focus();
  } catch (error) {
    inviteErrors.set(user.id, error.message);
    drawPicker();
    $(`#invite-results [data-user-id="${CSS.escape(user.id)}"] button`)?.focus();
  }
}
