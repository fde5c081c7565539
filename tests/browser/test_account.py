"""Your account in the web client: profile, username, password, deletion, and the
email confirmation a server with EMAIL_VERIFICATION=on asks for (against a real SMTP
server, aiosmtpd, reading the code out of the mail as a person would).

Waits are Playwright's own (`expect` polls until its deadline); nothing sleeps.
"""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.e2e.harness import PASSWORD, Api
from tests.mail_server import MailServer

from .test_client import HOSTILE, in_room

NEW_PASSWORD = "a-brand-new-one"


def test_a_profile_change_shows_to_you_and_to_the_others(people: Any, api: Api) -> None:
    alice, bob = in_room(people)
    icon = f"{alice.base_url}/static/web/img/icon.svg"  # an image this origin serves
    dialog = alice.open_account()
    page = alice.page
    expect(page.locator("#profile-display-name")).to_have_value("")
    expect(page.locator("#account-username")).to_have_value("alice")
    expect(page.locator("#profile-avatar .avatar-letter")).to_have_text("A")

    page.fill("#profile-avatar-url", "javascript:alert(1)")
    page.click("#profile-form button[type=submit]")
    expect(page.locator("#profile-avatar-url-error")).to_have_text("Not a valid URL.")
    expect(page.locator("#profile-avatar-url")).to_have_attribute("aria-invalid", "true")
    page.fill("#profile-display-name", HOSTILE)
    page.fill("#profile-avatar-url", icon)
    page.click("#profile-form button[type=submit]")
    expect(dialog.locator("#profile-form .saved")).to_have_text("Saved.")
    expect(page.locator("#profile-avatar-url-error")).to_be_empty()
    expect(page.locator("#profile-avatar img")).to_have_attribute("src", icon)

    # Username: taken (ignoring case) is refused beside the field; a free one is kept.
    page.fill("#account-username", "BOB")
    page.click("#username-form button[type=submit]")
    expect(page.locator("#account-username-error")).to_have_text("Already taken.")
    page.fill("#account-username", "alice2")
    page.click("#username-form button[type=submit]")
    expect(dialog.locator("#username-form .saved")).to_contain_text("Saved")
    alice.screenshot("account")
    dialog.get_by_role("button", name="Close account settings").click()

    expect(page.locator("#me-name")).to_have_text(HOSTILE)
    expect(page.locator("#me-avatar img")).to_have_attribute("src", icon)
    expect(page.locator("body")).to_have_attribute("data-user", "alice2")
    # The others see the new profile in the members list: text, and the picture.
    bob.open_members()
    row = bob.member("alice2")
    expect(row.locator(".member-display")).to_have_text(HOSTILE)
    expect(row.locator("img.avatar")).to_have_attribute("src", icon)
    # A picture the page may not load (not https, not this origin) is the initial.
    api.request(
        "PATCH",
        "/api/users/me",
        api.login("bob"),
        json={"avatar_url": "http://example.invalid/me.png"},
    )
    bob.reopen_members()
    expect(bob.member("bob").locator("img")).to_have_count(0)
    expect(bob.member("bob").locator(".avatar-letter")).to_have_text("B")
    bob.screenshot("members-avatars")
    for user in (alice, bob):
        expect(user.page.locator("img[src='x'], #member-list script")).to_have_count(0)
        user.assert_clean()

    # The new username signs in.
    page.click("#signout-button")
    alice.sign_in("alice2")
    expect(page.locator("#me-name")).to_have_text(HOSTILE)


