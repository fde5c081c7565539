"""A room's messages over REST: post, history, read one, delete, read markers."""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest

MESSAGE_FIELDS = {
    "id",
    "room_id",
    "seq",
    "author",
    "content",
    "type",
    "reply_to",
    "created_at",
    "edited_at",
    "deleted",
    "client_id",
}


def url(room_id, message_id=None):
    base = f"/api/rooms/{room_id}/messages"
    return f"{base}/{message_id}" if message_id else base


def seqs(page):
    return [m["seq"] for m in page["messages"]]


# -- post -------------------------------------------------------------------


def test_post_returns_201_with_the_stored_message(client, chat, api):
    owner, bob, room_id = chat
    response = client.post(url(room_id), json={"content": "  hello there \n"}, headers=bob.headers)
    assert response.status_code == 201
    message = response.json
    assert set(message) == MESSAGE_FIELDS
    assert isinstance(message["id"], str) and message["id"]
    assert message["room_id"] == room_id
    assert message["seq"] == 1
    assert message["author"] == {"id": bob.id, "username": "bob", "display_name": None}
    assert message["content"] == "hello there"
    assert message["type"] == "text"
    assert message["reply_to"] is None
    assert message["edited_at"] is None
    assert message["deleted"] is False
    assert message["client_id"] is None
    assert datetime.fromisoformat(message["created_at"]).utcoffset().total_seconds() == 0
    assert api.history(owner, room_id)["messages"] == [message]


def test_seqs_count_up_per_room(client, chat, api):
    owner, bob, room_id = chat
    other = api.create_room(owner, "other")["id"]
    posted = [
        api.post(owner, room_id, "one")["seq"],
        api.post(bob, room_id, "two")["seq"],
        api.post(owner, other, "elsewhere")["seq"],
        api.post(owner, room_id, "three")["seq"],
    ]
    assert posted == [1, 2, 1, 3]
    assert seqs(api.history(bob, room_id)) == [1, 2, 3]
    assert [m["content"] for m in api.history(bob, room_id)["messages"]] == ["one", "two", "three"]


def test_content_is_stored_as_text_not_html(chat, api):
    owner, bob, room_id = chat
    text = "<script>alert('x')</script> &amp; <b>bold</b>"
    assert api.post(bob, room_id, text)["content"] == text
    assert api.history(owner, room_id)["messages"][0]["content"] == text


@pytest.mark.parametrize(
    "body",
    [
        {"content": ""},
        {"content": "   \n\t "},
        {"content": "x" * 4001},
        {},
        {"content": None},
        {"content": 12},
        {"content": "hi", "colour": "red"},
    ],
    ids=["empty", "whitespace", "4001", "missing", "null", "number", "unknown-field"],
)
def test_post_refuses_bad_content_with_422(client, chat, api, body):
    owner, bob, room_id = chat
    response = client.post(url(room_id), json=body, headers=bob.headers)
    assert response.status_code == 422
    assert response.json["code"] == "invalid"
    assert set(response.json["errors"]) & {"content", "colour"}
    assert api.history(owner, room_id)["messages"] == []


def test_post_accepts_4000_characters_after_trimming(chat, api):
    owner, bob, room_id = chat
    message = api.post(bob, room_id, "  " + "x" * 4000 + "  ")
    assert message["content"] == "x" * 4000
    assert api.history(owner, room_id)["messages"][0]["content"] == "x" * 4000


def test_reply_to_a_message_in_the_same_room(chat, api):
    owner, bob, room_id = chat
    first = api.post(owner, room_id, "question?")
    reply = api.post(bob, room_id, "answer", reply_to=first["id"])
    assert reply["reply_to"] == first["id"]
    assert api.history(owner, room_id)["messages"][1]["reply_to"] == first["id"]


@pytest.mark.parametrize("where", ["unknown", "other-room"])
def test_reply_to_a_message_not_in_this_room_is_422(client, chat, api, where):
    owner, bob, room_id = chat
    if where == "unknown":
        target = uuid.uuid4().hex[:24]
    else:
        other = api.create_room(owner, "other")["id"]
        target = api.post(owner, other, "elsewhere")["id"]
    response = client.post(
        url(room_id), json={"content": "answer", "reply_to": target}, headers=bob.headers
    )
    assert response.status_code == 422
    assert "reply_to" in response.json["errors"]
    assert api.history(owner, room_id)["messages"] == []


def test_client_id_makes_a_repeat_return_the_first_message(client, chat, api):
    owner, bob, room_id = chat
    body = {"content": "only once", "client_id": "c-1"}
    first = client.post(url(room_id), json=body, headers=bob.headers)
    assert first.status_code == 201
    assert first.json["client_id"] == "c-1"
    again = client.post(url(room_id), json=body, headers=bob.headers)
    assert again.status_code == 200
    assert again.json == first.json
    changed = client.post(
        url(room_id), json={"content": "different text", "client_id": "c-1"}, headers=bob.headers
    )
    assert changed.status_code == 200
    assert changed.json == first.json
    assert api.history(owner, room_id)["messages"] == [first.json]
    # the next new message takes the next seq: nothing was spent on the repeats
    assert api.post(bob, room_id, "next")["seq"] == 2


