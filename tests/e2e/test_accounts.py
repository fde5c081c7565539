"""Accounts and moderation end to end: the real server (eventlet, then gevent), real
Socket.IO clients, and for mail a real SMTP server (aiosmtpd) on a free port."""

from __future__ import annotations

import threading

import pytest

from tests.mail_server import MailServer, SilentServer

from .harness import MODES, PASSWORD, WAIT, Api


def test_a_password_change_disconnects_a_live_socket(server, api: Api, sockets) -> None:
    alice = api.user("alice")
    phone = api.login("alice")  # another sign-in of hers, with a live socket
    room_id = api.create_room(alice, "passwords")["id"]
    live = sockets(server, phone.token)
    live.ok("join", {"room_id": room_id})

    response = api.request(
        "PUT",
        "/api/users/me/password",
        alice,
        json={"password": PASSWORD, "new_password": "a-brand-new-one"},
    )
    assert response.status_code == 200, response.text
    fresh = response.json()

    assert live.disconnected.wait(WAIT), "the socket outlived the password change"
    for old in (alice, phone):
        assert api.request("GET", "/api/users/me", old).status_code == 401
        assert sockets(server, old.token, connect=False).refused() == "unauthorized"
    # The client that changed it stays signed in, with the new session's tokens.
    again = sockets(server, fresh["access_token"])
    again.ok("join", {"room_id": room_id})
    sent = again.ok("message", {"room_id": room_id, "content": "new password, same me"})
    assert again.wait_messages(room_id, 1) == [sent["message"]]


def test_account_deletion_passes_ownership_and_closes_sockets(server, api: Api, sockets) -> None:
    alice, bob, carol = api.user("alice"), api.user("bob"), api.user("carol")
    room_id = api.create_room(alice, "inherited")["id"]
    for user in (bob, carol):
        assert api.request("POST", f"/api/rooms/{room_id}/join", user).status_code == 200
    made_admin = api.request(
        "PATCH", f"/api/rooms/{room_id}/members/{carol.id}", alice, json={"role": "admin"}
    )
    assert made_admin.status_code == 200
    said = api.post_message(alice, room_id, "goodbye")
    hers = sockets(server, alice.token)
    hers.ok("join", {"room_id": room_id})
    watcher = sockets(server, bob.token)
    watcher.ok("join", {"room_id": room_id})

    gone = api.request("DELETE", "/api/users/me", alice, json={"password": PASSWORD})
    assert gone.status_code == 204, gone.text

    assert hers.disconnected.wait(WAIT), "the deleted account's socket stayed open"
    updated = watcher.wait_for(
        lambda s: s.received("room_updated", room_id), what="room_updated for the handover"
    )
    assert updated[-1]["room"]["owner_id"] == carol.id  # the admin, though bob came first
    assert [e["user"]["id"] for e in watcher.received("user_left", room_id)] == [alice.id]
    room = api.request("GET", f"/api/rooms/{room_id}", bob).json()
    assert (room["owner_id"], room["member_count"]) == (carol.id, 2)
    [kept] = api.history(bob, room_id).json()["messages"]
    assert kept["id"] == said["id"]
    assert kept["author"] == {
        "id": alice.id,
        "username": "deleted",
        "display_name": "Deleted account",
    }
    assert api.user("alice").id != alice.id  # the name is free again


# -- mail under the real hubs: sent from the thread pool, never blocking ------------


@pytest.mark.parametrize("mode", MODES)
def test_verification_mail_from_the_real_server(mode, server_factory) -> None:
    with MailServer() as smtp:
        server = server_factory(
            mode, EMAIL_VERIFICATION="on", SMTP_HOST="127.0.0.1", SMTP_PORT=str(smtp.port)
        )
        api = Api(server.url)
        body = {"username": "alice", "password": PASSWORD, "email": "alice@example.com"}
        assert api.request("POST", "/api/auth/register", json=body).status_code == 201
        refused = api.request(
            "POST", "/api/auth/login", json={"username": "alice", "password": PASSWORD}
        )
        assert refused.status_code == 403 and refused.json()["code"] == "unverified"
        code = smtp.inbox.code_for("alice@example.com")
        verified = api.request(
            "POST", "/api/auth/verify", json={"email": "alice@example.com", "code": code}
        )
        assert verified.status_code == 200, verified.text
        assert api.login("alice").id == verified.json()["id"]


@pytest.mark.parametrize("mode", MODES)
def test_a_silent_mail_server_costs_only_its_request(mode, server_factory) -> None:
    """The SMTP conversation waits on the thread pool: while a registration waits for a
    mail server that never answers, the server goes on answering everyone else."""
    with SilentServer() as silent:
        server = server_factory(
            mode,
            EMAIL_VERIFICATION="on",
            SMTP_HOST="127.0.0.1",
            SMTP_PORT=str(silent.port),
            SMTP_TIMEOUT="3",
        )
        api = Api(server.url)
        answers: list = []
        body = {"username": "alice", "password": PASSWORD, "email": "alice@example.com"}
        waiting = threading.Thread(
            target=lambda: answers.append(
                Api(server.url).request("POST", "/api/auth/register", json=body)
            )
        )
        waiting.start()
        assert silent.connected.wait(WAIT), "the server never called the mail server"
        # Meanwhile (the registration is stuck on the mail server) others are served.
        served = [api.request("GET", "/health").status_code for _ in range(5)]
        bob = api.request("POST", "/register", json={"username": "bob", "password": PASSWORD})
        still_waiting = waiting.is_alive()
        waiting.join(WAIT)
        assert served == [200] * 5
        assert bob.status_code == 422  # verification needs an email: answered, not stuck
        assert still_waiting, "the registration did not wait for the mail server at all"
        [response] = answers
        assert response.status_code == 503
        assert response.json()["code"] == "mail_unavailable"
