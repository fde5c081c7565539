"""Direct conversations over REST: one room per pair, listed by last activity."""

from __future__ import annotations

import threading
import time

import pytest

from tests.conftest import Auth, make_app


def open_with(client, who, **other):
    return client.post("/api/conversations", json=other, headers=who.headers)


def listing(client, who, **query):
    response = client.get("/api/conversations", query_string=query, headers=who.headers)
    assert response.status_code == 200, response.json
    return response.json


def mark_unverified(app, user_id: str) -> None:
    """As an account registered under EMAIL_VERIFICATION is until its code comes back."""
    store = app.extensions["chat"].store
    if hasattr(store, "_conn"):
        store._conn.execute("UPDATE users SET verified = 0 WHERE id = ?", (user_id,))
    else:
        store._users.update_one({"_id": user_id}, {"$set": {"verified": False}})


@pytest.mark.parametrize("by", ["username", "email", "user_id"])
def test_opening_makes_one_room_for_the_pair(client, auth, by):
    alice = auth.user("alice")
    bob = auth.user("bob", email="bob@example.com")
    name = {"username": "BOB", "email": "Bob@Example.com", "user_id": bob.id}[by]
    first = open_with(client, alice, **{by: name})
    assert first.status_code == 201
    room = first.json
    assert (room["kind"], room["visibility"], room["name"], room["owner_id"]) == (
        "direct",
        "private",
        None,
        None,
    )
    assert room["member_count"] == 2
    assert room["participant"]["id"] == bob.id and room["participant"]["username"] == "bob"
    assert "email" not in room["participant"]
    assert (room["unread_count"], room["last_read_seq"], room["last_message"]) == (0, 0, None)
    again = open_with(client, alice, user_id=bob.id)
    assert again.status_code == 200 and again.json["id"] == room["id"]
    from_bob = open_with(client, bob, username="alice")
    assert from_bob.status_code == 200 and from_bob.json["id"] == room["id"]
    assert from_bob.json["participant"]["id"] == alice.id


def test_not_with_yourself(client, auth):
    alice = auth.user("alice")
    for body, field in [({"username": "alice"}, "username"), ({"user_id": alice.id}, "user_id")]:
        response = open_with(client, alice, **body)
        assert response.status_code == 422
        assert field in response.json["errors"]
    assert listing(client, alice)["conversations"] == []


def test_not_with_nobody_a_deleted_or_an_unverified_account(app, client, auth):
    alice = auth.user("alice")
    gone = auth.user("gone")
    deleted = client.delete("/api/users/me", json={"password": gone.password}, headers=gone.headers)
    assert deleted.status_code == 204, deleted.json
    waiting = auth.user("waiting")
    mark_unverified(app, waiting.id)
    for body in (
        {"username": "nobody"},
        {"user_id": "0" * 24},
        {"user_id": gone.id},
        {"user_id": waiting.id},
        {"username": "waiting"},
    ):
        response = open_with(client, alice, **body)
        assert response.status_code == 404, body
        assert response.json["code"] == "not_found"
    response = open_with(client, alice, username="gone")
    assert response.status_code == 404
    assert listing(client, alice)["conversations"] == []


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"username": "bob", "user_id": "x"},
        {"username": ""},
        {"colour": "red"},
        {"user_id": 5.5},
    ],
)
def test_exactly_one_way_of_naming_the_other(client, auth, body):
    alice = auth.user("alice")
    auth.user("bob")
    response = open_with(client, alice, **body)
    assert response.status_code == 422
    assert response.json["errors"]
    assert listing(client, alice)["conversations"] == []


def test_listing_is_most_recent_first_with_what_a_client_shows(client, auth, api):
    alice = auth.user("alice")
    peers = [auth.user(f"peer{n}") for n in range(3)]
    rooms = []
    for peer in peers:
        rooms.append(open_with(client, alice, user_id=peer.id).json["id"])
        time.sleep(0.002)
    api.post(peers[0], rooms[0], "hi alice")  # the oldest conversation is now the newest
    api.post(peers[0], rooms[0], "you there?")
    api.create_room(alice, "a group room")  # not a conversation
    got = listing(client, alice)
    assert got["next_cursor"] is None
    assert [c["id"] for c in got["conversations"]] == [rooms[0], rooms[2], rooms[1]]
    top = got["conversations"][0]
    assert top["participant"]["id"] == peers[0].id
    assert top["last_message"]["content"] == "you there?"
    assert top["unread_count"] == 2
    assert top["last_activity_at"] == top["last_message"]["created_at"]
    assert [c["unread_count"] for c in listing(client, peers[0])["conversations"]] == [0]


