"""The eight original routes (SPEC 2.1), kept exactly for existing curl scripts."""

from __future__ import annotations

import uuid

import pytest


@pytest.fixture
def alice(auth):
    return auth.user("alice")


@pytest.fixture
def bob(auth):
    return auth.user("bob")


def legacy_room(client, who, name="general"):
    response = client.post("/create_room", json={"roomname": name}, headers=who.headers)
    assert response.status_code == 201, response.json
    return response.json


# -- the routes and their statuses ------------------------------------------


def test_register_201(client):
    response = client.post("/register", json={"username": "alice", "password": "password123"})
    assert response.status_code == 201
    assert response.json["username"] == "alice"
    assert isinstance(response.json["id"], str)
    assert "password" not in response.json and "password_hash" not in response.json
    again = client.post("/api/auth/login", json={"username": "alice", "password": "password123"})
    assert again.status_code == 200


def test_register_applies_the_same_rules(client, alice):
    taken = client.post("/register", json={"username": "ALICE", "password": "password123"})
    assert taken.status_code == 409
    assert "username" in taken.json["errors"]
    short = client.post("/register", json={"username": "carol", "password": "short"})
    assert short.status_code == 422
    assert "password" in short.json["errors"]
    login = client.post("/login", json={"username": "carol", "password": "short"})
    assert login.status_code == 401


