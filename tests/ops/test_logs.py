"""One log line per request and per Socket.IO event, with a request id, and nothing
private in any of them."""

from __future__ import annotations

import json
import logging

import pytest

from chat.ops.logs import JsonFormatter

ACCESS = "chat.access"


@pytest.fixture
def lines(caplog):
    caplog.set_level(logging.INFO, logger=ACCESS)
    return lambda: [r for r in caplog.records if r.name == ACCESS]


def test_a_request_is_logged_with_its_id_status_user_and_duration(client, auth, lines):
    alice = auth.user("alice")
    response = client.get("/api/users/me", headers={**alice.headers, "X-Request-ID": "abc-123"})
    assert response.headers["X-Request-ID"] == "abc-123"
    record = lines()[-1]
    assert record.request_id == "abc-123"
    assert (record.method, record.path, record.status) == ("GET", "/api/users/me", 200)
    assert record.route == "/api/users/me"
    assert record.user_id == alice.id
    assert record.duration_ms >= 0


@pytest.mark.parametrize("given", [None, "", "has space", "x" * 200, "semi;colon"])
def test_a_missing_or_odd_request_id_is_replaced(client, lines, given):
    headers = {"X-Request-ID": given} if given is not None else {}
    response = client.get("/health", headers=headers)
    generated = response.headers["X-Request-ID"]
    assert generated and generated != given and len(generated) == 32
    assert lines()[-1].request_id == generated
    assert lines()[-1].user_id is None


def test_socket_events_are_logged_with_their_outcome(sio, auth, api, room, lines):
    owner, general = room
    sock = sio(owner.token)
    sock.emit("join", {"room_id": general["id"]}, namespace="/chat", callback=True)
    sock.emit("message", {"room_id": general["id"]}, namespace="/chat", callback=True)
    events = [r for r in lines() if getattr(r, "event", None)]
    assert [(r.event, r.outcome, r.code) for r in events] == [
        ("join", "ok", None),
        ("message", "invalid", "invalid"),
    ]
    assert all(r.user_id == owner.id and r.namespace == "/chat" and r.sid for r in events)


def test_no_password_token_or_message_text_reaches_the_log(client, auth, api, room, caplog):
    caplog.set_level(logging.DEBUG)
    owner, general = room
    secret = "correct-horse-battery"
    client.post("/api/auth/register", json={"username": "carol", "password": secret})
    login = client.post("/api/auth/login", json={"username": "carol", "password": secret})
    token = login.json["access_token"]
    api.post(owner, general["id"], "the private words")
    client.get(f"/api/users/me?token={token}", headers={"Authorization": f"Bearer {token}"})
    text = "\n".join(
        JsonFormatter().format(r) + " " + str(getattr(r, "__dict__", "")) for r in caplog.records
    )
    for private in (secret, token, owner.token, "the private words"):
        assert private not in text


def test_the_json_format_is_one_object_per_line_with_the_fields(client, lines):
    client.get("/health", headers={"X-Request-ID": "r-1"})
    line = JsonFormatter().format(lines()[-1])
    assert "\n" not in line
    data = json.loads(line)
    assert data["request_id"] == "r-1" and data["status"] == 200 and data["level"] == "info"
    assert data["time"].endswith("Z") and data["logger"] == ACCESS
