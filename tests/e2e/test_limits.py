"""The message budget on the real server: REST and Socket.IO spend one budget; the
socket is answered `rate_limited` and stays open, REST gets a 429 with Retry-After."""

from __future__ import annotations

import pytest

from .harness import MODES, Api


@pytest.mark.parametrize("mode", MODES)
def test_one_message_budget_for_rest_and_socket(mode, server_factory, sockets) -> None:
    server = server_factory(mode, RATELIMIT_ENABLED="true", RATELIMIT_MESSAGES="3 per minute")
    api = Api(server.url)
    alice = api.user("alice")
    room_id = api.create_room(alice, "general")["id"]
    api.post_message(alice, room_id, "one by REST")
    sock = sockets(server, alice.token)
    sock.ok("join", {"room_id": room_id})
    sock.ok("message", {"room_id": room_id, "content": "two by socket"})
    sock.ok("message", {"room_id": room_id, "content": "three by socket"})
    refused = sock.call("message", {"room_id": room_id, "content": "four"})
    assert refused["ok"] is False
    assert refused["error"]["code"] == "rate_limited" and refused["error"]["retry_after"] >= 1
    assert sock.sio.connected
    assert sock.ok("fetch", {"room_id": room_id})["messages"][-1]["content"] == "three by socket"
    response = api.request(
        "POST", f"/api/rooms/{room_id}/messages", alice, json={"content": "five"}
    )
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) >= 1
    assert response.json()["code"] == "rate_limited"
    assert len(api.history(alice, room_id).json()["messages"]) == 3
