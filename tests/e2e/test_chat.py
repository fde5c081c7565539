"""The chat, end to end: `python wsgi.py` under eventlet and under gevent, driven over
HTTP with `requests` and over Socket.IO with python-socketio clients.

A test that must show something did *not* arrive uses a sentinel: an event sent after
the ones that must not arrive, on the same socket. Once the sentinel is in, anything
emitted to that socket before it is in too, so its absence is proven without sleeping.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from .harness import WAIT, Api, ChatSocket


def seqs(messages: list[dict[str, Any]]) -> list[int]:
    return [m["seq"] for m in messages]


def assert_strictly_increasing(values: list[int]) -> None:
    assert all(a < b for a, b in zip(values, values[1:], strict=False)), values


def member_ids(api: Api, account, room_id: str) -> set[str]:
    response = api.request("GET", f"/api/rooms/{room_id}/members", account)
    assert response.status_code == 200, response.text
    return {member["id"] for member in response.json()["members"]}


def test_two_users_chat_live(server, api: Api, sockets) -> None:
    alice, bob = api.user("alice"), api.user("bob")
    room = api.create_room(alice, "general")
    room_id = room["id"]
    a, b = sockets(server, alice.token), sockets(server, bob.token)

    joined = a.ok("join", {"room_id": room_id})
    assert joined["room"]["id"] == room_id
    assert joined["messages"] == [] and joined["has_more"] is False

    # bob is not a member yet: joining the public room over the socket makes him one.
    assert bob.id not in member_ids(api, alice, room_id)
    joined = b.ok("join", {"room_id": room_id})
    assert joined["room"]["id"] == room_id and joined["messages"] == []
    assert bob.id in member_ids(api, alice, room_id)
    a.wait_for(
        lambda s: any(e["user"]["id"] == bob.id for e in s.received("user_joined")),
        what="user_joined for bob",
    )

    sent = [
        a.ok("message", {"room_id": room_id, "content": f"hello {i}"})["message"] for i in range(30)
    ]
    assert seqs(sent) == list(range(1, 31))  # acknowledged only once stored, in order
    assert [m["content"] for m in sent] == [f"hello {i}" for i in range(30)]
    assert all(m["author"]["id"] == alice.id for m in sent)

    # A message posted over REST reaches sockets exactly as one sent over Socket.IO.
    rest = api.post_message(alice, room_id, "posted over REST")
    assert rest["seq"] == 31

    for watcher in (b, a):
        # The REST message is the last one sent: once it is in, every earlier emit is
        # in too, so the counts below prove "exactly once".
        watcher.wait_for(
            lambda s: any(m["seq"] == 31 for m in s.messages(room_id)), what="the REST message"
        )
        got = watcher.messages(room_id)
        assert len(got) == 31, seqs(got)
        assert_strictly_increasing(seqs(got))
        assert got[:30] == sent  # the broadcast is the acknowledged message, field for field
        assert got[30] == rest  # the same payload as the REST 201 body

    history = api.history(bob, room_id, after=0, limit=100)
    assert history.status_code == 200
    assert history.json()["messages"] == [*sent, rest]


def test_stranger_is_refused(server, api: Api, sockets) -> None:
    alice, carol = api.user("alice"), api.user("carol")
    public = api.create_room(alice, "lobby")["id"]
    private = api.create_room(alice, "secret", visibility="private")["id"]
    a = sockets(server, alice.token)
    for room_id in (public, private):
        a.ok("join", {"room_id": room_id})
        api.post_message(alice, room_id, f"before carol, in {room_id}")

    # Connecting with a good token works, even though carol is in no room.
    c = sockets(server, carol.token)
    assert c.sio.connected

    ack = c.call("join", {"room_id": private})
    assert ack["ok"] is False, ack
    assert ack["error"]["code"] == "not_found" and ack["error"]["message"], ack
    assert "messages" not in ack

    for room_id, code in ((private, "not_found"), (public, "forbidden")):
        ack = c.call("message", {"room_id": room_id, "content": "let me in"})
        assert ack["ok"] is False, ack
        assert ack["error"]["code"] == code, ack

    # Over REST: the public room's history is 403 (join first), the private one is 404.
    assert api.history(carol, public).status_code == 403
    response = api.history(carol, private)
    assert response.status_code == 404
    assert response.json()["message"]
    assert api.request("GET", f"/api/rooms/{private}", carol).status_code == 404
    assert carol.id not in member_ids(api, alice, public)
    assert carol.id not in member_ids(api, alice, private)

    # The rooms go on talking (over the socket and over REST) ...
    for room_id in (public, private):
        a.ok("message", {"room_id": room_id, "content": "socket, carol must not see"})
        api.post_message(alice, room_id, "rest, carol must not see")
    # ... and then carol says something in a room of her own, as the sentinel.
    own = api.create_room(carol, "carols")["id"]
    c.ok("join", {"room_id": own})
    sentinel = c.ok("message", {"room_id": own, "content": "anyone?"})["message"]
    assert c.wait_messages(own, 1) == [sentinel]

    seen = {m["room_id"] for m in c.received("new_message")}
    assert seen == {own}, c.received("new_message")
    assert not [e for e in c.received("user_joined") if e["room_id"] in (public, private)]
    # ... while alice, watching, got all of them (so the absence above is meaningful).
    for room_id in (public, private):
        assert len(a.wait_messages(room_id, 3)) == 3


@pytest.mark.parametrize(
    "token",
    ["not-a-jwt", "", None, "refresh"],
    ids=["garbage", "empty", "missing", "refresh-token"],
)
def test_bad_token_is_refused_at_connect(server, api: Api, sockets, token) -> None:
    if token == "refresh":  # a valid JWT, but not an access token
        token = api.user("dave").refresh_token
    assert sockets(server, token, connect=False).refused() == "unauthorized"
    # The server is still fine for everybody else.
    good = sockets(server, api.user("erin").token)
    assert good.sio.connected


def test_reconnect_replays_exactly_what_was_missed(server, api: Api, sockets) -> None:
    alice, bob = api.user("alice"), api.user("bob")
    room_id = api.create_room(alice, "replay")["id"]
    b = sockets(server, bob.token)
    b.ok("join", {"room_id": room_id})

    first = [api.post_message(alice, room_id, f"m{i}") for i in range(1, 6)]
    assert b.wait_messages(room_id, 5) == first
    assert seqs(first) == [1, 2, 3, 4, 5]
    b.close()
    assert b.disconnected.wait(WAIT)

    missed = [api.post_message(alice, room_id, f"m{i}") for i in range(6, 13)]
    assert seqs(missed) == list(range(6, 13))

    b2 = sockets(server, bob.token)
    ack = b2.ok("join", {"room_id": room_id, "after_seq": 5})
    assert ack["messages"] == missed  # exactly 6..12, as stored, no more, no fewer
    assert ack["has_more"] is False
    assert ack["room"]["id"] == room_id
    assert ack["last_read_seq"] == 0  # bob never marked anything read

    # Watching again: the next message comes live, and nothing replayed comes twice.
    live = api.post_message(alice, room_id, "m13")
    assert b2.wait_messages(room_id, 1) == [live]

    # More than 50 messages: a page is 50, with has_more.
    more = [api.post_message(alice, room_id, f"m{i}") for i in range(14, 56)]
    assert more[-1]["seq"] == 55
    everything = [*first, *missed, live, *more]

    ack = b2.ok("join", {"room_id": room_id, "after_seq": 0})
    assert seqs(ack["messages"]) == list(range(1, 51))
    assert ack["messages"] == everything[:50]
    assert ack["has_more"] is True

    ack = b2.ok("join", {"room_id": room_id, "after_seq": 50})
    assert seqs(ack["messages"]) == [51, 52, 53, 54, 55] and ack["has_more"] is False

    ack = b2.ok("join", {"room_id": room_id})  # no after_seq: the latest 50
    assert seqs(ack["messages"]) == list(range(6, 56)) and ack["has_more"] is True

    # Re-joining while watching does not double the live feed: each message came once.
    last = api.post_message(alice, room_id, "m56")
    b2.wait_for(lambda s: any(m["seq"] == 56 for m in s.messages(room_id)), what="seq 56")
    assert b2.messages(room_id) == [live, *more, last]


def test_concurrent_senders(server, api: Api, sockets) -> None:
    alice, bob, carol = api.user("alice"), api.user("bob"), api.user("carol")
    room_id = api.create_room(alice, "busy")["id"]
    a, b, c = (sockets(server, u.token) for u in (alice, bob, carol))
    a2 = sockets(server, alice.token)  # a second socket of the same user watches too
    watchers = [a, b, c, a2]
    for sock in watchers:
        sock.ok("join", {"room_id": room_id})

    per_sender = 25
    acks: dict[str, list[Any]] = {"alice": [], "bob": []}
    done = {name: threading.Event() for name in acks}
    failures: list[BaseException] = []
    barrier = threading.Barrier(2, timeout=WAIT)

    def send(name: str, sock: ChatSocket) -> None:
        def acked(reply: Any) -> None:
            acks[name].append(reply)
            if len(acks[name]) == per_sender:
                done[name].set()

        try:
            barrier.wait()
            for i in range(per_sender):  # all at once: no waiting for acks in between
                sock.sio.emit(
                    "message",
                    {"room_id": room_id, "content": f"{name}-{i}"},
                    namespace="/chat",
                    callback=acked,
                )
        except BaseException as error:  # re-raised in the test thread
            failures.append(error)
            done[name].set()

    threads = [
        threading.Thread(target=send, args=(name, sock), daemon=True)
        for name, sock in (("alice", a), ("bob", b))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    for name, event in done.items():
        assert event.wait(WAIT), f"{name} got {len(acks[name])}/{per_sender} acks"
    assert not failures, failures

    for name, replies in acks.items():
        assert all(r["ok"] is True for r in replies), replies
        # Acks may be handled out of order by the client (see conftest._WireOrder), so
        # check the seqs: each sender's messages were stored in the order it sent them.
        seq_of = {r["message"]["content"]: r["message"]["seq"] for r in replies}
        assert sorted(seq_of) == sorted(f"{name}-{i}" for i in range(per_sender))
        assert_strictly_increasing([seq_of[f"{name}-{i}"] for i in range(per_sender)])
    acked_seqs = sorted(r["message"]["seq"] for rs in acks.values() for r in rs)
    assert acked_seqs == list(range(1, 51))  # no seq given twice, none skipped

    # Sentinel: once seq 51 is in, everything emitted before it is in as well.
    sentinel = api.post_message(carol, room_id, "sentinel")
    assert sentinel["seq"] == 51
    by_seq = {r["message"]["seq"]: r["message"] for rs in acks.values() for r in rs}
    for sock in watchers:
        sock.wait_for(
            lambda s: any(m["seq"] == 51 for m in s.messages(room_id)), what="the sentinel"
        )
        got = sock.messages(room_id)
        assert seqs(got) == list(range(1, 52))  # each once, strictly increasing
        assert got[:50] == [by_seq[n] for n in range(1, 51)]
        for name in acks:  # each sender's messages in the order it sent them
            mine = [m["content"] for m in got if m["content"].startswith(f"{name}-")]
            assert mine == [f"{name}-{i}" for i in range(per_sender)]

    history = api.history(bob, room_id, after=0, limit=100).json()
    assert seqs(history["messages"]) == list(range(1, 52)) and history["has_more"] is False
    assert history["messages"][:50] == [by_seq[n] for n in range(1, 51)]


def test_logout_revokes_on_the_live_server(server, api: Api, sockets) -> None:
    alice = api.user("alice")
    room_id = api.create_room(alice, "after-logout")["id"]
    old = sockets(server, alice.token)
    old.ok("join", {"room_id": room_id})
    other = sockets(server, api.login("alice").token)  # another sign-in of hers
    other.ok("join", {"room_id": room_id})
    assert api.request("GET", "/api/users/me", alice).status_code == 200

    response = api.request(
        "POST", "/api/auth/logout", alice, json={"refresh_token": alice.refresh_token}
    )
    assert response.status_code == 204, response.text

    # The socket that signed in with that token is closed by the server ...
    assert old.disconnected.wait(WAIT), "the revoked token's socket was left open"
    # ... and the token is refused everywhere.
    response = api.request("GET", "/api/users/me", alice)
    assert response.status_code == 401
    assert response.json()["message"]
    posted = api.request("POST", f"/api/rooms/{room_id}/messages", alice, json={"content": "x"})
    assert posted.status_code == 401
    refresh = api.request(
        "POST", "/api/auth/refresh", headers={"Authorization": f"Bearer {alice.refresh_token}"}
    )
    assert refresh.status_code == 401
    assert sockets(server, alice.token, connect=False).refused() == "unauthorized"

    # The other sign-in is untouched: its socket still sends and receives.
    assert other.sio.connected and not other.disconnected.is_set()
    sent = other.ok("message", {"room_id": room_id, "content": "still here"})["message"]
    assert other.wait_messages(room_id, 1) == [sent]
    assert old.messages(room_id) == []

    # Signing in again gives a token that works everywhere.
    again = api.login("alice")
    assert api.request("GET", "/api/users/me", again).status_code == 200
    new = sockets(server, again.token)
    assert new.ok("join", {"room_id": room_id})["messages"] == [sent]
