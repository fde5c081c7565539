"""SPEC 3.1: the original events on the default namespace `/`, with the original keys."""

from __future__ import annotations

import pytest

from chat import socketio
from tests.realtime.test_namespace import NS, call, events

OLD = "/"


@pytest.fixture
def old(app, client):
    """Factory of test clients on `/`, disconnected at teardown."""
    made = []

    def connect(token):
        auth = {"token": token} if token is not None else None
        sock = socketio.test_client(app, namespace=OLD, auth=auth, flask_test_client=client)
        made.append(sock)
        return sock

    yield connect
    for sock in made:
        if sock.is_connected(OLD):
            sock.disconnect(OLD)


def old_call(sock, event, data):
    return sock.emit(event, data, namespace=OLD, callback=True)


def old_events(sock):
    """(name, payload): the test client keeps a `message` event's data unwrapped."""
    got = []
    for item in sock.get_received(OLD):
        args = item["args"]
        got.append((item["name"], args[0] if isinstance(args, list) else args))
    return got


def flat(message):
    return {
        "messageID": message["id"],
        "roomID": message["room_id"],
        "userID": message["author"]["id"],
        "username": message["author"]["username"],
        "content": message["content"],
        "created_at": message["created_at"],
    }


@pytest.mark.parametrize("token", [None, "garbage"])
def test_no_token_no_connection(old, token):
    assert not old(token).is_connected(OLD)


def test_the_original_events_under_their_original_keys(old, sio, chat, api):
    owner, bob, room_id = chat
    bob_old = old(bob.token)
    owner_new = sio(owner.token)
    call(owner_new, "join", {"room_id": room_id})
    joined = old_call(bob_old, "join", {"roomID": room_id})
    assert joined["ok"] is True and joined["room"]["id"] == room_id
    old_events(bob_old), events(owner_new)  # presence and joining, already covered

    sent = old_call(bob_old, "message", {"roomID": room_id, "message": " hi ", "userID": bob.id})
    assert sent["ok"] is True and sent["message"]["content"] == "hi"
    message = sent["message"]
    assert events(owner_new) == [("new_message", message)]
    assert old_events(bob_old) == [("new_message", message), ("message", flat(message))]

    also = old_call(bob_old, "message", {"roomID": room_id, "content": "new name works"})
    assert also["ok"] is True and also["message"]["content"] == "new name works"
    old_events(bob_old), events(owner_new)

    gone = old_call(bob_old, "delete_message", {"roomID": room_id, "messageID": message["id"]})
    assert gone["ok"] is True and gone["message"]["deleted"] is True
    deleted = {"room_id": room_id, "message_id": message["id"], "seq": message["seq"]}
    assert events(owner_new) == [("message_deleted", deleted)]
    assert old_events(bob_old) == [("message_deleted", deleted)]

    assert old_call(bob_old, "leave", {"roomID": room_id}) == {"ok": True, "room_id": room_id}
    posted = api.post(owner, room_id, "after the old client left")
    assert old_events(bob_old) == [("notification", {"room_id": room_id, "message": posted})]
    assert [m["content"] for m in api.history(owner, room_id)["messages"]] == [
        "",
        "new name works",
        "after the old client left",
    ]


def test_watchers_on_the_original_namespace_hear_chat_events(old, sio, chat, api):
    owner, bob, room_id = chat
    bob_old = old(bob.token)
    old_call(bob_old, "join", {"room_id": room_id})
    owner_new = sio(owner.token)
    call(owner_new, "join", {"room_id": room_id})
    old_events(bob_old)
    sent = call(owner_new, "message", {"room_id": room_id, "content": "from /chat"})["message"]
    call(owner_new, "typing", {"room_id": room_id, "typing": True})
    names = [name for name, _ in old_events(bob_old)]
    assert names == ["new_message", "message", "typing"]
    edited = call(
        owner_new, "edit_message", {"room_id": room_id, "message_id": sent["id"], "content": "e"}
    )
    assert old_events(bob_old) == [("message_edited", edited["message"])]


