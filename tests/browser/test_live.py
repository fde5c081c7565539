"""The live layer in the web client: edits, typing, presence, read markers and unread
badges, notifications, direct conversations and search, each seen from both sides.

Waits are Playwright's own (`expect` polls until its deadline); nothing sleeps.
"""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.e2e.harness import Api, wait_until

from .conftest import WebUser
from .test_client import HOSTILE, in_room, no_horizontal_scroll

# The server ends a `typing: true` after 5 s without renewal (TYPING_TIMEOUT), checked
# about once a second: on a busy two-core machine allow well beyond that.
TYPING_EXPIRY_MS = 20_000


def room_item(user: WebUser, name: str) -> Any:
    return user.page.locator("#room-list .room-item").filter(has_text=name)


def dm_item(user: WebUser, name: str) -> Any:
    return user.page.locator("#dm-list .room-item").filter(has_text=name)


def edit(user: WebUser, text: str) -> Any:
    """Open the inline editor of your message `text`; returns the editor's field."""
    message = user.message(text)
    message.hover()
    message.get_by_role("button", name="Edit", exact=True).click()
    field = user.page.get_by_role("textbox", name="Edit your message")
    expect(field).to_be_focused()
    return field


def start_conversation(user: WebUser, username: str) -> None:
    page = user.page
    page.click("#new-dm-button")
    expect(page.locator("#new-dm-dialog")).to_be_visible()
    expect(page.locator("#dm-username")).to_be_focused()
    page.keyboard.type(username)
    page.keyboard.press("Enter")


def test_editing_your_message_shows_in_the_other_window(people: Any) -> None:
    alice, bob = in_room(people)
    alice.send("helo world")
    alice.send("second")
    expect(bob.message("helo world")).to_have_count(1)

    # Enter saves; the other side sees the new text, marked as edited.
    field = edit(alice, "helo world")
    expect(field).to_have_value("helo world")
    field.fill("hello world")
    alice.screenshot("editing")
    field.press("Enter")
    expect(alice.page.get_by_role("textbox", name="Edit your message")).to_have_count(0)
    expect(alice.page.locator("#composer-input")).to_be_focused()
    for user in (alice, bob):
        item = user.message("hello world")
        expect(item).to_have_count(1)
        expect(item.locator(".edited")).to_have_text("(edited)")
        expect(user.message("helo world")).to_have_count(0)
        assert user.texts() == ["hello world", "second"]
    expect(bob.message("second").locator(".edited")).to_have_count(0)

    # Escape cancels and changes nothing.
    field = edit(alice, "second")
    field.fill("never saved")
    field.press("Escape")
    expect(alice.page.get_by_role("textbox", name="Edit your message")).to_have_count(0)
    expect(alice.page.locator("#composer-input")).to_be_focused()
    assert alice.texts() == ["hello world", "second"]

    # Up in the empty composer edits your last message; an empty edit is refused
    # beside the editor; Shift+Enter keeps a line break; hostile text stays text.
    alice.page.press("#composer-input", "ArrowUp")
    field = alice.page.get_by_role("textbox", name="Edit your message")
    expect(field).to_be_focused()
    expect(field).to_have_value("second")
    field.fill("   ")
    field.press("Enter")
    editor = alice.page.locator(".edit-form")
    expect(editor.locator(".field-error")).to_contain_text("needs some text")
    expect(field).to_have_attribute("aria-invalid", "true")
    field.fill(HOSTILE)
    field.press("Shift+Enter")
    field.press_sequentially("line two")
    field.press("Enter")
    for user in (alice, bob):
        expect(user.message("line two")).to_have_count(1)
        assert user.texts() == ["hello world", f"{HOSTILE}\nline two"]
        expect(user.page.locator("#message-list img, #message-list script")).to_have_count(0)
    # The rooms list shows the newest message as edited.
    expect(room_item(bob, "general").locator(".room-preview")).to_contain_text("line two")

    # Only your own messages can be edited.
    theirs = bob.message("hello world")
    theirs.hover()
    expect(theirs.get_by_role("button", name="Edit", exact=True)).to_have_count(0)
    alice.assert_clean()
    bob.assert_clean()


