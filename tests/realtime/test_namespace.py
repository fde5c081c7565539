"""The /chat Socket.IO namespace, driven with Flask-SocketIO's test client."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

import pytest
from flask_jwt_extended import create_access_token, decode_token
from socketio import packet

from chat import socketio

NS = "/chat"


def call(sock, event, data):
    """Emit with an acknowledgement and return it."""
    return sock.emit(event, data, namespace=NS, callback=True)


def events(sock, name=None):
    """The events received since last asked, as (name, payload), or payloads of one name."""
    got = [(e["name"], e["args"][0] if e["args"] else None) for e in sock.get_received(NS)]
    return [payload for n, payload in got if n == name] if name else got


@pytest.fixture
def watching(chat, sio):
    """Owner and bob each with a socket watching 'general', their queues drained."""
    owner, bob, room_id = chat
    owner_sock, bob_sock = sio(owner.token), sio(bob.token)
    for sock in (owner_sock, bob_sock):
        assert call(sock, "join", {"room_id": room_id})["ok"] is True
    events(owner_sock)
    events(bob_sock)
    return owner, owner_sock, bob, bob_sock, room_id


# -- connecting -------------------------------------------------------------


def test_connect_with_auth_token(sio, auth):
    alice = auth.user("alice")
    sock = sio(alice.token)
    assert sock.is_connected(NS)


def test_connect_with_bearer_prefix(sio, auth):
    alice = auth.user("alice")
    sock = sio(f"Bearer {alice.token}")
    assert sock.is_connected(NS)


def test_connect_with_query_string_token(sio, auth):
    alice = auth.user("alice")
    sock = sio(None, query_string=f"token={alice.token}")
    assert sock.is_connected(NS)


def test_a_connected_socket_shows_its_user_online(client, sio, auth):
    alice = auth.user("alice")
    bob = auth.user("bob")
    assert client.get(f"/api/users/{alice.id}", headers=bob.headers).json["online"] is False
    sio(alice.token)
    assert client.get(f"/api/users/{alice.id}", headers=bob.headers).json["online"] is True


@pytest.fixture
def bad_tokens(app, client, auth):
    alice = auth.user("alice")
    revoked = auth.login("alice")
    assert client.post("/api/auth/logout", headers=revoked.headers).status_code == 204
    with app.app_context():
        expired = create_access_token(identity=alice.id, expires_delta=timedelta(seconds=-1))
    return {
        "absent": None,
        "empty": "",
        "garbage": "garbage",
        "bearer-only": "Bearer ",
        "refresh": alice.refresh_token,
        "revoked": revoked.token,
        "expired": expired,
    }


@pytest.mark.parametrize(
    "kind", ["absent", "empty", "garbage", "bearer-only", "refresh", "revoked", "expired"]
)
def test_bad_tokens_are_refused(sio, bad_tokens, kind):
    sock = sio(bad_tokens[kind])
    assert not sock.is_connected(NS)


@pytest.mark.parametrize("kind", ["garbage", "refresh", "revoked"])
def test_bad_query_string_tokens_are_refused(sio, bad_tokens, kind):
    sock = sio(None, query_string=f"token={bad_tokens[kind]}")
    assert not sock.is_connected(NS)


def test_refusal_says_unauthorized(sio, monkeypatch):
    sock = sio("garbage")
    assert not sock.is_connected(NS)
    refusals = []
    send = socketio.server._send_packet

    def record(eio_sid, pkt):
        if pkt.packet_type == packet.CONNECT_ERROR:
            refusals.append(pkt.data)
        return send(eio_sid, pkt)

    monkeypatch.setattr(socketio.server, "_send_packet", record)
    sock.connect(namespace=NS, auth={"token": "garbage"})
    assert not sock.is_connected(NS)
    assert refusals == [{"message": "unauthorized"}]


# -- join -------------------------------------------------------------------


def test_join_ack_shape_with_the_latest_50(sio, chat, api):
    owner, bob, room_id = chat
    for n in range(1, 61):
        api.post(owner, room_id, f"m{n}")
    sock = sio(bob.token)
    ack = call(sock, "join", {"room_id": room_id})
    assert set(ack) == {"ok", "room", "last_read_seq", "messages", "has_more"}
    assert ack["ok"] is True
    assert ack["room"] == api.room(bob, room_id)
    assert ack["last_read_seq"] == 0
    assert [m["seq"] for m in ack["messages"]] == list(range(11, 61))
    assert ack["messages"] == api.history(bob, room_id)["messages"]
    assert ack["has_more"] is True


def test_join_with_after_seq_replays_only_what_was_missed(sio, chat, api):
    owner, bob, room_id = chat
    for n in range(1, 61):
        api.post(owner, room_id, f"m{n}")
    sock = sio(bob.token)
    ack = call(sock, "join", {"room_id": room_id, "after_seq": 55})
    assert ack["ok"] is True
    assert [m["seq"] for m in ack["messages"]] == [56, 57, 58, 59, 60]
    assert [m["content"] for m in ack["messages"]] == ["m56", "m57", "m58", "m59", "m60"]
    assert ack["has_more"] is False
    caught_up = call(sock, "join", {"room_id": room_id, "after_seq": 60})
    assert caught_up["messages"] == [] and caught_up["has_more"] is False
    long_gap = call(sock, "join", {"room_id": room_id, "after_seq": 0})
    assert [m["seq"] for m in long_gap["messages"]] == list(range(1, 51))
    assert long_gap["has_more"] is True


def test_join_public_room_as_a_non_member_joins_it(sio, auth, api, watching):
    owner, owner_sock, bob, bob_sock, room_id = watching
    carol = auth.user("carol")
    carol_sock = sio(carol.token)
    ack = call(carol_sock, "join", {"room_id": room_id})
    assert ack["ok"] is True
    assert ack["room"]["member_count"] == 3
    assert carol.id in {m["id"] for m in api.members(owner, room_id)}
    for sock in (owner_sock, bob_sock):
        joined = events(sock, "user_joined")
        assert len(joined) == 1
        assert joined[0]["room_id"] == room_id
        assert joined[0]["user"]["id"] == carol.id
        assert joined[0]["user"]["username"] == "carol"
        assert "email" not in joined[0]["user"]
    assert events(carol_sock, "user_joined") == []


def test_rejoining_as_a_member_announces_nothing(sio, watching):
    owner, owner_sock, bob, bob_sock, room_id = watching
    assert call(sio(bob.token), "join", {"room_id": room_id})["ok"] is True
    assert events(owner_sock, "user_joined") == []


def test_join_private_room_as_a_non_member_fails(sio, auth, api):
    alice = auth.user("alice")
    eve = auth.user("eve")
    private = api.create_room(alice, "hidden", visibility="private")["id"]
    api.post(alice, private, "secret")
    sock = sio(eve.token)
    ack = call(sock, "join", {"room_id": private})
    assert ack["ok"] is False
    assert ack["error"]["code"] == "not_found"
    assert ack["error"]["message"]
    assert "messages" not in ack
    assert [m["id"] for m in api.members(alice, private)] == [alice.id]
    assert events(sock, "error") == [{"event": "join", **ack["error"]}]


def test_join_password_room(sio, auth, api):
    alice = auth.user("alice")
    bob = auth.user("bob")
    locked = api.create_room(alice, "locked", password="s3cret-pass")["id"]
    sock = sio(bob.token)
    wrong = call(sock, "join", {"room_id": locked, "password": "nope"})
    assert wrong["ok"] is False
    assert wrong["error"]["code"] == "forbidden"
    assert [m["id"] for m in api.members(alice, locked)] == [alice.id]
    right = call(sock, "join", {"room_id": locked, "password": "s3cret-pass"})
    assert right["ok"] is True
    assert right["room"]["member_count"] == 2


def test_join_unknown_room_fails(sio, auth):
    sock = sio(auth.user("alice").token)
    ack = call(sock, "join", {"room_id": uuid.uuid4().hex[:24]})
    assert ack["ok"] is False
    assert ack["error"]["code"] == "not_found"


# -- messages ---------------------------------------------------------------


def test_message_is_acked_stored_and_broadcast_once(watching, api):
    owner, owner_sock, bob, bob_sock, room_id = watching
    ack = call(bob_sock, "message", {"room_id": room_id, "content": "  hi all "})
    assert ack["ok"] is True
    assert ack["created"] is True
    message = ack["message"]
    assert message["content"] == "hi all"
    assert message["seq"] == 1
    assert message["author"]["id"] == bob.id
    assert message["room_id"] == room_id
    assert api.history(owner, room_id)["messages"] == [message]
    # everyone watching receives it exactly once, the sender's own socket included
    assert events(owner_sock) == [("new_message", message)]
    assert events(bob_sock) == [("new_message", message)]


def test_every_socket_of_a_user_gets_each_message_once(sio, watching):
    owner, owner_sock, bob, bob_sock, room_id = watching
    second = sio(owner.token)
    call(second, "join", {"room_id": room_id})
    events(second)
    ack = call(bob_sock, "message", {"room_id": room_id, "content": "hello"})
    assert events(owner_sock, "new_message") == [ack["message"]]
    assert events(second, "new_message") == [ack["message"]]


def test_messages_arrive_in_seq_order(watching):
    owner, owner_sock, bob, bob_sock, room_id = watching
    for n in range(5):
        sender = owner_sock if n % 2 else bob_sock
        assert call(sender, "message", {"room_id": room_id, "content": f"m{n}"})["ok"]
    for sock in (owner_sock, bob_sock):
        got = events(sock, "new_message")
        assert [m["seq"] for m in got] == [1, 2, 3, 4, 5]
        assert [m["content"] for m in got] == [f"m{n}" for n in range(5)]


def test_message_with_a_repeated_client_id_is_not_broadcast_again(watching, api):
    owner, owner_sock, bob, bob_sock, room_id = watching
    payload = {"room_id": room_id, "content": "once", "client_id": "abc"}
    first = call(bob_sock, "message", payload)
    again = call(bob_sock, "message", payload)
    assert first["created"] is True
    assert again["ok"] is True and again["created"] is False
    assert again["message"] == first["message"]
    assert events(owner_sock, "new_message") == [first["message"]]
    assert len(api.history(owner, room_id)["messages"]) == 1


def test_a_rest_post_reaches_sockets_as_new_message(client, watching):
    owner, owner_sock, bob, bob_sock, room_id = watching
    response = client.post(
        f"/api/rooms/{room_id}/messages", json={"content": "over rest"}, headers=owner.headers
    )
    assert response.status_code == 201
    assert events(bob_sock) == [("new_message", response.json)]
    assert events(owner_sock) == [("new_message", response.json)]


def test_a_legacy_post_reaches_sockets_as_new_message(client, watching):
    owner, owner_sock, bob, bob_sock, room_id = watching
    response = client.post(
        "/send_message", json={"roomID": room_id, "message": "old script"}, headers=owner.headers
    )
    assert response.status_code == 201
    assert events(bob_sock) == [("new_message", response.json)]


def test_sockets_of_other_rooms_get_nothing(sio, auth, api, watching):
    owner, owner_sock, bob, bob_sock, room_id = watching
    carol = auth.user("carol")
    elsewhere = api.create_room(carol, "elsewhere")["id"]
    carol_sock = sio(carol.token)
    call(carol_sock, "join", {"room_id": elsewhere})
    events(carol_sock)
    call(bob_sock, "message", {"room_id": room_id, "content": "not for carol"})
    assert events(carol_sock) == []


def test_message_as_a_non_member_is_refused(sio, auth, api, watching):
    owner, owner_sock, bob, bob_sock, room_id = watching
    eve = auth.user("eve")
    sock = sio(eve.token)
    ack = call(sock, "message", {"room_id": room_id, "content": "let me in"})
    assert ack["ok"] is False
    assert ack["error"]["code"] == "forbidden"
    assert events(sock, "error") == [{"event": "message", **ack["error"]}]
    assert events(owner_sock) == []
    assert api.history(owner, room_id)["messages"] == []


# -- delete -----------------------------------------------------------------


def test_delete_message_broadcasts_message_deleted(watching, api):
    owner, owner_sock, bob, bob_sock, room_id = watching
    posted = call(bob_sock, "message", {"room_id": room_id, "content": "oops"})["message"]
    events(owner_sock)
    events(bob_sock)
    ack = call(bob_sock, "delete_message", {"room_id": room_id, "message_id": posted["id"]})
    assert ack["ok"] is True
    assert ack["message"]["id"] == posted["id"]
    assert ack["message"]["deleted"] is True
    assert ack["message"]["content"] == ""
    expected = {"room_id": room_id, "message_id": posted["id"], "seq": posted["seq"]}
    assert events(owner_sock) == [("message_deleted", expected)]
    assert events(bob_sock) == [("message_deleted", expected)]
    assert api.history(owner, room_id)["messages"][0]["deleted"] is True


def test_a_rest_delete_reaches_sockets(client, watching, api):
    owner, owner_sock, bob, bob_sock, room_id = watching
    posted = api.post(bob, room_id, "oops")
    events(owner_sock)
    response = client.delete(f"/api/rooms/{room_id}/messages/{posted['id']}", headers=owner.headers)
    assert response.status_code == 200
    assert events(owner_sock) == [
        ("message_deleted", {"room_id": room_id, "message_id": posted["id"], "seq": 1})
    ]


def test_delete_someone_elses_message_over_a_socket_is_refused(watching, api):
    owner, owner_sock, bob, bob_sock, room_id = watching
    posted = api.post(owner, room_id, "the owner's")
    events(owner_sock)
    events(bob_sock)
    ack = call(bob_sock, "delete_message", {"room_id": room_id, "message_id": posted["id"]})
    assert ack["ok"] is False
    assert ack["error"]["code"] == "forbidden"
    assert events(bob_sock) == [("error", {"event": "delete_message", **ack["error"]})]
    assert events(owner_sock) == []
    assert api.history(owner, room_id)["messages"] == [posted]


# -- fetch ------------------------------------------------------------------


def test_fetch_pages_history(sio, chat, api):
    owner, bob, room_id = chat
    for n in range(1, 31):
        api.post(owner, room_id, f"m{n}")
    sock = sio(bob.token)
    latest = call(sock, "fetch", {"room_id": room_id, "limit": 10})
    assert latest["ok"] is True
    assert set(latest) == {"ok", "messages", "has_more"}
    assert [m["seq"] for m in latest["messages"]] == list(range(21, 31))
    assert latest["has_more"] is True
    older = call(sock, "fetch", {"room_id": room_id, "before": 21, "limit": 10})
    assert [m["seq"] for m in older["messages"]] == list(range(11, 21))
    newer = call(sock, "fetch", {"room_id": room_id, "after": 25})
    assert [m["seq"] for m in newer["messages"]] == [26, 27, 28, 29, 30]
    assert newer["has_more"] is False
    assert newer["messages"] == api.history(bob, room_id, after=25)["messages"]
    bad = call(sock, "fetch", {"room_id": room_id, "limit": 101})
    assert bad["ok"] is False
    assert bad["error"]["code"] == "invalid"
    assert "limit" in bad["error"]["errors"]


def test_fetch_as_a_non_member_is_refused(sio, auth, chat, api):
    owner, _, room_id = chat
    api.post(owner, room_id, "members only")
    sock = sio(auth.user("eve").token)
    ack = call(sock, "fetch", {"room_id": room_id})
    assert ack["ok"] is False
    assert ack["error"]["code"] == "forbidden"
    assert "messages" not in ack


# -- leave ------------------------------------------------------------------


def test_leave_stops_delivery_but_keeps_membership(watching, api):
    owner, owner_sock, bob, bob_sock, room_id = watching
    ack = call(bob_sock, "leave", {"room_id": room_id})
    assert ack == {"ok": True, "room_id": room_id}
    posted = api.post(owner, room_id, "bob is not watching")
    # Not the message itself: a notification, since he is a member not watching.
    assert events(bob_sock) == [("notification", {"room_id": room_id, "message": posted})]
    assert [m["content"] for m in events(owner_sock, "new_message")] == ["bob is not watching"]
    assert bob.id in {m["id"] for m in api.members(owner, room_id)}
    # joining again picks up what was missed
    again = call(bob_sock, "join", {"room_id": room_id, "after_seq": 0})
    assert [m["content"] for m in again["messages"]] == ["bob is not watching"]


def test_leaving_the_room_over_rest_announces_user_left(client, watching):
    owner, owner_sock, bob, bob_sock, room_id = watching
    response = client.post(f"/api/rooms/{room_id}/leave", headers=bob.headers)
    assert response.status_code == 204
    left = events(owner_sock, "user_left")
    assert len(left) == 1
    assert left[0]["room_id"] == room_id
    assert left[0]["user"]["id"] == bob.id


def test_a_socket_disconnect_does_not_end_membership(watching, api):
    owner, owner_sock, bob, bob_sock, room_id = watching
    bob_sock.disconnect(NS)
    assert bob.id in {m["id"] for m in api.members(owner, room_id)}
    assert events(owner_sock, "user_left") == []


# -- invalid payloads -------------------------------------------------------


@pytest.mark.parametrize("event", ["join", "leave", "message", "delete_message", "fetch"])
@pytest.mark.parametrize("payload", ["room", 42, ["a"], None], ids=["str", "int", "list", "none"])
def test_a_payload_that_is_not_an_object_is_refused(sio, auth, event, payload):
    sock = sio(auth.user("alice").token)
    ack = call(sock, event, payload)
    assert ack["ok"] is False
    # the code's choice: the same code as REST gives a body that is not a JSON object (400)
    assert ack["error"]["code"] == "bad_request"
    assert ack["error"]["message"]
    assert events(sock) == [("error", {"event": event, **ack["error"]})]
    assert sock.is_connected(NS)


@pytest.mark.parametrize(
    "event, payload, field",
    [
        ("join", {}, "room_id"),
        ("join", {"room_id": ""}, "room_id"),
        ("leave", {}, "room_id"),
        ("message", {"content": "hi"}, "room_id"),
        ("message", {"room_id": "{room}"}, "content"),
        ("message", {"room_id": "{room}", "content": ""}, "content"),
        ("message", {"room_id": "{room}", "content": "   "}, "content"),
        ("message", {"room_id": "{room}", "content": "x" * 4001}, "content"),
        ("message", {"room_id": "{room}", "content": "hi", "extra": 1}, "extra"),
        ("delete_message", {"room_id": "{room}"}, "message_id"),
        ("fetch", {"room_id": "{room}", "limit": 0}, "limit"),
        ("join", {"room_id": "{room}", "after_seq": -1}, "after_seq"),
    ],
    ids=[
        "join-no-room",
        "join-empty-room",
        "leave-no-room",
        "message-no-room",
        "message-no-content",
        "message-empty",
        "message-blank",
        "message-4001",
        "message-unknown-field",
        "delete-no-message",
        "fetch-limit-0",
        "join-negative-seq",
    ],
)
def test_invalid_payloads_name_the_field(watching, api, event, payload, field):
    owner, owner_sock, bob, bob_sock, room_id = watching
    data = {k: (room_id if v == "{room}" else v) for k, v in payload.items()}
    ack = call(bob_sock, event, data)
    assert ack["ok"] is False
    assert ack["error"]["code"] == "invalid"
    assert ack["error"]["message"]
    assert field in ack["error"]["errors"]
    assert events(bob_sock) == [("error", {"event": event, **ack["error"]})]
    assert events(owner_sock) == []
    assert api.history(owner, room_id)["messages"] == []


def test_message_of_exactly_4000_characters_is_accepted(watching):
    owner, owner_sock, bob, bob_sock, room_id = watching
    ack = call(bob_sock, "message", {"room_id": room_id, "content": "y" * 4000})
    assert ack["ok"] is True
    assert ack["message"]["content"] == "y" * 4000


def test_a_failure_without_an_ack_arrives_as_an_error_event(watching, api):
    owner, owner_sock, bob, bob_sock, room_id = watching
    bob_sock.emit("message", {"room_id": room_id, "content": ""}, namespace=NS)
    got = events(bob_sock)
    assert len(got) == 1
    name, payload = got[0]
    assert name == "error"
    assert payload["event"] == "message"
    assert payload["code"] == "invalid"
    assert "content" in payload["errors"]
    assert api.history(owner, room_id)["messages"] == []


# -- revocation -------------------------------------------------------------


def test_logout_closes_the_sockets_of_that_token(client, watching, api):
    owner, owner_sock, bob, bob_sock, room_id = watching
    assert client.post("/api/auth/logout", headers=bob.headers).status_code == 204
    assert not bob_sock.is_connected(NS)
    assert owner_sock.is_connected(NS)


def test_an_event_on_a_session_ended_elsewhere_is_refused_and_the_socket_dropped(
    app, watching, api
):
    """Another process's logout reaches this one through the store (the control channel
    aside): the next event re-checks it."""
    owner, owner_sock, bob, bob_sock, room_id = watching
    with app.app_context():
        claims = decode_token(bob.token)
    assert app.extensions["chat"].store.end_session(claims["sid"]) is True
    ack = call(bob_sock, "message", {"room_id": room_id, "content": "still here?"})
    assert ack["ok"] is False
    assert ack["error"]["code"] == "unauthorized"
    # Answered first, then closed by a task that runs once the reply is out.
    deadline = time.monotonic() + 5
    while bob_sock.is_connected(NS) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not bob_sock.is_connected(NS)
    # Nothing was posted; the owner hears only that bob, his one socket closed, left.
    assert [(name, body["user_id"], body["online"]) for name, body in events(owner_sock)] == [
        ("presence", bob.id, False)
    ]
    assert api.history(owner, room_id)["messages"] == []


def test_a_socket_of_another_session_survives_a_logout(client, auth, sio, watching):
    owner, owner_sock, bob, bob_sock, room_id = watching
    other = auth.login("bob")
    assert client.post("/api/auth/logout", headers=other.headers).status_code == 204
    ack = call(bob_sock, "message", {"room_id": room_id, "content": "still here"})
    assert ack["ok"] is True
    assert bob_sock.is_connected(NS)


def test_a_socket_of_a_logged_out_token_stops_receiving(client, watching, api):
    owner, owner_sock, bob, bob_sock, room_id = watching
    assert client.post("/api/auth/logout", headers=bob.headers).status_code == 204
    api.post(owner, room_id, "after bob left")
    delivered = events(bob_sock, "new_message") if bob_sock.is_connected(NS) else []
    assert delivered == []


def test_a_member_of_a_private_room_may_watch_it(sio, auth, api):
    alice = auth.user("alice")
    private = api.create_room(alice, "hidden", visibility="private")["id"]
    posted = api.post(alice, private, "secret")
    sock = sio(alice.token)
    ack = call(sock, "join", {"room_id": private})
    assert ack["ok"] is True
    assert ack["room"]["visibility"] == "private"
    assert ack["messages"] == [posted]
    assert ack["last_read_seq"] == 1


# -- online, and who may ask ------------------------------------------------


def test_online_lists_the_members_watching_the_room(sio, auth, watching):
    owner, owner_sock, bob, bob_sock, room_id = watching
    ack = call(owner_sock, "online", {"room_id": room_id})
    assert ack["ok"] is True
    assert sorted(u["id"] for u in ack["users"]) == sorted([owner.id, bob.id])
    assert all(u["online"] is True for u in ack["users"])
    call(bob_sock, "leave", {"room_id": room_id})
    ack = call(owner_sock, "online", {"room_id": room_id})
    assert [u["id"] for u in ack["users"]] == [owner.id]


def test_leaving_over_rest_stops_the_sockets_watching(client, watching, api):
    owner, owner_sock, bob, bob_sock, room_id = watching
    assert client.post(f"/api/rooms/{room_id}/leave", headers=bob.headers).status_code == 204
    api.post(owner, room_id, "after bob left")
    assert events(bob_sock, "new_message") == []
    assert [m["content"] for m in events(owner_sock, "new_message")] == ["after bob left"]
    ack = call(owner_sock, "online", {"room_id": room_id})
    assert [u["id"] for u in ack["users"]] == [owner.id]


ROOM_EVENTS = {
    "join": lambda room_id, message_id: {"room_id": room_id},
    "message": lambda room_id, message_id: {"room_id": room_id, "content": "hi"},
    "delete_message": lambda room_id, message_id: {"room_id": room_id, "message_id": message_id},
    "fetch": lambda room_id, message_id: {"room_id": room_id},
    "online": lambda room_id, message_id: {"room_id": room_id},
}


@pytest.mark.parametrize("event", ROOM_EVENTS)
def test_a_stranger_is_refused_every_event_on_a_private_room(sio, auth, api, event):
    """Refused as if the room did not exist, and nothing about it changes."""
    alice = auth.user("alice")
    room_id = api.create_room(alice, "secret", visibility="private")["id"]
    posted = api.post(alice, room_id, "private words")
    eve = sio(auth.user("eve").token)
    ack = call(eve, event, ROOM_EVENTS[event](room_id, posted["id"]))
    assert ack["ok"] is False
    assert ack["error"]["code"] == "not_found"
    assert "private words" not in str(ack)
    assert api.history(alice, room_id)["messages"] == [posted]
    assert [m["id"] for m in api.members(alice, room_id)] == [alice.id]


@pytest.mark.parametrize("event", [e for e in ROOM_EVENTS if e != "join"])
def test_an_outsider_of_a_public_room_is_told_to_join(sio, auth, api, event):
    alice = auth.user("alice")
    room_id = api.create_room(alice, "open")["id"]
    posted = api.post(alice, room_id, "public words")
    eve = sio(auth.user("eve").token)
    ack = call(eve, event, ROOM_EVENTS[event](room_id, posted["id"]))
    assert ack["ok"] is False
    assert ack["error"]["code"] == "forbidden"
    assert api.history(alice, room_id)["messages"] == [posted]


@pytest.mark.parametrize(
    "event, payload, field",
    [
        ("fetch", {"room_id": "\ud800"}, "room_id"),
        ("join", {"room_id": "{room}", "password": "\udfff"}, "password"),
        ("message", {"room_id": "{room}", "content": "hi \ud800"}, "content"),
        ("message", {"room_id": "{room}", "content": "hi", "client_id": "\ud800"}, "client_id"),
        ("delete_message", {"room_id": "{room}", "message_id": "\ud800"}, "message_id"),
    ],
)
def test_a_lone_surrogate_is_an_invalid_ack_naming_the_field(watching, api, event, payload, field):
    owner, owner_sock, bob, bob_sock, room_id = watching
    data = {k: (room_id if v == "{room}" else v) for k, v in payload.items()}
    ack = call(bob_sock, event, data)
    assert ack["ok"] is False
    assert ack["error"]["code"] == "invalid"
    assert field in ack["error"]["errors"]
    assert events(owner_sock) == []
    assert api.history(owner, room_id)["messages"] == []
    assert bob_sock.is_connected(NS)


@pytest.mark.parametrize("extra", [(1,), ("two", "three"), ({},)])
def test_an_event_with_more_than_one_argument_is_answered_bad_request(watching, api, extra):
    owner, owner_sock, bob, bob_sock, room_id = watching
    ack = bob_sock.emit(
        "message", {"room_id": room_id, "content": "hi"}, *extra, namespace=NS, callback=True
    )
    assert ack["ok"] is False
    assert ack["error"]["code"] == "bad_request"
    assert events(bob_sock) == [("error", {"event": "message", **ack["error"]})]
    assert api.history(owner, room_id)["messages"] == []
    assert bob_sock.is_connected(NS)


def test_an_event_with_no_argument_is_answered_bad_request(watching):
    owner, owner_sock, bob, bob_sock, room_id = watching
    ack = bob_sock.emit("fetch", namespace=NS, callback=True)
    assert ack["ok"] is False
    assert ack["error"]["code"] == "bad_request"
