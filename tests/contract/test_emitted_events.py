"""Every payload the server sends validates against /asyncapi.json: each server event
sent through the real publisher, and every ack, captured by real test clients, on /chat
and on the original namespace `/`."""

from __future__ import annotations

import pytest

from chat import socketio
from chat.realtime.asyncapi import server_message
from chat.schemas.events import (
    CLIENT_EVENTS,
    LEGACY_CLIENT_EVENTS,
    LEGACY_SERVER_EVENTS,
    SERVER_EVENTS,
)

from .documents import Document

NS = "/chat"
CHANNELS = {"/chat": "chat", "/": "legacy"}


@pytest.fixture
def asyncapi(client) -> Document:
    return Document(client.get("/asyncapi.json").json)


def payload_pointer(document: Document, message: str, channel: str = "chat") -> str:
    return document.document["channels"][channel]["messages"][message]["payload"]["$ref"][1:]


class Recorder:
    """Calls events on test sockets, keeping every ack; collects every event received."""

    def __init__(self, document: Document):
        self.document = document
        self.acks: list[tuple[str, str, dict]] = []  # (namespace, event, ack)
        self.sockets: list[tuple[object, str]] = []  # (socket, namespace)

    def call(self, sock, event, data, namespace=NS):
        ack = sock.emit(event, data, namespace=namespace, callback=True)
        self.acks.append((namespace, event, ack))
        return ack

    def received(self):
        for sock, namespace in self.sockets:
            for item in sock.get_received(namespace):
                # Flask-SocketIO's test client keeps a `message` event's data unwrapped.
                args = item["args"]
                yield namespace, item["name"], args[0] if isinstance(args, list) else args


