"""Smoke test of the production command: gunicorn as the Procfile runs it, one worker
of each async mode, APP_ENV=production with the secrets given."""

from __future__ import annotations

import pytest

from .harness import MODES, Api, wait_until


@pytest.mark.parametrize("mode", MODES)
def test_procfile_command_serves_rest_and_live_chat(mode, server_factory, sockets) -> None:
    server = server_factory(mode, gunicorn=True)
    assert server.command[-7:] == [
        "--worker-class",
        mode,
        "--workers",
        "1",
        "--bind",
        f"127.0.0.1:{server.port}",
        "wsgi:app",
    ]
    assert server.env["APP_ENV"] == "production"
    api = Api(server.url)
    assert api.request("GET", "/health").json() == {"status": "ok", "database": "ok"}

    alice = api.user("alice")  # /api/auth/register + /api/auth/login
    # bob uses the original routes, as the old curl scripts do.
    response = api.request("POST", "/register", json={"username": "bob", "password": "password123"})
    assert response.status_code == 201, response.text
    response = api.request("POST", "/login", json={"username": "bob", "password": "password123"})
    assert response.status_code == 200, response.text
    bob_token = response.json()["access_token"]

    room_id = api.create_room(alice, "prod")["id"]
    b = sockets(server, bob_token)
    joined = b.ok("join", {"room_id": room_id})
    assert joined["room"]["id"] == room_id and joined["messages"] == []
    # The socket gets off long-polling onto a websocket.
    wait_until(lambda: b.sio.transport() == "websocket", what="the websocket upgrade")

    rest = api.post_message(alice, room_id, "hello from REST")
    legacy = api.request(
        "POST", "/send_message", alice, json={"roomID": room_id, "message": "hello from curl"}
    )
    assert legacy.status_code == 201, legacy.text
    a = sockets(server, alice.token)
    a.ok("join", {"room_id": room_id})
    live = a.ok("message", {"room_id": room_id, "content": "hello from a socket"})["message"]

    got = b.wait_messages(room_id, 3)
    assert got == [rest, legacy.json(), live]
    assert [m["seq"] for m in got] == [1, 2, 3]
    history = api.request(
        "GET", f"/get_messages/{room_id}", headers={"Authorization": f"Bearer {bob_token}"}
    )
    assert history.status_code == 200 and history.json()["messages"] == got
    api.http.close()