def test_a_password_change_keeps_this_session_and_signs_out_the_others(people: Any) -> None:
    laptop = people("alice").sign_up()
    laptop.create_room("passwords")
    phone = people("alice-phone").sign_in("alice")
    phone.open_room("passwords")
    old_tokens = laptop.page.evaluate("localStorage.getItem('chat.refreshToken')")

    laptop.open_account()
    page = laptop.page
    page.fill("#password-current", "not my password")
    page.fill("#password-new", NEW_PASSWORD)
    page.click("#password-form button[type=submit]")
    expect(page.locator("#password-current-error")).to_have_text("The password is wrong.")
    page.fill("#password-current", PASSWORD)
    page.fill("#password-new", "short")
    page.click("#password-form button[type=submit]")
    expect(page.locator("#password-new-error")).to_contain_text("8")
    expect(page.locator("#password-current-error")).to_be_empty()
    page.fill("#password-new", NEW_PASSWORD)
    page.click("#password-form button[type=submit]")
    expect(page.locator("#password-form .saved")).to_contain_text("Password changed")
    laptop.screenshot("password-changed")
    page.keyboard.press("Escape")

    # The other browser's session has ended: it is back at the sign-in form, told why.
    expect(phone.page.locator("#signin-form")).to_be_visible()
    expect(phone.page.locator("#signin-form .form-error")).to_contain_text("sign-in has ended")
    assert phone.page.evaluate("localStorage.getItem('chat.refreshToken')") is None
    phone.screenshot("signed-out-elsewhere")

    # This one carries on with the new session's tokens, live and after a reload.
    assert page.evaluate("localStorage.getItem('chat.refreshToken')") != old_tokens
    expect(page.locator("body")).to_have_attribute("data-connection", "online")
    laptop.send("still signed in")
    expect(laptop.message("still signed in")).to_have_count(1)
    page.reload()
    expect(page.locator("#room-title")).to_have_text("passwords")
    expect(laptop.message("still signed in")).to_have_count(1)

    phone.page.fill("#signin-login", "alice")
    phone.page.fill("#signin-password", PASSWORD)
    phone.page.click("#signin-form button[type=submit]")
    expect(phone.page.locator("#signin-form .form-error")).to_have_text(
        "Wrong username or password."
    )
    phone.sign_in("alice", NEW_PASSWORD)
    phone.open_room("passwords")
    expect(phone.message("still signed in")).to_have_count(1)
    laptop.assert_clean()
    phone.assert_clean()


def test_a_refresh_refused_mid_change_waits_for_the_new_tokens(people: Any) -> None:
    """The server closes this page's socket with its old session before the password
    change is answered; the socket's reconnection then refreshes with the old token and
    is refused. Forced here: the answer is held until that refusal has reached the
    page. The refusal must wait for the answer, not sign the page out."""
    alice = people("alice").sign_up()
    alice.create_room("race")
    page = alice.page
    held: list[tuple[Any, Any]] = []
    refused: list[int] = []

    def hold_answer(route: Any) -> None:
        held.append((route, route.fetch()))

    def refresh_then_answer(route: Any) -> None:
        response = route.fetch()
        route.fulfill(response=response)
        if held and response.status == 401:
            refused.append(response.status)
            answer_route, answer = held.pop()
            answer_route.fulfill(response=answer)

    page.route("**/api/users/me/password", hold_answer)
    page.route("**/api/auth/refresh", refresh_then_answer)
    alice.open_account()
    page.fill("#password-current", PASSWORD)
    page.fill("#password-new", NEW_PASSWORD)
    page.click("#password-form button[type=submit]")
    expect(page.locator("#password-form .saved")).to_contain_text("Password changed")
    assert refused == [401]  # the race happened, in that order
    page.keyboard.press("Escape")
    expect(page.locator("body")).to_have_attribute("data-connection", "online")
    alice.send("signed in throughout")
    expect(alice.message("signed in throughout")).to_have_count(1)
    expect(page.locator("#signin-form")).to_be_hidden()
    alice.assert_clean()


