// Start-up: signed in (tokens kept from an earlier visit) or not, and the switch
// between the two views.

import { api, scheduleRefresh, session } from "./api.js";
import * as chat from "./chat.js";
import { $ } from "./dom.js";
import { available } from "./socket.js";
import { store } from "./store.js";
import { initAccount } from "./views/account.js";
import { initAuth } from "./views/auth.js";
import { initMembers } from "./views/members.js";
import { initPresence } from "./views/presence.js";
import { initRoom } from "./views/room.js";
import { initSearch } from "./views/search.js";
import { initRoomSettings } from "./views/settings.js";
import { initSidebar } from "./views/sidebar.js";

const NEEDS_SOCKETIO =
  "Live chat is unavailable: the server could not serve the Socket.IO browser script. " +
  "It needs Node.js and npm on the server machine (run `make run`, or `npm ci`, there).";

const CONNECTION_TEXT = {
  connecting: "Connecting…",
  reconnecting: "Connection lost. Reconnecting…",
  offline: "You are offline. Messages you send will go out when the connection is back.",
  unavailable: NEEDS_SOCKETIO,
};

const auth = initAuth({ onSignedIn: enter });
initSidebar();
initRoom();
initMembers();
initSearch();
initPresence();
initRoomSettings();
initAccount({ onDeleted: () => leave("Your account has been deleted.") });

store.on("connection", () => {
  const banner = $("#connection-banner");
  const text = CONNECTION_TEXT[store.connection];
  banner.hidden = !text || store.connection === "connecting";
  banner.textContent = text ?? "";
  banner.classList.toggle("banner-error", store.connection === "unavailable");
  document.body.dataset.connection = store.connection;
});
store.on("session-ended", (message) => leave(message));
session.onEnded((message) => leave(message));

// What happened elsewhere that changed your rooms: stays until dismissed or replaced.
store.on("app-notice", (text) => {
  $("#app-notice-text").textContent = text;
  $("#app-notice").hidden = !text;
});
$("#app-notice-close").addEventListener("click", () => store.emit("app-notice", ""));

$("#signout-button").addEventListener("click", async () => {
  await chat.signOut();
  leave();
});

if (!available()) {
  const banner = $("#needs-banner");
  if (banner.hidden) {
    banner.textContent = NEEDS_SOCKETIO;
    banner.hidden = false;
  }
}

boot();

async function boot() {
  if (!session.signedIn) {
    auth.show();
    return;
  }
  scheduleRefresh();
  try {
    await enter(await api.me());
  } catch (error) {
    if (session.signedIn) {
      // The server is unreachable or failing, not refusing us: say so and retry.
      auth.hide();
      $("#connection-banner").hidden = false;
      $("#connection-banner").textContent = `${error.message} Retrying…`;
      setTimeout(boot, 3000);
    }
    // Otherwise the session ended (api.js told us) and the sign-in form is up.
  }
}

async function enter(me) {
  auth.hide();
  $("#chat-view").hidden = false;
  await chat.start(me); // draws you (views/account.js) from the store
}

function leave(message) {
  chat.stop();
  store.emit("app-notice", "");
  for (const dialog of document.querySelectorAll("dialog[open]")) dialog.close();
  $("#chat-view").hidden = true;
  $("#chat-view").classList.remove("room-open");
  delete document.body.dataset.user;
  auth.show(message);
}