def test_login_200(client, alice):
    response = client.post("/login", json={"username": "alice", "password": "password123"})
    assert response.status_code == 200
    body = response.json
    assert {"access_token", "refresh_token", "token_type", "expires_in", "user"} <= set(body)
    assert body["user"]["id"] == alice.id
    me = client.get("/api/users/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200


def test_login_wrong_password_401(client, alice):
    response = client.post("/login", json={"username": "alice", "password": "wrong-password"})
    assert response.status_code == 401
    assert response.json["message"]
    assert "access_token" not in response.json


def test_create_room_201(client, api, alice):
    room = legacy_room(client, alice)
    assert room["name"] == "general"
    assert room["owner_id"] == alice.id
    assert room["member_count"] == 1
    assert [(m["id"], m["role"]) for m in api.members(alice, room["id"])] == [(alice.id, "owner")]


def test_create_room_with_a_taken_name_409(client, alice, bob, api):
    legacy_room(client, alice)
    response = client.post("/create_room", json={"roomname": "GENERAL"}, headers=bob.headers)
    assert response.status_code == 409
    assert api.rooms(bob) == []


def test_create_room_without_a_name_422(client, alice, api):
    response = client.post("/create_room", json={}, headers=alice.headers)
    assert response.status_code == 422
    assert "roomname" in response.json["errors"]
    assert api.rooms(alice, "all") == []


def test_join_room_200(client, api, alice, bob):
    room = legacy_room(client, alice)
    response = client.post("/join_room", json={"roomID": room["id"]}, headers=bob.headers)
    assert response.status_code == 200
    assert response.json["id"] == room["id"]
    assert response.json["member_count"] == 2
    assert {m["id"] for m in api.members(alice, room["id"])} == {alice.id, bob.id}


def test_join_room_with_password(client, api, alice, bob):
    locked = api.create_room(alice, "locked", password="s3cret-pass")
    wrong = client.post("/join_room", json={"roomID": locked["id"]}, headers=bob.headers)
    assert wrong.status_code == 403
    assert [m["id"] for m in api.members(alice, locked["id"])] == [alice.id]
    right = client.post(
        "/join_room", json={"roomID": locked["id"], "password": "s3cret-pass"}, headers=bob.headers
    )
    assert right.status_code == 200
    assert right.json["member_count"] == 2


def test_send_message_201_with_message(client, api, alice):
    room = legacy_room(client, alice)
    response = client.post(
        "/send_message", json={"roomID": room["id"], "message": " hello "}, headers=alice.headers
    )
    assert response.status_code == 201
    assert response.json["content"] == "hello"
    assert response.json["seq"] == 1
    assert response.json["author"]["id"] == alice.id
    assert api.history(alice, room["id"])["messages"] == [response.json]


def test_send_message_201_with_content(client, api, alice):
    room = legacy_room(client, alice)
    response = client.post(
        "/send_message", json={"roomID": room["id"], "content": "hello"}, headers=alice.headers
    )
    assert response.status_code == 201
    assert response.json["content"] == "hello"
    assert api.history(alice, room["id"])["messages"] == [response.json]


def test_send_message_refuses_empty_content(client, api, alice):
    room = legacy_room(client, alice)
    for body in ({"roomID": room["id"], "message": "   "}, {"roomID": room["id"]}):
        response = client.post("/send_message", json=body, headers=alice.headers)
        assert response.status_code == 422
        assert "message" in response.json["errors"]
    assert api.history(alice, room["id"])["messages"] == []


def test_send_message_as_a_non_member_403(client, api, alice, bob):
    room = legacy_room(client, alice)
    response = client.post(
        "/send_message", json={"roomID": room["id"], "message": "hi"}, headers=bob.headers
    )
    assert response.status_code == 403
    assert api.history(alice, room["id"])["messages"] == []


def test_delete_message_200(client, api, alice):
    room = legacy_room(client, alice)
    message = api.post(alice, room["id"], "oops")
    response = client.post(
        "/delete_message",
        json={"roomID": room["id"], "messageID": message["id"]},
        headers=alice.headers,
    )
    assert response.status_code == 200
    assert response.json["id"] == message["id"]
    assert response.json["deleted"] is True
    assert response.json["content"] == ""
    assert api.history(alice, room["id"])["messages"] == [response.json]


def test_delete_someone_elses_message_403(client, api, alice, bob):
    room = legacy_room(client, alice)
    api.join(bob, room["id"])
    message = api.post(alice, room["id"], "mine")
    response = client.post(
        "/delete_message",
        json={"roomID": room["id"], "messageID": message["id"]},
        headers=bob.headers,
    )
    assert response.status_code == 403
    assert api.history(alice, room["id"])["messages"] == [message]


def test_get_messages_200(client, api, alice):
    room = legacy_room(client, alice)
    first = api.post(alice, room["id"], "one")
    second = api.post(alice, room["id"], "two")
    response = client.get(f"/get_messages/{room['id']}", headers=alice.headers)
    assert response.status_code == 200
    assert response.json == {"messages": [first, second], "has_more": False}
    paged = client.get(f"/get_messages/{room['id']}?limit=1", headers=alice.headers)
    assert paged.json == {"messages": [second], "has_more": True}


def test_get_messages_members_only(client, api, alice, bob):
    room = legacy_room(client, alice)
    api.post(alice, room["id"], "private words")
    response = client.get(f"/get_messages/{room['id']}", headers=bob.headers)
    assert response.status_code == 403
    assert "private words" not in response.get_data(as_text=True)


def test_get_rooms_200_lists_all_rooms_you_may_see(client, api, alice, bob):
    public = legacy_room(client, alice, "lobby")
    private = api.create_room(alice, "hideout", visibility="private")
    own = api.create_room(bob, "bobs-place")
    response = client.get("/get_rooms", headers=bob.headers)
    assert response.status_code == 200
    assert {r["id"] for r in response.json["rooms"]} == {public["id"], own["id"]}
    mine = client.get("/get_rooms", headers=alice.headers)
    assert {r["id"] for r in mine.json["rooms"]} == {public["id"], private["id"], own["id"]}


# -- ids as strings, or numbers that look like them ---------------------------


def a_number() -> int:
    """A number no stored id can be: ids are 24 hex digits, this has at most 12 digits."""
    return uuid.uuid4().int % 10**12


def test_numeric_ids_are_taken_as_strings(client, alice):
    for route, body in (
        ("/join_room", {"roomID": a_number()}),
        ("/send_message", {"roomID": a_number(), "message": "hi"}),
        ("/delete_message", {"roomID": a_number(), "messageID": a_number()}),
    ):
        response = client.post(route, json=body, headers=alice.headers)
        # a number is a well-formed id; there is simply no such room
        assert response.status_code == 404, (route, response.json)
        assert response.json["code"] == "not_found"


@pytest.mark.parametrize("bad", [True, {"id": 1}, [1], ""], ids=["bool", "object", "list", "empty"])
def test_ids_that_are_not_ids_are_422(client, alice, bad):
    response = client.post("/join_room", json={"roomID": bad}, headers=alice.headers)
    assert response.status_code == 422
    assert "roomID" in response.json["errors"]


# -- userID ------------------------------------------------------------------


def test_userid_of_the_token_user_is_accepted(client, api, alice, bob):
    room = client.post(
        "/create_room", json={"roomname": "general", "userID": alice.id}, headers=alice.headers
    )
    assert room.status_code == 201
    room_id = room.json["id"]
    joined = client.post(
        "/join_room", json={"roomID": room_id, "userID": bob.id}, headers=bob.headers
    )
    assert joined.status_code == 200
    sent = client.post(
        "/send_message",
        json={"roomID": room_id, "message": "hi", "userID": bob.id},
        headers=bob.headers,
    )
    assert sent.status_code == 201
    assert sent.json["author"]["id"] == bob.id
    deleted = client.post(
        "/delete_message",
        json={"roomID": room_id, "messageID": sent.json["id"], "userID": bob.id},
        headers=bob.headers,
    )
    assert deleted.status_code == 200
    assert deleted.json["deleted"] is True


@pytest.fixture
def setting(client, api, alice, bob):
    """alice's room with one message of hers; bob is a member."""
    room = legacy_room(client, alice)
    api.join(bob, room["id"])
    message = api.post(alice, room["id"], "hers")
    return room["id"], message


@pytest.mark.parametrize(
    "route", ["/create_room", "/join_room", "/send_message", "/delete_message"]
)
def test_userid_naming_someone_else_is_403_and_changes_nothing(
    client, api, auth, alice, bob, setting, route
):
    room_id, message = setting
    carol = auth.user("carol")
    bodies = {
        "/create_room": {"roomname": "hijacked"},
        "/join_room": {"roomID": room_id},
        "/send_message": {"roomID": room_id, "message": "as alice"},
        "/delete_message": {"roomID": room_id, "messageID": message["id"]},
    }
    actor = carol if route in ("/create_room", "/join_room") else bob
    before_members = api.members(alice, room_id)
    before_rooms = api.rooms(alice, "all")
    before_actor = api.rooms(actor, "all")
    for victim in (alice.id, a_number()):
        body = {**bodies[route], "userID": victim}
        response = client.post(route, json=body, headers=actor.headers)
        assert response.status_code == 403, response.json
        assert response.json["code"] == "forbidden"
        assert response.json["message"]
    assert api.members(alice, room_id) == before_members
    assert api.history(alice, room_id)["messages"] == [message]
    assert api.rooms(alice, "all") == before_rooms
    assert api.rooms(actor, "all") == before_actor


# -- tokens -----------------------------------------------------------------


@pytest.mark.parametrize(
    "method, route",
    [
        ("POST", "/create_room"),
        ("POST", "/join_room"),
        ("POST", "/send_message"),
        ("POST", "/delete_message"),
        ("GET", "/get_messages/{room_id}"),
        ("GET", "/get_rooms"),
    ],
)
def test_routes_other_than_register_and_login_need_a_token(
    client, api, alice, setting, method, route
):
    room_id, message = setting
    bodies = {
        "/create_room": {"roomname": "anon-room"},
        "/join_room": {"roomID": room_id},
        "/send_message": {"roomID": room_id, "message": "anonymous"},
        "/delete_message": {"roomID": room_id, "messageID": message["id"]},
    }
    before = api.rooms(alice, "all")
    response = client.open(route.format(room_id=room_id), method=method, json=bodies.get(route))
    assert response.status_code == 401
    assert response.is_json
    assert response.json["message"]
    assert "hers" not in response.get_data(as_text=True)
    assert api.rooms(alice, "all") == before
    assert api.history(alice, room_id)["messages"] == [message]


@pytest.mark.parametrize("route", ["/register", "/login"])
def test_register_and_login_need_no_token(client, route):
    if route == "/login":
        client.post("/register", json={"username": "dave", "password": "password123"})
    response = client.post(route, json={"username": "dave", "password": "password123"})
    assert response.status_code in (200, 201)


# -- extra fields -----------------------------------------------------------


def test_unknown_fields_are_tolerated_everywhere(client, api, bob):
    extra = {"extra": "ignored", "timestamp": 12345}
    registered = client.post(
        "/register", json={"username": "erin", "password": "password123", **extra}
    )
    assert registered.status_code == 201
    logged_in = client.post("/login", json={"username": "erin", "password": "password123", **extra})
    assert logged_in.status_code == 200
    headers = {"Authorization": f"Bearer {logged_in.json['access_token']}"}
    room = client.post("/create_room", json={"roomname": "extras", **extra}, headers=headers)
    assert room.status_code == 201
    room_id = room.json["id"]
    joined = client.post("/join_room", json={"roomID": room_id, **extra}, headers=bob.headers)
    assert joined.status_code == 200
    sent = client.post(
        "/send_message", json={"roomID": room_id, "message": "hi", **extra}, headers=headers
    )
    assert sent.status_code == 201
    deleted = client.post(
        "/delete_message",
        json={"roomID": room_id, "messageID": sent.json["id"], **extra},
        headers=headers,
    )
    assert deleted.status_code == 200
    assert api.history(bob, room_id)["messages"][0]["deleted"] is True


def test_legacy_and_api_share_one_history(client, api, alice, bob):
    room = legacy_room(client, alice)
    client.post("/join_room", json={"roomID": room["id"]}, headers=bob.headers)
    legacy = client.post(
        "/send_message", json={"roomID": room["id"], "message": "old"}, headers=bob.headers
    )
    modern = api.post(alice, room["id"], "new")
    assert (legacy.json["seq"], modern["seq"]) == (1, 2)
    page = client.get(f"/get_messages/{room['id']}", headers=bob.headers).json
    assert page["messages"] == api.history(alice, room["id"])["messages"]


def test_unknown_room_is_404(client, alice):
    response = client.get(f"/get_messages/{uuid.uuid4().hex[:24]}", headers=alice.headers)
    assert response.status_code == 404