@pytest.mark.parametrize(
    "event, payload, field",
    [
        ("join", {}, "roomID"),
        ("message", {"message": "hi"}, "roomID"),
        ("message", {"roomID": "{room}"}, "message"),
        ("message", {"roomID": "{room}", "message": ""}, "message"),
        ("message", {"roomID": "{room}", "content": "x" * 4001}, "content"),
        ("delete_message", {"roomID": "{room}"}, "messageID"),
        ("leave", {"roomID": ""}, "roomID"),
    ],
)
def test_invalid_original_payloads_name_the_original_field(old, chat, api, event, payload, field):
    owner, bob, room_id = chat
    bob_old = old(bob.token)
    data = {k: (room_id if v == "{room}" else v) for k, v in payload.items()}
    ack = old_call(bob_old, event, data)
    assert ack["ok"] is False
    assert ack["error"]["code"] == "invalid"
    assert field in ack["error"]["errors"]
    assert old_events(bob_old) == [("error", {"event": event, **ack["error"]})]
    assert api.history(owner, room_id)["messages"] == []


def test_the_original_rules_are_the_same_rules(old, auth, api):
    alice = auth.user("alice")
    private = api.create_room(alice, "hidden", visibility="private")["id"]
    eve_old = old(auth.user("eve").token)
    for event, data in [
        ("join", {"roomID": private}),
        ("message", {"roomID": private, "message": "let me in"}),
    ]:
        ack = old_call(eve_old, event, data)
        assert ack["ok"] is False and ack["error"]["code"] == "not_found"
    assert api.history(alice, private)["messages"] == []


def test_only_the_four_original_events_are_answered_there(old, chat):
    owner, bob, room_id = chat
    bob_old = old(bob.token)
    for event in ("fetch", "typing", "read", "online", "edit_message"):
        ack = bob_old.emit(event, {"room_id": room_id}, namespace=OLD, callback=True)
        assert not isinstance(ack, dict), (event, ack)  # no handler: an empty answer
    assert old_call(bob_old, "join", {"roomID": room_id})["ok"] is True


def test_new_message_goes_to_the_original_namespace_only_when_watched_there(
    old, sio, chat, api, monkeypatch
):
    """`/chat`-only rooms cost nothing on `/`: the live state counts `/` watchers."""
    owner, bob, room_id = chat
    sent: list[str] = []
    emit = socketio.emit

    def spy(event, *args, **kwargs):
        if kwargs.get("namespace") == OLD:
            sent.append(event)
        return emit(event, *args, **kwargs)

    monkeypatch.setattr(socketio, "emit", spy)
    api.post(owner, room_id, "nobody old is watching")
    assert sent == []
    bob_old = old(bob.token)
    old_call(bob_old, "join", {"roomID": room_id})
    sent.clear()
    api.post(owner, room_id, "now somebody is")
    assert sent == ["new_message", "message"]
    old_call(bob_old, "leave", {"roomID": room_id})
    sent.clear()
    api.post(owner, room_id, "gone again")
    assert "new_message" not in sent


def test_logout_closes_a_socket_on_the_original_namespace(client, old, chat):
    owner, bob, room_id = chat
    bob_old = old(bob.token)
    assert client.post("/api/auth/logout", headers=bob.headers).status_code == 204
    assert not bob_old.is_connected(OLD)


def test_a_socket_on_both_namespaces_counts_as_two(sio, old, chat, client):
    owner, bob, room_id = chat
    bob_new, bob_old = sio(bob.token), old(bob.token)
    bob_new.disconnect(NS)
    assert client.get(f"/api/users/{bob.id}", headers=owner.headers).json["online"] is True
    bob_old.disconnect(OLD)
    assert client.get(f"/api/users/{bob.id}", headers=owner.headers).json["online"] is False
