"""The web client in a real browser against the real server.

Waits are Playwright's own (`expect` polls until its deadline); nothing sleeps.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from playwright.sync_api import expect

from tests.e2e.harness import Api, ServerProcess, wait_until

from .conftest import WebUser

HOSTILE = "<img src=x onerror=alert(1)> and <script>alert(1)</script>"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def in_room(people: Any, room: str = "general") -> tuple[WebUser, WebUser]:
    """alice creates `room`, bob joins it from the public room browser."""
    alice = people("alice").sign_up()
    bob = people("bob").sign_up()
    alice.create_room(room)
    bob.join_room(room)
    expect(alice.page.locator("#room-meta")).to_contain_text("2 members")
    expect(alice.page.locator("#room-notice")).to_have_text("bob joined the room")
    # Bob's socket watches the room once his `join` is acknowledged (the history shown
    # after it): what only watchers hear (typing) is not lost before then.
    expect(bob.page.locator("#history-start")).to_be_visible()
    return alice, bob


def no_horizontal_scroll(user: WebUser) -> None:
    overflow = user.page.evaluate(
        """() => [document.documentElement, document.body, ...document.querySelectorAll(
             '.timeline, .sidebar, .room-header, .composer')]
           .filter((el) => el.scrollWidth > el.clientWidth + 1)
           .map((el) => `${el.tagName}.${el.className}: ${el.scrollWidth} > ${el.clientWidth}`)"""
    )
    assert overflow == []


def test_page_has_strict_csp_and_loads_only_its_own_scripts(people: Any) -> None:
    alice = people("alice")
    csp = alice.response.headers["content-security-policy"]
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["base-uri"] == "'none'"
    assert "unsafe" not in csp
    expect(alice.page.locator("#signin-form")).to_be_visible()
    assert alice.page.evaluate("typeof window.io") == "function"
    alice.screenshot("sign-in")
    alice.page.click("#show-signup")
    alice.screenshot("sign-up")
    alice.sign_up()
    # The policy lets the socket upgrade to a WebSocket (not only long-polling).
    wait_until(
        # Each evaluate lets Playwright deliver the page's events to Python.
        lambda: (
            alice.page.evaluate("0") == 0
            and any("transport=websocket" in url for url in alice.websockets)
        ),
        what="a WebSocket transport",
    )
    alice.assert_clean()


def test_two_people_chat_live_delete_and_reply(people: Any) -> None:
    alice, bob = in_room(people)

    alice.send("hello bob")
    expect(bob.message("hello bob")).to_have_count(1)
    bob.send("hi alice\nsecond line")
    expect(alice.message("hi alice")).to_have_count(1)
    assert alice.texts() == ["hello bob", "hi alice\nsecond line"]  # Shift+Enter kept apart
    assert alice.seqs() == [1, 2]

    # A reply carries a quote of what it answers, on both sides.
    original = bob.message("hello bob")
    original.hover()
    original.get_by_role("button", name="Reply to alice").click()
    expect(bob.page.locator("#reply-preview")).to_contain_text("hello bob")
    bob.send("replying to you")
    for user in (alice, bob):
        reply = user.message("replying to you")
        expect(reply.locator(".quote")).to_contain_text("alice")
        expect(reply.locator(".quote-text")).to_have_text("hello bob")
    expect(bob.page.locator("#reply-preview")).to_be_hidden()

    # Deleting asks once more, then shows as a tombstone on the other side too.
    mine = bob.message("hi alice")
    mine.hover()
    mine.get_by_role("button", name="Delete").click()
    mine.get_by_role("button", name="Really delete?").click()
    for user in (alice, bob):
        tombstone = user.page.locator('#message-list li[data-seq="2"]')
        expect(tombstone).to_have_class(re.compile(r"\bdeleted\b"))
        expect(tombstone.locator(".message-text")).to_have_text("This message was deleted.")
    expect(alice.page.locator("#message-list")).not_to_contain_text("hi alice")
    # Only your own messages offer Delete.
    theirs = alice.message("replying to you")
    theirs.hover()
    expect(theirs.get_by_role("button", name="Delete")).to_have_count(0)

    bob.screenshot("room-other-side")
    alice.open_members()  # the README's picture: docs/web-client.png
    expect(alice.member("bob")).to_contain_text("member")
    alice.screenshot("room")
    alice.assert_clean()
    bob.assert_clean()


def test_hostile_text_is_shown_as_text_and_runs_nothing(people: Any) -> None:
    alice, bob = in_room(people)
    bob.send(HOSTILE)
    bob.send("see https://example.com/page?a=1, not javascript:alert(1)")

    for user in (alice, bob):
        expect(user.message("onerror")).to_have_count(1)
        assert user.texts()[0] == HOSTILE
        markup = user.page.locator("#message-list img, #message-list script")
        expect(markup).to_have_count(0)
        links = user.message("example.com").locator("a")
        expect(links).to_have_count(1)
        expect(links).to_have_attribute("href", "https://example.com/page?a=1")
        expect(links).to_have_attribute("rel", "noopener noreferrer")
        user.assert_clean()  # no alert dialog, no page error, no CSP report

    # Room names and descriptions are text too, in the list, the header and the browser.
    bob.page.click("#new-room-button")
    bob.page.fill("#room-name", "<img src=x onerror=alert(2)>")
    bob.page.fill("#room-description", "<b>bold?</b>")
    bob.page.click("#create-room-form button[type=submit]")
    expect(bob.page.locator("#room-title")).to_have_text("<img src=x onerror=alert(2)>")
    expect(bob.page.locator("#room-meta")).to_contain_text("<b>bold?</b>")
    item = alice.browse_item("onerror=alert(2)")
    expect(item).to_contain_text("<b>bold?</b>")
    for user in (alice, bob):
        expect(user.page.locator("img, b")).to_have_count(0)
        user.assert_clean()


def test_offline_while_the_other_sends_then_back_replays_each_once_in_order(
    people: Any, api: Api
) -> None:
    alice, bob = in_room(people)
    alice.send("before")
    expect(bob.message("before")).to_have_count(1)

    bob.context.set_offline(True)
    expect(bob.page.locator("body")).to_have_attribute("data-connection", "offline")
    for i in range(3):
        alice.send(f"missed {i}")
    expect(alice.message("missed 2")).to_have_count(1)
    # More than one page (50) in all, so only a replay by after_seq can fill the gap.
    room_id = alice.page.evaluate("localStorage.getItem('chat.lastRoom')")
    poster = api.login("alice")
    for i in range(3, 60):
        api.post_message(poster, room_id, f"missed {i}")
    bob.send("written offline")  # stays pending, same client_id when it goes out
    expect(bob.page.locator("li.pending")).to_contain_text("Waiting for the connection")
    assert bob.texts() == ["before"]  # really cut off: nothing arrived live
    bob.screenshot("offline-pending")

    bob.context.set_offline(False)
    expected = ["before", *[f"missed {i}" for i in range(60)], "written offline"]
    for user in (bob, alice):
        expect(user.message("written offline")).to_have_count(1)
        expect(user.page.locator("#message-list li.message:not(.pending)")).to_have_count(62)
        assert user.texts() == expected
        assert user.seqs() == list(range(1, 63))
    expect(bob.page.locator("li.pending")).to_have_count(0)
    expect(bob.page.locator("#connection-banner")).to_be_hidden()
    alice.assert_clean()
    assert bob.page_errors == [] and bob.dialogs == [] and bob.csp_violations() == []


def test_server_restart_reconnects_and_delivers_what_was_queued(
    people: Any, web_server: ServerProcess
) -> None:
    alice, bob = in_room(people)
    alice.send("first")
    expect(bob.message("first")).to_have_count(1)

    web_server.stop()
    expect(alice.page.locator("body")).to_have_attribute("data-connection", "reconnecting")
    alice.send("sent while the server was down")
    expect(alice.page.locator("li.pending")).to_have_count(1)
    restarted = ServerProcess(
        f"{web_server.name}-restarted",
        web_server.mode,
        web_server.port,
        web_server.command,
        web_server.env,
        web_server.workdir,
    ).start()
    try:
        for user in (alice, bob):
            expect(user.message("sent while the server was down")).to_have_count(1, timeout=20_000)
            assert user.texts() == ["first", "sent while the server was down"]
        bob.send("after the restart")
        expect(alice.message("after the restart")).to_have_count(1)
    finally:
        restarted.stop()


def test_scrolling_up_fetches_older_pages_without_gaps(people: Any, api: Api) -> None:
    owner = api.user("carol")
    room = api.create_room(owner, "history")
    for i in range(1, 121):
        api.post_message(owner, room["id"], f"message {i}")
    alice = people("alice").sign_up()
    alice.join_room("history")

    list_items = alice.page.locator("#message-list li.message")
    expect(list_items.last).to_contain_text("message 120")
    assert len(alice.seqs()) == 50  # the newest page only
    for _ in range(5):
        if alice.page.locator("#history-start").is_visible():
            break
        held = list_items.count()
        alice.page.locator("#timeline").evaluate("el => el.scrollTo(0, 0)")
        alice.page.wait_for_function(
            "n => document.querySelectorAll('#message-list li.message').length > n", arg=held
        )
    expect(alice.page.locator("#history-start")).to_be_visible()
    assert alice.seqs() == list(range(1, 121))
    assert alice.texts() == [f"message {i}" for i in range(1, 121)]
    alice.assert_clean()


def test_errors_show_next_to_what_caused_them(people: Any, api: Api) -> None:
    api.user("taken")
    alice = people("alice")
    page = alice.page
    page.click("#show-signup")
    page.fill("#signup-username", "taken")
    page.fill("#signup-password", "short")
    page.click("#signup-form button[type=submit]")
    expect(page.locator("#signup-password-error")).to_contain_text("8")
    expect(page.locator("#signup-password")).to_have_attribute("aria-invalid", "true")
    page.fill("#signup-password", "long enough now")
    page.click("#signup-form button[type=submit]")
    expect(page.locator("#signup-username-error")).to_have_text("Already taken.")
    expect(page.locator("#signup-password-error")).to_be_empty()
    alice.screenshot("sign-up-errors")

    alice.sign_up("alice")
    alice.create_room("general")
    page.click("#new-room-button")
    page.fill("#room-name", "GENERAL")
    page.click("#create-room-form button[type=submit]")
    expect(page.locator("#room-name-error")).to_have_text("Already taken.")
    alice.screenshot("create-room-error")
    page.click("#create-room-form [data-close]")

    owner = api.user("dave")
    api.create_room(owner, "locked", password="sesame")
    item = alice.browse_item("locked")
    expect(item).to_contain_text("password")
    alice.screenshot("browse")
    item.locator("button[type=submit]").click()
    password = item.get_by_label("Password for locked")
    password.fill("wrong")
    item.locator("button[type=submit]").click()
    expect(item.locator(".field-error")).to_have_text("Wrong room password.")
    password.fill("sesame")
    item.locator("button[type=submit]").click()
    expect(page.locator("#room-title")).to_have_text("locked")
    alice.assert_clean()


def test_rooms_list_shows_unread_counts_and_last_message(people: Any, api: Api) -> None:
    alice = people("alice").sign_up()
    owner = api.user("erin")
    room = api.create_room(owner, "news")
    joined = api.request("POST", f"/api/rooms/{room['id']}/join", api.login("alice"))
    assert joined.status_code == 200, joined.text
    for i in range(3):
        api.post_message(owner, room["id"], f"headline {i}")
    alice.page.reload()
    item = alice.page.locator(".room-item").filter(has_text="news")
    expect(item.locator(".badge")).to_have_text("3")
    expect(item.locator(".room-preview")).to_have_text("erin: headline 2")
    expect(alice.page).to_have_title("(3) Chat")
    alice.screenshot("rooms-unread")
    item.click()
    expect(alice.page.locator("#room-title")).to_have_text("news")
    expect(item.locator(".badge")).to_have_count(0)
    expect(alice.page).to_have_title("Chat")
    alice.assert_clean()


def test_narrow_screen_has_no_horizontal_scroll(people: Any) -> None:
    alice = people("alice", width=375, height=740)
    no_horizontal_scroll(alice)
    alice.sign_up()
    no_horizontal_scroll(alice)
    alice.screenshot("phone-rooms-empty")
    alice.create_room("a-room-with-a-rather-long-name-for-a-phone-screen")
    alice.send("x" * 300)
    alice.send("https://example.com/" + "long-path/" * 30)
    alice.send("short and sweet")
    expect(alice.message("short and sweet")).to_have_count(1)
    no_horizontal_scroll(alice)
    alice.screenshot("phone-room")
    alice.page.click("#back-button")
    expect(alice.page.locator(".room-item")).to_have_count(1)
    no_horizontal_scroll(alice)
    alice.screenshot("phone-rooms")
    alice.assert_clean()


def test_keyboard_only_send_and_sign_out_revokes_tokens(people: Any, api: Api) -> None:
    alice = people("alice").sign_up()
    alice.create_room("keys")
    page = alice.page
    page.focus("#composer-input")
    page.keyboard.type("typed only")
    page.keyboard.press("Shift+Enter")
    page.keyboard.type("two lines")
    page.keyboard.press("Enter")
    expect(alice.message("typed only")).to_have_count(1)
    assert alice.texts() == ["typed only\ntwo lines"]

    tokens = page.evaluate(
        "[localStorage.getItem('chat.accessToken'), localStorage.getItem('chat.refreshToken')]"
    )
    page.click("#signout-button")
    expect(page.locator("#signin-form")).to_be_visible()
    assert page.evaluate("localStorage.getItem('chat.refreshToken')") is None
    access, refresh = tokens
    refused = api.request("GET", "/api/users/me", headers={"Authorization": f"Bearer {access}"})
    assert refused.status_code == 401
    refused = api.request(
        "POST", "/api/auth/refresh", headers={"Authorization": f"Bearer {refresh}"}
    )
    assert refused.status_code == 401
    alice.assert_clean()


def test_access_token_is_refreshed_before_it_expires(server_factory: Any, people: Any) -> None:
    server = server_factory("eventlet", JWT_ACCESS_TOKEN_EXPIRES="3")
    alice = people("alice", server=server).sign_up()
    changed = "seen => localStorage.getItem('chat.accessToken') !== seen"
    first = alice.page.evaluate("localStorage.getItem('chat.accessToken')")
    alice.page.wait_for_function(changed, arg=first)
    second = alice.page.evaluate("localStorage.getItem('chat.accessToken')")
    alice.page.wait_for_function(changed, arg=second)  # the first has expired by now
    alice.create_room("fresh")
    alice.send("still here")
    expect(alice.message("still here")).to_have_count(1)
    expect(alice.page.locator("#signin-form")).to_be_hidden()
    alice.assert_clean()


# Wraps the Socket.IO client's emit so a test can lose one `message` ack (the packet
# goes out, the client hears a timeout) or one whole send (nothing goes out), and see
# every client_id the page sent.
LOSE_NEXT = """() => {
  const original = io.Socket.prototype.emit;
  window.__sent = [];
  window.__lose = null;
  io.Socket.prototype.emit = function (event, ...args) {
    if (event === "message") {
      window.__sent.push(args[0].client_id);
      const lose = window.__lose;
      window.__lose = null;
      if (lose) {
        const ack = args.pop();
        if (lose === "ack") original.call(this, event, ...args);
        setTimeout(() => ack(new Error("operation has timed out")), 0);
        return this;
      }
    }
    return original.call(this, event, ...args);
  };
}"""


def test_a_lost_ack_or_a_retried_send_stores_the_message_once(people: Any, api: Api) -> None:
    alice, bob = in_room(people)
    page = alice.page
    page.evaluate(LOSE_NEXT)

    # The server stored it but the ack was lost: the broadcast (same client_id) settles it.
    page.evaluate("window.__lose = 'ack'")
    alice.send("ack lost")
    expect(alice.message("ack lost")).to_have_count(1)
    expect(page.locator("li.pending")).to_have_count(0)

    # Nothing went out: it waits as pending, and Retry sends it with the same client_id.
    page.evaluate("window.__lose = 'send'")
    alice.send("send lost")
    pending = page.locator("li.pending")
    expect(pending).to_contain_text("send lost")
    expect(pending).to_contain_text("Waiting for the connection")
    assert bob.texts() == ["ack lost"]
    alice.screenshot("pending-retry")
    pending.get_by_role("button", name="Retry").click()
    for user in (alice, bob):
        expect(user.message("send lost")).to_have_count(1)
        assert user.texts() == ["ack lost", "send lost"]
    expect(page.locator("li.pending")).to_have_count(0)
    sent = page.evaluate("window.__sent")
    assert len(sent) == 3 and sent[1] == sent[2] and sent[0] != sent[1], sent

    history = api.history(api.login("bob"), page.evaluate("localStorage.getItem('chat.lastRoom')"))
    assert [m["content"] for m in history.json()["messages"]] == ["ack lost", "send lost"]
    alice.assert_clean()


def test_switching_rooms_replays_what_came_meanwhile(people: Any) -> None:
    alice, bob = in_room(people, "first")
    alice.create_room("second")
    bob.send("one")
    bob.send("two")
    expect(bob.message("two")).to_have_count(1)
    # Only the open room is watched ("first" hears of these by `notification`): opening
    # it replays them.
    alice.page.locator(".room-item").filter(has_text="first").click()
    expect(alice.message("two")).to_have_count(1)
    assert alice.texts() == ["one", "two"]
    bob.send("three")  # watched again: it arrives live
    expect(alice.message("three")).to_have_count(1)
    assert alice.seqs() == [1, 2, 3]
    alice.assert_clean()


def test_leaving_a_room_takes_it_off_the_list_and_tells_the_others(people: Any) -> None:
    alice, bob = in_room(people)
    bob.send("bye")
    expect(alice.message("bye")).to_have_count(1)
    bob.page.click("#leave-button")
    expect(bob.page.locator("#leave-button")).to_have_text("Really leave?")
    bob.page.click("#leave-button")
    expect(bob.page.locator("#no-room")).to_be_visible()
    expect(bob.page.locator(".room-item")).to_have_count(0)
    expect(bob.page.locator("#rooms-empty")).to_be_visible()
    expect(alice.page.locator("#room-notice")).to_have_text("bob left the room")
    expect(alice.page.locator("#room-meta")).to_contain_text("1 member")
    # Still a public room: bob can find it and come back, history intact.
    expect(bob.browse_item("general").locator("button[type=submit]")).to_have_text("Join")
    bob.page.click("#browse-dialog [data-close]")
    bob.join_room("general")
    expect(bob.message("bye")).to_have_count(1)
    alice.assert_clean()
    bob.assert_clean()


def test_the_client_works_on_gevent_too(server_factory: Any, people: Any) -> None:
    server = server_factory("gevent")
    alice = people("alice", server=server).sign_up()
    bob = people("bob", server=server).sign_up()
    alice.create_room("gevent")
    bob.join_room("gevent")
    alice.send("over gevent")
    expect(bob.message("over gevent")).to_have_count(1)
    bob.send("and back")
    expect(alice.message("and back")).to_have_count(1)
    alice.assert_clean()
    bob.assert_clean()