def test_typing_shows_in_the_other_window_and_disappears(people: Any) -> None:
    alice, bob = in_room(people)
    composer = alice.page.locator("#composer-input")
    seen = bob.page.locator("#typing-indicator")

    composer.press_sequentially("I am wri")
    expect(seen).to_have_text("alice is typing…")
    expect(alice.page.locator("#typing-indicator")).to_be_empty()  # never your own
    bob.screenshot("typing")

    # Emptying the composer says so at once.
    composer.fill("")
    expect(seen).to_be_empty()

    # So does leaving the composer.
    composer.press_sequentially("back again")
    expect(seen).to_have_text("alice is typing…")
    alice.page.locator("#timeline").focus()
    expect(seen).to_be_empty()

    # Sending ends it, and the message arrives.
    composer.press_sequentially(" and sent")
    expect(seen).to_have_text("alice is typing…")
    composer.press("Enter")
    expect(bob.message("back again and sent")).to_have_count(1)
    expect(seen).to_be_empty()

    # Two people typing at once, each seeing only the other.
    bob.page.locator("#composer-input").press_sequentially("me too")
    composer.press_sequentially("still here")
    expect(seen).to_have_text("alice is typing…")
    expect(alice.page.locator("#typing-indicator")).to_have_text("bob is typing…")

    # Stopping without a word: the server's own expiry ends it (no renewal comes).
    expect(seen).to_be_empty(timeout=TYPING_EXPIRY_MS)
    expect(alice.page.locator("#typing-indicator")).to_be_empty(timeout=TYPING_EXPIRY_MS)
    alice.assert_clean()
    bob.assert_clean()


def test_an_unread_badge_appears_and_clears_when_opened_even_after_a_reload(
    people: Any, api: Api
) -> None:
    alice, bob = in_room(people)
    alice.create_room("elsewhere")  # alice now looks at another room
    bob.send("are you there?")
    bob.send("hello?")
    expect(bob.message("hello?")).to_have_count(1)

    item = room_item(alice, "general")
    expect(item.locator(".badge")).to_have_text("2")  # live, from `notification`
    expect(item.locator(".room-preview")).to_have_text("bob: hello?")
    expect(alice.page).to_have_title("(2) Chat")
    alice.screenshot("unread-badge")
    alice.page.reload()
    expect(item.locator(".badge")).to_have_text("2")  # the server's count
    expect(alice.page).to_have_title("(2) Chat")

    # A second tab of the same browser: its badge goes when the first reads the room.
    tab = WebUser(alice.context, alice.base_url, "alice-tab").open()
    tab_item = room_item(tab, "general")
    expect(tab_item.locator(".badge")).to_have_text("2")
    item.click()
    expect(alice.message("hello?")).to_have_count(1)
    expect(item.locator(".badge")).to_have_count(0)
    expect(alice.page).to_have_title("Chat")
    expect(tab_item.locator(".badge")).to_have_count(0)  # the `read` event
    expect(tab.page).to_have_title("Chat")

    # Read on the server: a reload (looking at another room) shows no badge.
    room_item(alice, "elsewhere").click()
    expect(alice.page.locator("#room-title")).to_have_text("elsewhere")
    alice.page.reload()
    expect(alice.page.locator("#room-title")).to_have_text("elsewhere")
    expect(room_item(alice, "general")).to_contain_text("bob: hello?")
    expect(room_item(alice, "general").locator(".badge")).to_have_count(0)
    rooms = api.request("GET", "/api/rooms", api.login("alice")).json()["rooms"]
    assert {r["name"]: r["unread_count"] for r in rooms} == {"general": 0, "elsewhere": 0}

    # Messages that come while the room is open are read as they come.
    room_item(alice, "general").click()
    bob.send("now you are here")
    expect(alice.message("now you are here")).to_have_count(1)
    expect(room_item(alice, "general").locator(".badge")).to_have_count(0)

    as_alice = api.login("alice")

    def read_all() -> bool:
        listed = api.request("GET", "/api/rooms", as_alice).json()["rooms"]
        return all(r["unread_count"] == 0 for r in listed)

    wait_until(read_all, what="alice's marker past bob's last message", interval=0.2)
    alice.assert_clean()
    tab.assert_clean()
    bob.assert_clean()


