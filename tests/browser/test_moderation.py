"""Rooms and moderation in the web client: the members panel, invites, removals, roles,
the handover, room settings and deletion, each seen from both sides, live.

Waits are Playwright's own (`expect` polls until its deadline); nothing sleeps.
"""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.e2e.harness import Api

from .conftest import WebUser
from .test_client import in_room, no_horizontal_scroll

# Drops the next `member_updated` this page receives, as a lost event would.
DROP_NEXT_MEMBER_UPDATED = """() => {
  const original = io.Socket.prototype.emitEvent;
  window.__dropped = false;
  io.Socket.prototype.emitEvent = function (args) {
    if (args[0] === "member_updated" && !window.__dropped) {
      window.__dropped = true;
      return;
    }
    return original.call(this, args);
  };
}"""


def test_an_owner_invites_someone_into_a_private_room(people: Any) -> None:
    alice = people("alice").sign_up()
    bob = people("bob").sign_up()
    alice.create_room("secret", private=True)
    alice.send("for invited eyes only")
    expect(alice.message("for invited eyes only")).to_have_count(1)
    bob.page.click("#browse-button")
    expect(bob.page.locator("#browse-empty")).to_be_visible()  # invisible to outsiders
    bob.page.click("#browse-dialog [data-close]")

    members = alice.open_members()
    expect(alice.member("alice")).to_contain_text("owner")
    expect(members.locator("li.member")).to_have_count(1)
    # The picker, by keyboard: type, arrow down to the person, Enter.
    page = alice.page
    expect(page.locator("#invite-query")).to_be_focused()
    page.keyboard.type("bo")
    invite = page.get_by_role("button", name="Invite bob")
    expect(invite).to_be_visible()
    alice.screenshot("members-invite-picker")
    page.keyboard.press("ArrowDown")
    expect(invite).to_be_focused()
    page.keyboard.press("Enter")
    expect(alice.member("bob")).to_contain_text("member")
    expect(page.locator("#invite-results li").filter(has_text="bob")).to_contain_text("Member")
    expect(page.locator("#room-meta")).to_contain_text("2 members")
    expect(page.locator("#room-notice")).to_have_text("bob joined the room")

    # Bob's list gains the room at once, with a notice; he can open it and read.
    expect(bob.page.locator("#app-notice-text")).to_contain_text("You were added to secret.")
    item = bob.page.locator(".room-item").filter(has_text="secret")
    expect(item).to_have_count(1)
    expect(item).to_contain_text("private")
    bob.screenshot("invited")
    item.click()
    expect(bob.message("for invited eyes only")).to_have_count(1)
    bob.send("thanks for having me")
    expect(alice.message("thanks for having me")).to_have_count(1)
    alice.screenshot("members-panel")
    alice.assert_clean()
    bob.assert_clean()


def test_an_admin_removes_a_member_whose_room_goes_away_live(people: Any) -> None:
    alice, bob = in_room(people)
    carol = people("carol").sign_up()
    carol.join_room("general")
    carol.send("hi all")
    expect(alice.message("hi all")).to_have_count(1)

    alice.open_members()
    alice.page.get_by_role("button", name="Make bob an admin").click()
    expect(alice.member("bob")).to_contain_text("admin")
    expect(bob.page.locator("#room-notice")).to_have_text("You are now an admin of this room")

    # Bob is an admin (`member_updated`), with Remove on carol.
    bob.open_members()
    expect(bob.member("bob")).to_contain_text("admin")
    expect(bob.page.locator("#invite-form")).to_be_visible()
    expect(bob.page.get_by_role("button", name="Remove alice")).to_have_count(0)  # the owner
    remove_carol = bob.page.get_by_role("button", name="Remove carol")
    expect(remove_carol).to_be_visible()

    # Alice makes carol an admin too, and bob's page misses the news (as if the event
    # were lost): his Remove is stale, the server refuses it, and the refusal shows
    # beside carol.
    bob.page.evaluate(DROP_NEXT_MEMBER_UPDATED)
    alice.page.get_by_role("button", name="Make carol an admin").click()
    expect(alice.member("carol")).to_contain_text("admin")
    bob.page.wait_for_function("window.__dropped === true")
    bob.confirm("Remove carol", "Really remove carol? They cannot rejoin until invited.")
    refusal = bob.member("carol").locator(".member-error")
    expect(refusal).to_have_text(re.compile("may not remove the owner, an equal"))
    expect(bob.member("carol")).to_contain_text("admin")  # the list was read again
    expect(remove_carol).to_have_count(0)
    bob.screenshot("members-refused")

    # Back to a plain member: this time bob's list follows live.
    alice.page.get_by_role("button", name="Make carol a member").click()
    expect(alice.member("carol").locator(".role")).to_have_text("member")
    expect(bob.member("carol").locator(".role")).to_have_text("member")
    expect(bob.page.locator("#room-notice")).to_have_text("carol is now a member of this room")
    bob.confirm("Remove carol", "Really remove carol? They cannot rejoin until invited.")

    # Carol's open room goes away, with a notice; her page shows none of it any more.
    expect(carol.page.locator("#app-notice-text")).to_have_text(
        re.compile("You were removed from general.")
    )
    expect(carol.page.locator("#no-room")).to_be_visible()
    expect(carol.page.locator(".room-item")).to_have_count(0)
    expect(carol.page.locator("#message-list li")).to_have_count(0)
    carol.screenshot("removed")
    for user in (alice, bob):
        expect(user.member("carol")).to_have_count(0)
        expect(user.page.locator("#room-meta")).to_contain_text("2 members")
    expect(alice.page.locator("#room-notice")).to_have_text("carol was removed from the room")

    # The owner keeps chatting; carol receives nothing.
    alice.send("still here without carol")
    expect(bob.message("still here without carol")).to_have_count(1)
    assert carol.page.locator("#message-list").inner_text() == ""
    # And she cannot come back by herself.
    item = carol.browse_item("general")
    item.locator("button[type=submit]").click()
    expect(item.locator(".field-error")).to_contain_text("an admin must invite you back")
    for user in (alice, bob, carol):
        user.assert_clean()