def test_deleting_an_account_signs_out_and_passes_its_rooms_on(people: Any) -> None:
    bob = people("bob").sign_up()
    alice = people("alice").sign_up()
    bob.create_room("bobs-room")
    alice.join_room("bobs-room")
    bob.send("hello from bob")
    expect(alice.message("hello from bob")).to_have_count(1)
    expect(alice.page.locator("#settings-button")).to_be_hidden()

    dialog = bob.open_account()
    page = bob.page
    delete = dialog.locator("#delete-account-button")
    delete.click()
    expect(page.locator("#delete-password-error")).to_have_text("Enter your password to confirm.")
    page.fill("#delete-password", "not my password")
    delete.click()
    expect(delete).to_have_text("Really delete my account?")  # one more step
    delete.click()
    expect(page.locator("#delete-password-error")).to_have_text("The password is wrong.")
    expect(page.locator("#chat-view")).to_be_visible()
    page.fill("#delete-password", PASSWORD)
    delete.click()
    bob.screenshot("delete-account-confirm")
    delete.click()

    expect(page.locator("#signin-form")).to_be_visible()
    expect(page.locator("#signin-form .form-error")).to_have_text("Your account has been deleted.")
    assert page.evaluate("localStorage.getItem('chat.refreshToken')") is None
    # Alice, watching the room, sees bob go and the room become hers.
    expect(alice.page.locator("#room-notice")).to_have_text(
        re.compile("You are now the owner of this room|bob left the room")
    )
    expect(alice.page.locator("#settings-button")).to_be_visible()
    expect(alice.page.locator("#room-meta")).to_contain_text("1 member")
    alice.page.reload()
    expect(alice.message("hello from bob").locator(".author")).to_have_text("Deleted account")
    # The name is free again.
    bob.page.click("#show-signup")
    bob.sign_up("bob")
    expect(bob.page.locator(".room-item")).to_have_count(0)
    alice.assert_clean()
    bob.assert_clean()


def test_email_verification_with_a_code_from_the_mail(server_factory: Any, people: Any) -> None:
    with MailServer() as smtp:
        server = server_factory(
            "eventlet",
            EMAIL_VERIFICATION="on",
            SMTP_HOST="127.0.0.1",
            SMTP_PORT=str(smtp.port),
        )
        dora = people("dora", server=server)
        page = dora.page
        page.click("#show-signup")
        expect(page.locator("label[for=signup-email]")).to_contain_text("we send you a code")
        page.fill("#signup-username", "dora")
        page.fill("#signup-password", PASSWORD)
        page.click("#signup-form button[type=submit]")
        expect(page.locator("#signup-email-error")).to_contain_text("this server verifies emails")
        page.fill("#signup-email", "dora@example.com")
        page.click("#signup-form button[type=submit]")

        form = page.locator("#verify-form")
        expect(form).to_be_visible()
        expect(page.locator("#verify-intro")).to_contain_text("dora@example.com")
        expect(page.locator("#verify-email")).to_have_value("dora@example.com")
        expect(page.locator("#verify-code")).to_be_focused()
        dora.screenshot("verify-email")
        # A code went out a moment ago: another must wait, as long as the server says.
        page.click("#resend-button")
        expect(page.locator("#resend-status")).to_contain_text(re.compile(r"another in \d+ s"))
        expect(page.locator("#resend-button")).to_be_disabled()
        dora.screenshot("verify-resend-wait")

        code = smtp.inbox.code_for("dora@example.com")
        page.fill("#verify-code", wrong(code))
        page.click("#verify-form button[type=submit]")
        expect(page.locator("#verify-code-error")).to_contain_text("Wrong or expired code.")
        expect(page.locator("#verify-code")).to_have_attribute("aria-invalid", "true")
        page.fill("#verify-code", code)
        page.click("#verify-form button[type=submit]")
        expect(page.locator("#me-name")).to_have_text("dora")
        expect(page.locator("body")).to_have_attribute("data-connection", "online")
        dora.assert_clean()

        # An account left unconfirmed: signing in leads to the code form, which asks
        # for the email (signed in by username, the page does not know it).
        api = Api(server.url)
        body = {"username": "erin", "password": PASSWORD, "email": "erin@example.com"}
        assert api.request("POST", "/api/auth/register", json=body).status_code == 201
        page.click("#signout-button")
        page.fill("#signin-login", "erin")
        page.fill("#signin-password", PASSWORD)
        page.click("#signin-form button[type=submit]")
        expect(form).to_be_visible()
        expect(page.locator("#verify-email")).to_have_value("")
        expect(page.locator("#verify-email")).to_be_focused()
        page.fill("#verify-code", smtp.inbox.code_for("erin@example.com"))
        page.click("#verify-form button[type=submit]")
        expect(page.locator("#verify-email-error")).to_contain_text("Enter the email")
        page.fill("#verify-email", "erin@example.com")
        page.click("#verify-form button[type=submit]")
        expect(page.locator("#me-name")).to_have_text("erin")
        dora.assert_clean()


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"