def test_a_direct_conversation_started_by_username_works_both_ways(people: Any) -> None:
    alice = people("alice").sign_up()
    bob = people("bob").sign_up()
    expect(alice.page.locator("#dms-empty")).to_be_visible()

    # Nobody by that name, and not yourself: refused beside the field.
    start_conversation(alice, "nobody-here")
    error = alice.page.locator("#dm-username-error")
    expect(error).to_have_text("No such user.")
    expect(alice.page.locator("#dm-username")).to_have_attribute("aria-invalid", "true")
    alice.page.fill("#dm-username", "alice")
    alice.page.press("#dm-username", "Enter")
    expect(error).to_have_text("You cannot open a conversation with yourself.")
    alice.screenshot("new-message-error")
    alice.page.fill("#dm-username", "bob")
    alice.page.press("#dm-username", "Enter")
    expect(alice.page.locator("#new-dm-dialog")).to_be_hidden()
    expect(alice.page.locator("#room-title")).to_have_text("bob")
    expect(alice.page.locator("#room-meta")).to_contain_text("Direct message")
    expect(alice.page.locator("#room-meta")).to_contain_text("online")
    expect(alice.page.locator("#leave-button")).to_be_hidden()  # one cannot leave a DM
    expect(dm_item(alice, "bob").locator(".presence")).to_have_class(re.compile(r"\bonline\b"))
    expect(alice.page.locator("#composer-input")).to_be_focused()
    alice.send("hi bob, just between us")
    expect(alice.message("hi bob, just between us")).to_have_count(1)

    # Bob is not watching it: it appears in his list with a badge, live.
    item = dm_item(bob, "alice")
    expect(item.locator(".badge")).to_have_text("1")
    expect(item.locator(".room-preview")).to_have_text("hi bob, just between us")
    expect(bob.page).to_have_title("(1) Chat")
    bob.screenshot("direct-message-arrives")
    item.click()
    expect(bob.page.locator("#room-title")).to_have_text("alice")
    expect(bob.message("hi bob, just between us")).to_have_count(1)
    expect(item.locator(".badge")).to_have_count(0)
    expect(bob.page).to_have_title("Chat")

    # The other way: typing and a reply, live.
    bob.page.locator("#composer-input").press_sequentially("hi alice")
    expect(alice.page.locator("#typing-indicator")).to_have_text("bob is typing…")
    bob.page.press("#composer-input", "Enter")
    expect(alice.message("hi alice")).to_have_count(1)
    expect(alice.page.locator("#typing-indicator")).to_be_empty()
    expect(dm_item(alice, "bob").locator(".room-preview")).to_have_text("hi alice")

    # Starting it from bob's side finds the same conversation.
    start_conversation(bob, "alice")
    expect(bob.page.locator("#new-dm-dialog")).to_be_hidden()
    expect(bob.page.locator("#dm-list .room-item")).to_have_count(1)
    assert bob.texts() == ["hi bob, just between us", "hi alice"]
    bob.screenshot("direct-message")
    expect(alice.page.locator("#room-list .room-item")).to_have_count(0)  # no group room
    alice.assert_clean()
    bob.assert_clean()


def test_presence_dots_change_when_the_other_context_closes(people: Any) -> None:
    alice, bob = in_room(people)
    bob.send("here I am")
    expect(alice.message("here I am")).to_have_count(1)
    start_conversation(alice, "bob")
    expect(alice.page.locator("#room-title")).to_have_text("bob")
    room_item(alice, "general").click()
    expect(alice.message("here I am")).to_have_count(1)

    members = alice.open_members()
    expect(members.locator("li.member")).to_have_count(2)
    row = alice.member("bob")
    dots = [
        row.locator(".presence"),
        dm_item(alice, "bob").locator(".presence"),
        alice.message("here I am").locator(".presence"),
    ]
    for dot in dots:
        expect(dot).to_have_class(re.compile(r"\bonline\b"))
    expect(row.locator(".presence-text")).to_have_text("here now")  # watching this room
    expect(alice.member("alice").locator(".presence-text")).to_have_text("here now")
    alice.screenshot("presence-online")

    bob.context.close()  # his socket closes with it: the server says he is offline
    for dot in dots:
        expect(dot).not_to_have_class(re.compile(r"\bonline\b"), timeout=15_000)
    expect(row.locator(".presence-text")).to_contain_text("offline · last seen")
    alice.screenshot("presence-offline")

    # Back in another browser: online again, live, but not watching this room.
    people("bob-again").sign_in("bob")
    for dot in dots:
        expect(dot).to_have_class(re.compile(r"\bonline\b"))
    expect(row.locator(".presence-text")).to_have_text("online")
    alice.assert_clean()


