"""Editing messages, searching a room, read markers and unread counts, over REST."""

from __future__ import annotations

from datetime import datetime

import pytest


def url(room_id, message_id=None):
    base = f"/api/rooms/{room_id}/messages"
    return f"{base}/{message_id}" if message_id else base


def search(client, who, room_id, **query):
    return client.get(
        f"/api/rooms/{room_id}/messages/search", query_string=query, headers=who.headers
    )


def found(client, who, room_id, **query):
    response = search(client, who, room_id, **query)
    assert response.status_code == 200, response.json
    return [m["content"] for m in response.json["messages"]]


def mark(client, who, room_id, seq):
    return client.post(f"/api/rooms/{room_id}/read", json={"seq": seq}, headers=who.headers)


# -- edit --------------------------------------------------------------------------


def test_the_author_edits_a_message(client, chat, api):
    owner, bob, room_id = chat
    posted = api.post(bob, room_id, "frist")
    response = client.patch(
        url(room_id, posted["id"]), json={"content": " first "}, headers=bob.headers
    )
    assert response.status_code == 200
    edited = response.json
    assert edited["content"] == "first"
    assert datetime.fromisoformat(edited["edited_at"]) >= datetime.fromisoformat(
        edited["created_at"]
    )
    assert {k: v for k, v in edited.items() if k not in ("content", "edited_at")} == {
        k: v for k, v in posted.items() if k not in ("content", "edited_at")
    }
    assert api.history(owner, room_id)["messages"] == [edited]


@pytest.mark.parametrize("who", ["owner", "member"])
def test_nobody_but_the_author_edits(client, auth, chat, api, who):
    """Not even the room's owner, who may delete it."""
    owner, bob, room_id = chat
    carol = auth.user("carol")
    api.join(carol, room_id)
    posted = api.post(carol, room_id, "mine")
    editor = owner if who == "owner" else bob
    response = client.patch(
        url(room_id, posted["id"]), json={"content": "theirs"}, headers=editor.headers
    )
    assert response.status_code == 403
    assert response.json["code"] == "forbidden"
    assert api.history(owner, room_id)["messages"] == [posted]


def test_a_tombstone_cannot_be_edited(client, chat, api):
    owner, bob, room_id = chat
    posted = api.post(bob, room_id, "oops")
    assert client.delete(url(room_id, posted["id"]), headers=bob.headers).status_code == 200
    response = client.patch(
        url(room_id, posted["id"]), json={"content": "undo"}, headers=bob.headers
    )
    assert response.status_code == 409
    assert response.json["code"] == "conflict"
    tombstone = api.history(owner, room_id)["messages"][0]
    assert (tombstone["deleted"], tombstone["content"], tombstone["edited_at"]) == (True, "", None)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"content": ""},
        {"content": "   "},
        {"content": "x" * 4001},
        {"content": "ok", "extra": 1},
    ],
)
def test_an_invalid_edit_is_422_and_changes_nothing(client, chat, api, body):
    owner, bob, room_id = chat
    posted = api.post(bob, room_id, "kept")
    response = client.patch(url(room_id, posted["id"]), json=body, headers=bob.headers)
    assert response.status_code == 422
    assert api.history(owner, room_id)["messages"] == [posted]


def test_editing_an_unknown_message_is_404(client, chat):
    owner, bob, room_id = chat
    response = client.patch(url(room_id, "0" * 24), json={"content": "x"}, headers=bob.headers)
    assert response.status_code == 404


def test_a_message_of_another_room_is_not_edited_through_this_one(client, chat, api):
    owner, bob, room_id = chat
    other = api.create_room(bob, "other")["id"]
    posted = api.post(bob, other, "elsewhere")
    response = client.patch(url(room_id, posted["id"]), json={"content": "x"}, headers=bob.headers)
    assert response.status_code == 404
    assert api.history(bob, other)["messages"] == [posted]


# -- search ------------------------------------------------------------------------


def test_search_finds_words_newest_first(client, chat, api):
    owner, bob, room_id = chat
    for author, text in [(owner, "Lunch at noon?"), (bob, "noon works"), (owner, "dinner then")]:
        api.post(author, room_id, text)
    response = search(client, bob, room_id, q="NOON")
    assert response.status_code == 200
    assert set(response.json) == {"messages", "has_more"}
    assert [m["content"] for m in response.json["messages"]] == ["noon works", "Lunch at noon?"]
    assert response.json["messages"][0]["author"]["username"] == "bob"
    assert found(client, bob, room_id, q="lunch noon") == ["Lunch at noon?"]
    assert found(client, bob, room_id, q="breakfast") == []


def test_search_pages_back_with_before(client, chat, api):
    owner, bob, room_id = chat
    posted = [api.post(owner, room_id, f"item {n}") for n in range(1, 6)]
    first = search(client, bob, room_id, q="item", limit=2).json
    assert [m["seq"] for m in first["messages"]] == [5, 4] and first["has_more"] is True
    rest = search(client, bob, room_id, q="item", limit=2, before=4).json
    assert [m["seq"] for m in rest["messages"]] == [3, 2] and rest["has_more"] is True
    last = search(client, bob, room_id, q="item", limit=2, before=2).json
    assert last["messages"] == [posted[0]] and last["has_more"] is False


@pytest.mark.parametrize(
    "q, expected",
    [
        ('"quoted"', ['a "quoted" word']),
        ("quoted*", ['a "quoted" word']),
        ("-quoted", ['a "quoted" word']),
        ("NEAR", ["NEAR AND OR NOT"]),
        ("OR", ["NEAR AND OR NOT"]),
        ("near(and", ["NEAR AND OR NOT"]),
        ("room_id:x", []),
        ("content:quoted", []),  # two words, and "content" is not in it
        ("word:quoted", ['a "quoted" word']),
    ],
)
def test_search_syntax_is_just_text(client, chat, api, q, expected):
    owner, bob, room_id = chat
    api.post(owner, room_id, 'a "quoted" word')
    api.post(owner, room_id, "NEAR AND OR NOT")
    assert found(client, bob, room_id, q=q) == expected