def test_a_role_change_and_a_handover_show_on_both_sides(people: Any) -> None:
    alice, bob = in_room(people)
    alice.open_members()
    bob.open_members()
    expect(bob.page.locator("#invite-form")).to_be_hidden()  # a plain member
    expect(bob.page.locator("#settings-button")).to_be_hidden()

    alice.page.get_by_role("button", name="Make bob an admin").click()
    expect(alice.member("bob").locator(".role")).to_have_text("admin")
    # Bob's panel, open, follows live (`member_updated`), and so do his controls.
    expect(bob.member("bob").locator(".role")).to_have_text("admin")
    expect(bob.page.locator("#room-notice")).to_have_text("You are now an admin of this room")
    expect(bob.page.locator("#invite-form")).to_be_visible()
    expect(bob.page.locator("#settings-button")).to_be_visible()

    # The handover asks first, then is live on both sides (`room_updated`).
    alice.page.get_by_role("button", name="Make bob the owner").click()
    expect(alice.member("bob").locator(".role")).to_have_text("admin")  # not yet
    alice.screenshot("handover-confirm")
    alice.page.get_by_role(
        "button", name="Really hand this room over to bob? You become an admin."
    ).click()
    for user in (alice, bob):
        expect(user.member("bob").locator(".role")).to_have_text("owner")
        expect(user.member("alice").locator(".role")).to_have_text("admin")
    expect(bob.page.locator("#room-notice")).to_have_text("You are now the owner of this room")
    expect(alice.page.locator("#room-notice")).to_have_text("bob is now the owner of this room")
    # Who may do what follows: bob now has the owner's controls, alice an admin's.
    expect(bob.page.get_by_role("button", name="Make alice a member")).to_be_visible()
    expect(alice.page.get_by_role("button", name="Make bob an admin")).to_have_count(0)
    expect(alice.page.get_by_role("button", name="Remove bob")).to_have_count(0)
    bob.page.click("#settings-button")
    expect(bob.page.locator("#room-delete-section")).to_be_visible()
    bob.page.click("#room-settings-form [data-close]")
    alice.page.click("#settings-button")
    expect(alice.page.locator("#room-delete-section")).to_be_hidden()
    alice.page.click("#room-settings-form [data-close]")
    bob.screenshot("handover-new-owner")
    alice.assert_clean()
    bob.assert_clean()