def test_search_finds_messages_and_shows_them_in_the_room(people: Any, api: Api) -> None:
    owner = api.user("carol")
    room = api.create_room(owner, "archive")
    for i in range(1, 131):
        if i == 3:
            content = "the needle in the <b>haystack</b>"
        elif i % 5 == 0:
            content = f"a common line number {i}"
        else:
            content = f"filler {i}"
        api.post_message(owner, room["id"], content)
    alice = people("alice").sign_up()
    alice.join_room("archive")
    expect(alice.message("filler 129")).to_have_count(1)
    assert len(alice.seqs()) == 50  # the newest page only: seq 3 is not in the page

    page = alice.page
    page.click("#search-button")
    expect(page.locator("#search-query")).to_be_focused()
    # Nothing to find: refused beside the field.
    page.keyboard.type("--")
    page.keyboard.press("Enter")
    expect(page.locator("#search-error")).not_to_be_empty()
    expect(page.locator("#search-query")).to_have_attribute("aria-invalid", "true")

    page.fill("#search-query", "NEEDLE")
    page.press("#search-query", "Enter")
    results = page.locator("#search-results .search-result")
    expect(results).to_have_count(1)
    expect(results.first.locator("mark")).to_have_text("needle")
    expect(results.first).to_contain_text("<b>haystack</b>")  # text, not markup
    expect(page.locator("#search-results b")).to_have_count(0)
    alice.screenshot("search")
    # Picking it fetches the older pages up to it and scrolls it into view.
    results.first.locator("button").click()
    target = page.locator('#message-list li[data-seq="3"]')
    expect(target).to_be_in_viewport()
    expect(target).to_have_class(re.compile(r"\bhighlight\b"))
    expect(target).to_be_focused()
    assert alice.seqs() == list(range(1, 131))  # the pages between, without a gap

    # Many results: newest first, a page at a time.
    page.fill("#search-query", "common")
    page.press("#search-query", "Enter")
    expect(results).to_have_count(20)
    expect(page.locator("#search-status")).to_contain_text("so far")
    page.click("#search-more")
    expect(results).to_have_count(26)
    expect(page.locator("#search-more")).to_be_hidden()
    seqs = results.evaluate_all("items => items.map(li => Number(li.dataset.seq))")
    assert seqs == list(range(130, 0, -5))

    page.fill("#search-query", "nowhere")
    page.press("#search-query", "Enter")
    expect(page.locator("#search-status")).to_have_text("No message holds all of those words.")
    expect(results).to_have_count(0)
    page.keyboard.press("Escape")
    expect(page.locator("#search-panel")).to_be_hidden()
    expect(page.locator("#search-button")).to_be_focused()
    alice.assert_clean()


def test_a_search_result_far_back_is_shown_in_its_context(people: Any, api: Api) -> None:
    owner = api.user("carol")
    room = api.create_room(owner, "deep")
    api.post_message(owner, room["id"], "before the treasure")
    api.post_message(owner, room["id"], "the buried treasure")
    api.post_message(owner, room["id"], "after the treasure")
    # More than the client fetches to bring a result into view: the first page (50) and
    # five more of 100.
    for i in range(600):
        api.post_message(owner, room["id"], f"later {i}")
    alice = people("alice").sign_up()
    alice.join_room("deep")
    page = alice.page
    page.click("#search-button")
    page.fill("#search-query", "buried")
    page.press("#search-query", "Enter")
    result = page.locator("#search-results .search-result")
    expect(result).to_have_count(1)
    result.locator("button").click()
    context = result.locator(".search-context li")
    expect(context).to_have_count(4, timeout=30_000)  # seqs 1 to 4: two each side
    expect(context.nth(0)).to_contain_text("before the treasure")
    expect(result.locator(".context-hit")).to_contain_text("the buried treasure")
    alice.assert_clean()


def test_edits_and_deletions_made_while_away_show_after_reconnecting(people: Any) -> None:
    alice, bob = in_room(people)
    for text in ("one", "two", "three"):
        alice.send(text)
    expect(bob.message("three")).to_have_count(1)

    bob.context.set_offline(True)
    expect(bob.page.locator("body")).to_have_attribute("data-connection", "offline")
    field = edit(alice, "one")
    field.fill("one, edited while you were away")
    field.press("Enter")
    expect(alice.message("one, edited while you were away")).to_have_count(1)
    mine = alice.message("two")
    mine.hover()
    mine.get_by_role("button", name="Delete").click()
    mine.get_by_role("button", name="Really delete?").click()
    expect(alice.page.locator('#message-list li[data-seq="2"]')).to_have_class(
        re.compile(r"\bdeleted\b")
    )
    alice.send("four")
    expect(alice.message("four")).to_have_count(1)
    assert bob.texts() == ["one", "two", "three"]  # really cut off

    bob.context.set_offline(False)
    expect(bob.message("four")).to_have_count(1)
    expect(bob.message("one, edited while you were away").locator(".edited")).to_have_count(1)
    expect(bob.page.locator('#message-list li[data-seq="2"]')).to_have_class(
        re.compile(r"\bdeleted\b")
    )
    assert bob.seqs() == [1, 2, 3, 4]
    assert bob.texts() == [
        "one, edited while you were away",
        "This message was deleted.",
        "three",
        "four",
    ]
    alice.assert_clean()
    assert bob.page_errors == [] and bob.dialogs == [] and bob.csp_violations() == []