def test_every_server_event_and_ack_matches_its_schema(app, sio, auth, api, room, client, asyncapi):
    owner, general = room
    room_id = general["id"]
    bob, carol = auth.user("bob"), auth.user("carol")
    api.join(bob, room_id)
    rec = Recorder(asyncapi)
    owner_sock = sio(owner.token)
    bob_sock = sio(bob.token)  # presence: owner hears bob come online
    carol_sock = sio(carol.token)
    old_sock = socketio.test_client(
        app, namespace="/", auth={"token": owner.token}, flask_test_client=client
    )
    rec.sockets = [(owner_sock, NS), (bob_sock, NS), (carol_sock, NS), (old_sock, "/")]

    rec.call(owner_sock, "join", {"room_id": room_id})
    rec.call(bob_sock, "join", {"room_id": room_id, "after_seq": 0})
    rec.call(old_sock, "join", {"roomID": room_id}, "/")
    rec.call(carol_sock, "join", {"room_id": room_id})  # user_joined
    sent = rec.call(bob_sock, "message", {"room_id": room_id, "content": "hi", "client_id": "c1"})
    rec.call(bob_sock, "message", {"room_id": room_id, "content": "hi", "client_id": "c1"})
    first = sent["message"]["id"]
    rec.call(owner_sock, "message", {"room_id": room_id, "content": "re", "reply_to": first})
    rec.call(owner_sock, "edit_message", {"room_id": room_id, "message_id": first, "content": "x"})
    rec.call(bob_sock, "edit_message", {"room_id": room_id, "message_id": first, "content": "ok"})
    rec.call(bob_sock, "delete_message", {"room_id": room_id, "message_id": first})
    rec.call(owner_sock, "fetch", {"room_id": room_id, "before": 3, "limit": 1})
    rec.call(owner_sock, "online", {"room_id": room_id})
    rec.call(bob_sock, "typing", {"room_id": room_id, "typing": True})
    rec.call(bob_sock, "typing", {"room_id": room_id, "typing": False})
    rec.call(bob_sock, "read", {"room_id": room_id, "seq": 2})  # past his own post
    rec.call(carol_sock, "message", {"room_id": room_id})  # fails: error event + failed ack
    rec.call(bob_sock, "leave", {"room_id": room_id})  # bob now gets notifications
    old = rec.call(old_sock, "message", {"roomID": room_id, "message": "old school"}, "/")
    old_id = old["message"]["id"]
    rec.call(old_sock, "delete_message", {"roomID": room_id, "messageID": old_id}, "/")
    rec.call(old_sock, "delete_message", {"roomID": room_id, "messageID": "nope"}, "/")
    rec.call(old_sock, "leave", {"roomID": room_id}, "/")
    rec.call(carol_sock, "leave", {"room_id": room_id})
    assert client.post(f"/api/rooms/{room_id}/leave", headers=carol.headers).status_code == 204
    rec.call(owner_sock, "delete_message", {"room_id": room_id, "message_id": "nope"})
    # Moderation (issue 6): an edit, a removal, an invite back, then the room's end.
    dave = auth.user("dave")
    dave_sock = sio(dave.token)
    rec.sockets.append((dave_sock, NS))
    rec.call(dave_sock, "join", {"room_id": room_id})
    owner_headers = owner.headers
    changed = client.patch(
        f"/api/rooms/{room_id}", json={"description": "d"}, headers=owner_headers
    )
    assert changed.status_code == 200  # room_updated
    promoted = client.patch(
        f"/api/rooms/{room_id}/members/{dave.id}", json={"role": "admin"}, headers=owner_headers
    )
    assert promoted.status_code == 200  # member_updated
    demoted = client.patch(
        f"/api/rooms/{room_id}/members/{dave.id}", json={"role": "member"}, headers=owner_headers
    )
    assert demoted.status_code == 200
    removed = client.delete(f"/api/rooms/{room_id}/members/{dave.id}", headers=owner_headers)
    assert removed.status_code == 204  # member_removed
    invited = client.post(
        f"/api/rooms/{room_id}/members", json={"user_id": dave.id}, headers=owner_headers
    )
    assert invited.status_code == 201  # user_joined, to dave's socket too
    assert client.delete(f"/api/rooms/{room_id}", headers=owner_headers).status_code == 204

    seen: dict[str, set[str]] = {"/chat": set(), "/": set()}
    for namespace, name, payload in rec.received():
        events = SERVER_EVENTS if namespace == NS else LEGACY_SERVER_EVENTS
        assert name in events, f"undocumented server event {name} on {namespace}"
        pointer = payload_pointer(asyncapi, server_message(name), CHANNELS[namespace])
        errors = asyncapi.errors(pointer, payload)
        assert errors == [], f"{name} on {namespace}: {errors} in {payload}"
        seen[namespace].add(name)
    assert seen["/chat"] == set(SERVER_EVENTS), "drive every server event through this test"
    assert {"message", "new_message", "user_joined", "error"} <= seen["/"]

    outcomes = set()
    for namespace, event, ack in rec.acks:
        message = f"{event}_ack" if ack["ok"] else "failed_ack"
        errors = asyncapi.errors(payload_pointer(asyncapi, message, CHANNELS[namespace]), ack)
        assert errors == [], f"{event} ack on {namespace}: {errors} in {ack}"
        outcomes.add((namespace, event, ack["ok"]))
    assert {e for ns, e, ok in outcomes if ok and ns == NS} == set(CLIENT_EVENTS)
    assert {e for ns, e, ok in outcomes if ok and ns == "/"} == set(LEGACY_CLIENT_EVENTS)
    assert any(not ok for _, _, ok in outcomes)
    old_sock.disconnect("/")


def test_a_payload_off_its_schema_is_caught(asyncapi):
    """The check above can fail: a payload missing a field or with a wrong type."""
    pointer = payload_pointer(asyncapi, server_message("message_deleted"))
    assert asyncapi.errors(pointer, {"room_id": "r", "message_id": "m", "seq": 1}) == []
    assert asyncapi.errors(pointer, {"room_id": "r", "message_id": "m"})
    assert asyncapi.errors(pointer, {"room_id": "r", "message_id": "m", "seq": "1"})
    assert asyncapi.errors(pointer, {"room_id": "r", "message_id": "m", "seq": 1, "x": 0})
    flat = payload_pointer(asyncapi, server_message("message"), "legacy")
    assert asyncapi.errors(flat, {"messageID": "m", "roomID": "r"})