def test_listing_pages_with_a_cursor(client, auth):
    alice = auth.user("alice")
    made = []
    for n in range(5):
        made.append(open_with(client, alice, user_id=auth.user(f"peer{n}").id).json["id"])
        time.sleep(0.002)
    newest_first = list(reversed(made))
    page = listing(client, alice, limit=2)
    seen = [c["id"] for c in page["conversations"]]
    while page["next_cursor"]:
        page = listing(client, alice, limit=2, cursor=page["next_cursor"])
        seen += [c["id"] for c in page["conversations"]]
    assert seen == newest_first


@pytest.mark.parametrize("cursor", ["garbage", "!!!", "bm90IGEgY3Vyc29y", "MjAyNi0wMS0wMXx4"])
def test_a_bad_cursor_is_422(client, auth, cursor):
    alice = auth.user("alice")
    response = client.get(
        "/api/conversations", query_string={"cursor": cursor}, headers=alice.headers
    )
    assert response.status_code == 422
    assert "cursor" in response.json["errors"]


def test_a_conversation_is_a_room_for_its_two_members_only(client, auth, api):
    alice, bob, eve = auth.user("alice"), auth.user("bob"), auth.user("eve")
    room_id = open_with(client, alice, user_id=bob.id).json["id"]
    posted = api.post(bob, room_id, "just us")
    assert api.history(alice, room_id)["messages"] == [posted]
    assert room_id in {r["id"] for r in api.rooms(alice)}
    assert room_id not in {r["id"] for r in api.rooms(eve, "all")}
    for method, path, body in [
        ("GET", f"/api/rooms/{room_id}", None),
        ("POST", f"/api/rooms/{room_id}/join", {}),
        ("GET", f"/api/rooms/{room_id}/messages", None),
        ("POST", f"/api/rooms/{room_id}/messages", {"content": "let me in"}),
        ("GET", f"/api/rooms/{room_id}/messages/search?q=just", None),
        ("POST", f"/api/rooms/{room_id}/read", {"seq": 1}),
        ("GET", f"/api/rooms/{room_id}/members", None),
    ]:
        response = client.open(path, method=method, json=body, headers=eve.headers)
        assert response.status_code == 404, (method, path, response.json)
        assert "just us" not in response.get_data(as_text=True)
    assert client.post(f"/api/rooms/{room_id}/leave", headers=alice.headers).status_code == 409
    assert {m["id"] for m in api.members(alice, room_id)} == {alice.id, bob.id}


PAIRS = 6


def test_two_people_opening_at_once_get_one_room(tmp_path):
    """On SQLite, each pair's two people open their conversation on two threads at the
    same moment (all pairs at once): one room per pair, both given its id, one 201 and
    one 200."""
    app = make_app(tmp_path)
    try:
        setup = Auth(app.test_client())
        pairs = [(setup.user(f"left{n}"), setup.user(f"right{n}")) for n in range(PAIRS)]
        start = threading.Barrier(2 * PAIRS)
        answers: dict[int, list[tuple[int, str]]] = {n: [] for n in range(PAIRS)}

        def open_as(n, me, other) -> None:
            client = app.test_client()
            start.wait()
            response = open_with(client, me, user_id=other.id)
            answers[n].append((response.status_code, response.json["id"]))

        threads = [
            threading.Thread(target=open_as, args=(n, *people))
            for n, (left, right) in enumerate(pairs)
            for people in ((left, right), (right, left))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        for n, (left, _) in enumerate(pairs):
            assert sorted(status for status, _ in answers[n]) == [200, 201]
            assert len({room_id for _, room_id in answers[n]}) == 1
            assert len(listing(app.test_client(), left)["conversations"]) == 1
    finally:
        app.extensions["chat"].store.close()