def test_the_live_views_fit_a_phone(people: Any) -> None:
    alice: WebUser = people("alice", width=375, height=740).sign_up()
    people("bob-with-a-rather-long-username").sign_up()
    alice.create_room("a-room-with-a-rather-long-name-for-a-phone-screen")
    alice.send("a message to find and to edit")
    expect(alice.message("a message to find and to edit")).to_have_count(1)
    no_horizontal_scroll(alice)

    alice.page.press("#composer-input", "ArrowUp")
    expect(alice.page.get_by_role("textbox", name="Edit your message")).to_be_focused()
    no_horizontal_scroll(alice)
    alice.screenshot("phone-editing")
    alice.page.keyboard.press("Escape")

    alice.page.click("#search-button")
    alice.page.fill("#search-query", "find")
    alice.page.press("#search-query", "Enter")
    expect(alice.page.locator("#search-results .search-result")).to_have_count(1)
    expect(alice.page.locator("#timeline")).to_be_hidden()  # the panel takes its place
    no_horizontal_scroll(alice)
    alice.screenshot("phone-search")
    # Picking a result shows the room again, at that message.
    alice.page.locator("#search-results button").first.click()
    expect(alice.page.locator("#search-panel")).to_be_hidden()
    expect(alice.message("a message to find and to edit")).to_be_in_viewport()

    alice.page.click("#back-button")
    start_conversation(alice, "bob-with-a-rather-long-username")
    expect(alice.page.locator("#room-title")).to_have_text("bob-with-a-rather-long-username")
    no_horizontal_scroll(alice)
    alice.screenshot("phone-direct-message")
    alice.page.click("#back-button")
    expect(alice.page.locator("#dm-list .room-item")).to_have_count(1)
    no_horizontal_scroll(alice)
    alice.screenshot("phone-rooms-and-conversations")
    alice.assert_clean()


def test_everything_live_at_once(people: Any) -> None:
    """Three people, two rooms and a direct conversation, all live in alice's window
    (its screenshot, `overview`, is the README's picture: docs/web-client.png)."""
    alice = people("alice", width=1280, height=800).sign_up()
    bob = people("bob").sign_up()
    carol = people("carol").sign_up()
    alice.create_room("design")
    alice.create_room("general")
    for user in (bob, carol):
        user.join_room("general")
    carol.join_room("design")  # and stays there, looking at it

    bob.send("Has anyone read the release notes? https://example.com/notes")
    expect(alice.message("release notes")).to_have_count(1)
    question = alice.message("release notes")
    question.hover()
    question.get_by_role("button", name="Reply to bob").click()
    alice.send("Yes: the search is my favourite part.")
    bob.send("(wrong window)")
    mistake = bob.message("(wrong window)")
    mistake.hover()
    mistake.get_by_role("button", name="Delete").click()
    mistake.get_by_role("button", name="Really delete?").click()
    bob.send("The typing indicator is nice too")
    field = edit(bob, "The typing indicator is nice too")
    field.fill("The typing indicator is nice too, and the presence dots.")
    field.press("Enter")
    carol.send("Mockups for the new sidebar are up")
    carol.send("Feedback welcome before Friday")
    start_conversation(bob, "alice")
    expect(bob.page.locator("#room-title")).to_have_text("alice")
    bob.send("Lunch at noon?")

    expect(alice.message("and the presence dots.").locator(".edited")).to_have_count(1)
    expect(alice.message("favourite part").locator(".quote-text")).to_contain_text("release notes")
    expect(alice.page.locator("li.message.deleted")).to_have_count(1)
    expect(room_item(alice, "general").locator(".room-preview")).to_have_text(
        "bob: The typing indicator is nice too, and the presence dots."
    )
    expect(room_item(alice, "design").locator(".badge")).to_have_text("2")
    expect(dm_item(alice, "bob").locator(".badge")).to_have_text("1")
    expect(dm_item(alice, "bob").locator(".room-preview")).to_have_text("Lunch at noon?")
    expect(alice.page).to_have_title("(3) Chat")
    room_item(carol, "general").click()
    carol.page.locator("#composer-input").press_sequentially("Looks great")
    expect(alice.page.locator("#typing-indicator")).to_have_text("carol is typing…")
    alice.open_members()
    for name in ("alice", "carol"):
        expect(alice.member(name).locator(".presence-text")).to_have_text("here now")
    expect(alice.member("bob").locator(".presence-text")).to_have_text("online")
    alice.page.locator("#composer-input").focus()
    alice.screenshot("overview")
    for user in (alice, bob, carol):
        user.assert_clean()