@pytest.mark.parametrize("q", ["", "   ", '"', "***", "- - -", "()", "_"])
def test_a_query_without_a_word_is_422(client, chat, api, q):
    owner, bob, room_id = chat
    api.post(owner, room_id, "something")
    response = search(client, bob, room_id, q=q)
    assert response.status_code == 422
    assert "q" in response.json["errors"]


@pytest.mark.parametrize(
    "query, field",
    [
        ({}, "q"),
        ({"q": "x", "limit": 0}, "limit"),
        ({"q": "x", "limit": 101}, "limit"),
        ({"q": "x", "before": -1}, "before"),
        ({"q": "x" * 201}, "q"),
        ({"q": "x", "colour": "red"}, "colour"),
    ],
)
def test_bad_search_queries_are_422(client, chat, query, field):
    owner, bob, room_id = chat
    response = search(client, bob, room_id, **query)
    assert response.status_code == 422
    assert field in response.json["errors"]


def test_search_sees_edits_and_not_tombstones(client, chat, api):
    owner, bob, room_id = chat
    first = api.post(bob, room_id, "teh typo")
    second = api.post(bob, room_id, "regrettable remark")
    client.patch(url(room_id, first["id"]), json={"content": "the typo fixed"}, headers=bob.headers)
    client.delete(url(room_id, second["id"]), headers=bob.headers)
    assert found(client, owner, room_id, q="teh") == []
    assert found(client, owner, room_id, q="fixed") == ["the typo fixed"]
    assert found(client, owner, room_id, q="regrettable") == []


def test_search_does_not_reach_into_other_rooms(client, auth, chat, api):
    owner, bob, room_id = chat
    secret = api.create_room(owner, "secret", visibility="private")["id"]
    api.post(owner, secret, "the password is swordfish")
    assert found(client, bob, room_id, q="swordfish") == []
    assert search(client, bob, secret, q="swordfish").status_code == 404


# -- read markers and unread counts ----------------------------------------------------


def test_read_moves_the_marker_forward_only(client, chat, api):
    owner, bob, room_id = chat
    for n in range(5):
        api.post(owner, room_id, f"m{n}")
    response = mark(client, bob, room_id, 3)
    assert response.status_code == 200
    assert response.json == {"room_id": room_id, "last_read_seq": 3, "unread_count": 2}
    assert mark(client, bob, room_id, 1).json == {
        "room_id": room_id,
        "last_read_seq": 3,
        "unread_count": 2,
    }
    room = api.room(bob, room_id)
    assert (room["last_read_seq"], room["unread_count"]) == (3, 2)


def test_a_seq_past_the_last_reads_to_the_last(client, chat, api):
    owner, bob, room_id = chat
    api.post(owner, room_id, "one")
    api.post(owner, room_id, "two")
    assert mark(client, bob, room_id, 1000).json == {
        "room_id": room_id,
        "last_read_seq": 2,
        "unread_count": 0,
    }
    api.post(owner, room_id, "three")  # so it is unread: the marker did not run ahead
    assert api.room(bob, room_id)["unread_count"] == 1


@pytest.mark.parametrize(
    "body, field",
    [({}, "seq"), ({"seq": -1}, "seq"), ({"seq": "x"}, "seq"), ({"seq": 1, "more": 2}, "more")],
)
def test_a_bad_read_is_422(client, chat, api, body, field):
    owner, bob, room_id = chat
    api.post(owner, room_id, "one")
    response = client.post(f"/api/rooms/{room_id}/read", json=body, headers=bob.headers)
    assert response.status_code == 422
    assert field in response.json["errors"]
    assert api.room(bob, room_id)["last_read_seq"] == 0


def test_unread_counts_leave_out_deleted_messages(client, chat, api):
    owner, bob, room_id = chat
    posted = [api.post(owner, room_id, f"m{n}") for n in range(1, 7)]
    assert api.room(bob, room_id)["unread_count"] == 6
    for index in (1, 4):  # seqs 2 and 5
        assert (
            client.delete(url(room_id, posted[index]["id"]), headers=owner.headers).status_code
            == 200
        )
    assert api.room(bob, room_id)["unread_count"] == 4
    assert mark(client, bob, room_id, 3).json["unread_count"] == 2  # 4 and 6; 5 is gone
    assert [r["unread_count"] for r in api.rooms(bob) if r["id"] == room_id] == [2]
    client.delete(url(room_id, posted[5]["id"]), headers=owner.headers)  # seq 6
    assert api.room(bob, room_id)["unread_count"] == 1
    client.delete(url(room_id, posted[0]["id"]), headers=owner.headers)  # behind the marker
    assert api.room(bob, room_id)["unread_count"] == 1


def test_last_message_is_the_newest_even_when_deleted(client, chat, api):
    owner, bob, room_id = chat
    api.post(owner, room_id, "older")
    newest = api.post(owner, room_id, "newest")
    client.delete(url(room_id, newest["id"]), headers=owner.headers)
    last = api.room(bob, room_id)["last_message"]
    assert (last["id"], last["seq"], last["deleted"], last["content"]) == (
        newest["id"],
        2,
        True,
        "",
    )


def test_a_room_records_its_last_activity(chat, api):
    owner, bob, room_id = chat
    before = api.room(bob, room_id)
    assert before["last_activity_at"] == before["created_at"]
    posted = api.post(owner, room_id, "now")
    assert api.room(bob, room_id)["last_activity_at"] == posted["created_at"]