def test_client_id_is_per_user_and_per_room(client, chat, api):
    owner, bob, room_id = chat
    other = api.create_room(owner, "other")["id"]
    api.join(bob, other)
    a = api.post(bob, room_id, "mine", client_id="same")
    b = api.post(owner, room_id, "theirs", client_id="same")
    c = api.post(bob, other, "elsewhere", client_id="same")
    assert len({a["id"], b["id"], c["id"]}) == 3
    assert seqs(api.history(owner, room_id)) == [1, 2]


# -- history ----------------------------------------------------------------


@pytest.fixture
def long_room(chat, api):
    """120 messages, alternating authors, content 'm<seq>'."""
    owner, bob, room_id = chat
    for n in range(1, 121):
        api.post(owner if n % 2 else bob, room_id, f"m{n}")
    return owner, bob, room_id


def test_history_default_is_the_latest_50_oldest_first(long_room, api):
    _, bob, room_id = long_room
    page = api.history(bob, room_id)
    assert set(page) == {"messages", "has_more"}
    assert seqs(page) == list(range(71, 121))
    assert [m["content"] for m in page["messages"]] == [f"m{n}" for n in range(71, 121)]
    assert page["has_more"] is True


def test_history_limit(long_room, api):
    _, bob, room_id = long_room
    assert seqs(api.history(bob, room_id, limit=5)) == [116, 117, 118, 119, 120]
    full = api.history(bob, room_id, limit=100)
    assert seqs(full) == list(range(21, 121))
    assert full["has_more"] is True


def test_history_before_pages_backwards_to_the_start(long_room, api):
    _, bob, room_id = long_room
    page = api.history(bob, room_id, before=71)
    assert seqs(page) == list(range(21, 71))
    assert page["has_more"] is True
    last = api.history(bob, room_id, before=21)
    assert seqs(last) == list(range(1, 21))
    assert last["has_more"] is False
    assert api.history(bob, room_id, before=1) == {"messages": [], "has_more": False}


def test_history_after_pages_forwards(long_room, api):
    _, bob, room_id = long_room
    page = api.history(bob, room_id, after=0, limit=10)
    assert seqs(page) == list(range(1, 11))
    assert page["has_more"] is True
    tail = api.history(bob, room_id, after=100)
    assert seqs(tail) == list(range(101, 121))
    assert tail["has_more"] is False
    assert api.history(bob, room_id, after=120) == {"messages": [], "has_more": False}


def test_history_between_before_and_after(long_room, api):
    _, bob, room_id = long_room
    page = api.history(bob, room_id, after=10, before=16)
    assert seqs(page) == [11, 12, 13, 14, 15]
    assert page["has_more"] is False


def test_history_has_more_is_false_when_all_fit(chat, api):
    owner, bob, room_id = chat
    for n in range(3):
        api.post(owner, room_id, f"m{n}")
    assert api.history(bob, room_id)["has_more"] is False
    assert api.history(bob, room_id, limit=3)["has_more"] is False
    assert api.history(bob, room_id, limit=2)["has_more"] is True


@pytest.mark.parametrize(
    "query, field",
    [
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"before": -1}, "before"),
        ({"after": "x"}, "after"),
    ],
    ids=["limit-0", "limit-101", "limit-text", "before-negative", "after-text"],
)
def test_history_refuses_bad_queries_with_422(client, chat, query, field):
    _, bob, room_id = chat
    response = client.get(url(room_id), query_string=query, headers=bob.headers)
    assert response.status_code == 422
    assert field in response.json["errors"]


# -- one message ------------------------------------------------------------


def test_get_one_message(client, chat, api):
    owner, bob, room_id = chat
    posted = api.post(bob, room_id, "hello")
    response = client.get(url(room_id, posted["id"]), headers=owner.headers)
    assert response.status_code == 200
    assert response.json == posted


def test_get_an_unknown_message_is_404(client, chat, api):
    owner, bob, room_id = chat
    other = api.create_room(owner, "other")["id"]
    elsewhere = api.post(owner, other, "elsewhere")["id"]
    for message_id in (uuid.uuid4().hex[:24], "no-such-message", elsewhere):
        response = client.get(url(room_id, message_id), headers=bob.headers)
        assert response.status_code == 404
        assert response.json["code"] == "not_found"


# -- delete -----------------------------------------------------------------


def test_delete_own_message_leaves_a_tombstone(client, chat, api):
    owner, bob, room_id = chat
    api.post(owner, room_id, "before")
    mine = api.post(bob, room_id, "oops")
    api.post(owner, room_id, "after")
    response = client.delete(url(room_id, mine["id"]), headers=bob.headers)
    assert response.status_code == 200
    tombstone = response.json
    assert tombstone["id"] == mine["id"]
    assert tombstone["seq"] == 2
    assert tombstone["deleted"] is True
    assert tombstone["content"] == ""
    assert tombstone["author"]["id"] == bob.id
    history = api.history(owner, room_id)["messages"]
    assert seqs({"messages": history}) == [1, 2, 3]
    assert history[1] == tombstone
    assert [m["deleted"] for m in history] == [False, True, False]
    again = client.get(url(room_id, mine["id"]), headers=owner.headers)
    assert again.json == tombstone