def test_room_settings_change_shows_in_the_other_window(people: Any, api: Api) -> None:
    api.create_room(api.user("dave"), "taken-name")
    alice, bob = in_room(people)
    expect(bob.page.locator("#settings-button")).to_be_hidden()
    page = alice.page
    page.click("#settings-button")
    dialog = page.locator("#room-settings-dialog")
    expect(dialog).to_be_visible()
    expect(page.locator("#settings-name")).to_have_value("general")
    expect(page.locator("#settings-password-field")).to_be_hidden()

    page.fill("#settings-name", "TAKEN-name")
    page.click("#room-settings-form button[type=submit]")
    expect(page.locator("#settings-name-error")).to_have_text("Already taken.")
    page.check("#settings-password-on")
    expect(page.locator("#settings-password")).to_be_focused()
    page.fill("#settings-name", "renamed")
    page.click("#room-settings-form button[type=submit]")
    expect(page.locator("#settings-password-error")).to_contain_text("Choose the password")
    page.fill("#settings-description", "<b>new topic</b>")
    page.select_option("#settings-visibility", "private")
    page.fill("#settings-password", "sesame")
    alice.screenshot("room-settings")
    page.click("#room-settings-form button[type=submit]")
    expect(dialog).to_be_hidden()

    for user in (alice, bob):
        expect(user.page.locator("#room-title")).to_have_text("renamed")
        meta = user.page.locator("#room-meta")
        for fact in ("private", "password", "<b>new topic</b>"):
            expect(meta).to_contain_text(fact)
        expect(user.page.locator(".room-item .room-name")).to_have_text("renamed")
        expect(user.page.locator("#room-meta b")).to_have_count(0)
    expect(bob.page.locator("#room-notice")).to_have_text("The room is now called renamed")

    # Removing the password: the box unticked.
    page.click("#settings-button")
    expect(page.locator("#settings-password-on")).to_be_checked()
    expect(page.locator("#settings-password-note")).to_contain_text("keep the current one")
    page.uncheck("#settings-password-on")
    page.click("#room-settings-form button[type=submit]")
    expect(dialog).to_be_hidden()
    expect(bob.page.locator("#room-meta")).not_to_contain_text("password")
    expect(bob.page.locator("#room-meta")).to_contain_text("private")
    alice.assert_clean()
    bob.assert_clean()


def test_deleting_a_room_removes_it_in_the_other_windows(people: Any) -> None:
    alice, bob = in_room(people, "doomed")
    carol = people("carol").sign_up()
    carol.join_room("doomed")
    carol.create_room("elsewhere")  # carol now watches this one, not "doomed"
    alice.send("last words")
    expect(bob.message("last words")).to_have_count(1)

    alice.page.click("#settings-button")
    alice.confirm("Delete room", "Really delete it, with its history?")
    expect(alice.page.locator("#room-settings-dialog")).to_be_hidden()
    for user in (alice, bob):
        expect(user.page.locator("#app-notice-text")).to_have_text("doomed was deleted.")
        expect(user.page.locator(".room-item").filter(has_text="doomed")).to_have_count(0)
        expect(user.page.locator("#no-room")).to_be_visible()
    assert bob.page.locator("#message-list").inner_text() == ""
    bob.screenshot("room-deleted")

    # Carol, looking at another room, loses it from her list too, with a notice.
    expect(carol.page.locator("#app-notice-text")).to_have_text("doomed was deleted.")
    expect(carol.page.locator(".room-item").filter(has_text="doomed")).to_have_count(0)
    expect(carol.page.locator("#room-title")).to_have_text("elsewhere")
    for user in (alice, bob, carol):
        user.assert_clean()


def test_the_moderation_views_fit_a_phone(people: Any) -> None:
    alice: WebUser = people("alice", width=375, height=740).sign_up()
    alice.create_room("a-room-with-a-rather-long-name-for-a-phone-screen")
    no_horizontal_scroll(alice)
    alice.screenshot("phone-room-header")
    alice.open_members()
    alice.page.fill("#invite-query", "ali")
    expect(alice.page.locator("#invite-results li")).to_have_count(1)
    expect(alice.page.locator("#timeline")).to_be_hidden()  # the panel takes its place
    fits(alice, ".members-panel")
    alice.screenshot("phone-members")
    alice.page.click("#members-close")
    expect(alice.page.locator("#members-button")).to_be_focused()
    alice.page.click("#settings-button")
    fits(alice, "#room-settings-dialog")
    alice.screenshot("phone-room-settings")
    alice.page.keyboard.press("Escape")
    alice.page.click("#back-button")  # one pane at a time: the account is in the list's
    alice.open_account()
    fits(alice, "#account-dialog")
    alice.screenshot("phone-account")
    alice.assert_clean()


def fits(user: WebUser, selector: str) -> None:
    no_horizontal_scroll(user)
    width = user.page.locator(selector).evaluate("el => [el.scrollWidth, el.clientWidth]")
    assert width[0] <= width[1] + 1, (selector, width)
