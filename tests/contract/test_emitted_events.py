"""Every payload the server sends on /chat validates against /asyncapi.json: each server
event sent through the real publisher, and every ack, captured by real test clients."""

from __future__ import annotations

import pytest

from chat.schemas.events import CLIENT_EVENTS, SERVER_EVENTS

from .documents import Document

NS = "/chat"


@pytest.fixture
def asyncapi(client) -> Document:
    return Document(client.get("/asyncapi.json").json)


def payload_pointer(document: Document, message: str) -> str:
    return document.document["channels"]["chat"]["messages"][message]["payload"]["$ref"][1:]


class Recorder:
    """Calls events on test sockets, keeping every ack; collects every event received."""

    def __init__(self, document: Document):
        self.document = document
        self.acks: list[tuple[str, dict]] = []
        self.sockets: list = []

    def call(self, sock, event, data):
        ack = sock.emit(event, data, namespace=NS, callback=True)
        self.acks.append((event, ack))
        return ack

    def received(self):
        for sock in self.sockets:
            for item in sock.get_received(NS):
                yield item["name"], item["args"][0]


def test_every_server_event_and_ack_matches_its_schema(sio, auth, api, room, client, asyncapi):
    owner, general = room
    room_id = general["id"]
    bob, carol = auth.user("bob"), auth.user("carol")
    api.join(bob, room_id)
    rec = Recorder(asyncapi)
    owner_sock, bob_sock, carol_sock = sio(owner.token), sio(bob.token), sio(carol.token)
    rec.sockets = [owner_sock, bob_sock, carol_sock]

    rec.call(owner_sock, "join", {"room_id": room_id})
    rec.call(bob_sock, "join", {"room_id": room_id, "after_seq": 0})
    rec.call(carol_sock, "join", {"room_id": room_id})  # user_joined
    sent = rec.call(bob_sock, "message", {"room_id": room_id, "content": "hi", "client_id": "c1"})
    rec.call(bob_sock, "message", {"room_id": room_id, "content": "hi", "client_id": "c1"})
    first = sent["message"]["id"]
    rec.call(owner_sock, "message", {"room_id": room_id, "content": "re", "reply_to": first})
    rec.call(bob_sock, "delete_message", {"room_id": room_id, "message_id": first})
    rec.call(owner_sock, "fetch", {"room_id": room_id, "before": 3, "limit": 1})
    rec.call(owner_sock, "online", {"room_id": room_id})
    rec.call(carol_sock, "message", {"room_id": room_id})  # fails: error event + failed ack
    rec.call(carol_sock, "leave", {"room_id": room_id})
    assert client.post(f"/api/rooms/{room_id}/leave", headers=carol.headers).status_code == 204
    rec.call(owner_sock, "delete_message", {"room_id": room_id, "message_id": "nope"})
    # Moderation (issue 6): an edit, a removal, an invite back, then the room's end.
    dave = auth.user("dave")
    dave_sock = sio(dave.token)
    rec.sockets.append(dave_sock)
    rec.call(dave_sock, "join", {"room_id": room_id})
    owner_headers = owner.headers
    changed = client.patch(
        f"/api/rooms/{room_id}", json={"description": "d"}, headers=owner_headers
    )
    assert changed.status_code == 200  # room_updated
    removed = client.delete(f"/api/rooms/{room_id}/members/{dave.id}", headers=owner_headers)
    assert removed.status_code == 204  # member_removed
    invited = client.post(
        f"/api/rooms/{room_id}/members", json={"user_id": dave.id}, headers=owner_headers
    )
    assert invited.status_code == 201  # user_joined, to dave's socket too
    assert client.delete(f"/api/rooms/{room_id}", headers=owner_headers).status_code == 204

    seen = set()
    for name, payload in rec.received():
        assert name in SERVER_EVENTS, f"undocumented server event {name}"
        errors = asyncapi.errors(payload_pointer(asyncapi, name), payload)
        assert errors == [], f"{name}: {errors} in {payload}"
        seen.add(name)
    assert seen == set(SERVER_EVENTS), "drive every server event through this test"

    outcomes = set()
    for event, ack in rec.acks:
        message = f"{event}_ack" if ack["ok"] else "failed_ack"
        errors = asyncapi.errors(payload_pointer(asyncapi, message), ack)
        assert errors == [], f"{event} ack: {errors} in {ack}"
        outcomes.add((event, ack["ok"]))
    assert {e for e, ok in outcomes if ok} == set(CLIENT_EVENTS)
    assert any(not ok for _, ok in outcomes)


def test_a_payload_off_its_schema_is_caught(asyncapi):
    """The check above can fail: a payload missing a field or with a wrong type."""
    pointer = payload_pointer(asyncapi, "message_deleted")
    assert asyncapi.errors(pointer, {"room_id": "r", "message_id": "m", "seq": 1}) == []
    assert asyncapi.errors(pointer, {"room_id": "r", "message_id": "m"})
    assert asyncapi.errors(pointer, {"room_id": "r", "message_id": "m", "seq": "1"})
    assert asyncapi.errors(pointer, {"room_id": "r", "message_id": "m", "seq": 1, "x": 0})