def test_deleting_twice_is_harmless(client, chat, api):
    _, bob, room_id = chat
    mine = api.post(bob, room_id, "oops")
    first = client.delete(url(room_id, mine["id"]), headers=bob.headers)
    second = client.delete(url(room_id, mine["id"]), headers=bob.headers)
    assert second.status_code == 200
    assert second.json == first.json


def test_plain_member_may_not_delete_anothers_message(client, auth, chat, api):
    owner, bob, room_id = chat
    carol = auth.user("carol")
    api.join(carol, room_id)
    theirs = api.post(carol, room_id, "carol's words")
    for target in (theirs, api.post(owner, room_id, "owner's words")):
        response = client.delete(url(room_id, target["id"]), headers=bob.headers)
        assert response.status_code == 403
        assert response.json["code"] == "forbidden"
        assert client.get(url(room_id, target["id"]), headers=owner.headers).json == target


def test_room_owner_may_delete_anyones_message(client, chat, api):
    owner, bob, room_id = chat
    theirs = api.post(bob, room_id, "rude words")
    response = client.delete(url(room_id, theirs["id"]), headers=owner.headers)
    assert response.status_code == 200
    assert response.json["deleted"] is True
    assert response.json["author"]["id"] == bob.id
    assert api.history(bob, room_id)["messages"][0]["deleted"] is True


def test_delete_an_unknown_message_is_404(client, chat):
    _, bob, room_id = chat
    response = client.delete(url(room_id, uuid.uuid4().hex[:24]), headers=bob.headers)
    assert response.status_code == 404


# -- outsiders --------------------------------------------------------------


def test_non_member_of_a_public_room_may_not_post_or_read(client, auth, chat, api):
    owner, _, room_id = chat
    posted = api.post(owner, room_id, "members only")
    eve = auth.user("eve")
    for response in (
        client.post(url(room_id), json={"content": "let me in"}, headers=eve.headers),
        client.get(url(room_id), headers=eve.headers),
        client.get(url(room_id, posted["id"]), headers=eve.headers),
        client.delete(url(room_id, posted["id"]), headers=eve.headers),
    ):
        assert response.status_code == 403
        assert response.json["code"] == "forbidden"
        assert "members only" not in response.get_data(as_text=True)
    assert api.history(owner, room_id)["messages"] == [posted]


def test_non_member_of_a_private_room_gets_404(client, auth, api):
    alice = auth.user("alice")
    eve = auth.user("eve")
    private = api.create_room(alice, "hidden", visibility="private")["id"]
    posted = api.post(alice, private, "secret")
    for response in (
        client.post(url(private), json={"content": "let me in"}, headers=eve.headers),
        client.get(url(private), headers=eve.headers),
        client.get(url(private, posted["id"]), headers=eve.headers),
        client.delete(url(private, posted["id"]), headers=eve.headers),
    ):
        assert response.status_code == 404
        assert response.json["code"] == "not_found"
    assert api.history(alice, private)["messages"] == [posted]


def test_post_to_an_unknown_room_is_404(client, auth):
    eve = auth.user("eve")
    response = client.post(
        url(uuid.uuid4().hex[:24]), json={"content": "anyone?"}, headers=eve.headers
    )
    assert response.status_code == 404


# -- read markers in the room listing ---------------------------------------


def room_in(rooms, room_id):
    return next(room for room in rooms if room["id"] == room_id)


def test_unread_count_and_last_read_seq_follow_posts(chat, api):
    owner, bob, room_id = chat
    for n in range(3):
        api.post(bob, room_id, f"b{n}")
    mine = room_in(api.rooms(owner), room_id)
    assert (mine["unread_count"], mine["last_read_seq"]) == (3, 0)
    assert mine["last_message"]["seq"] == 3
    assert mine["last_message"]["author"]["id"] == bob.id
    theirs = room_in(api.rooms(bob), room_id)
    assert (theirs["unread_count"], theirs["last_read_seq"]) == (0, 3)
    # posting your own message moves your marker past everything before it
    api.post(owner, room_id, "caught up")
    mine = room_in(api.rooms(owner), room_id)
    assert (mine["unread_count"], mine["last_read_seq"]) == (0, 4)
    theirs = room_in(api.rooms(bob), room_id)
    assert (theirs["unread_count"], theirs["last_read_seq"]) == (1, 3)
    assert api.room(bob, room_id)["unread_count"] == 1


def test_a_newcomer_counts_the_existing_history_as_unread(auth, chat, api):
    owner, _, room_id = chat
    api.post(owner, room_id, "one")
    api.post(owner, room_id, "two")
    carol = auth.user("carol")
    joined = api.join(carol, room_id)
    assert (joined["unread_count"], joined["last_read_seq"]) == (2, 0)
