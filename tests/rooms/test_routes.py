"""Rooms over REST: create, list, get, join, leave, members."""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest

ROOM_FIELDS = {
    "id",
    "name",
    "description",
    "kind",
    "visibility",
    "has_password",
    "owner_id",
    "member_count",
    "created_at",
    "last_activity_at",
    "last_message",
}
MEMBER_VIEW = ROOM_FIELDS | {"unread_count", "last_read_seq"}


def ids(rooms):
    return {room["id"] for room in rooms}


def roles(members):
    return {member["id"]: member["role"] for member in members}


# -- create -----------------------------------------------------------------


def test_create_room_returns_201_owned_by_the_creator(client, auth, api):
    alice = auth.user("alice")
    response = client.post(
        "/api/rooms", json={"name": "  general  ", "description": " talk "}, headers=alice.headers
    )
    assert response.status_code == 201
    room = response.json
    assert set(room) == MEMBER_VIEW
    assert isinstance(room["id"], str) and room["id"]
    assert room["name"] == "general"
    assert room["description"] == "talk"
    assert room["kind"] == "group"
    assert room["visibility"] == "public"
    assert room["has_password"] is False
    assert room["owner_id"] == alice.id
    assert room["member_count"] == 1
    assert room["last_message"] is None
    assert room["unread_count"] == 0
    assert room["last_read_seq"] == 0
    assert datetime.fromisoformat(room["created_at"]).utcoffset().total_seconds() == 0
    assert api.room(alice, room["id"]) == room
    assert [(m["id"], m["role"]) for m in api.members(alice, room["id"])] == [(alice.id, "owner")]
    assert ids(api.rooms(alice)) == {room["id"]}


@pytest.mark.parametrize("second", ["general", "GENERAL", "General"])
def test_create_room_with_a_taken_name_ignoring_case_is_409(client, auth, api, room, second):
    owner, first = room
    bob = auth.user("bob")
    response = client.post("/api/rooms", json={"name": second}, headers=bob.headers)
    assert response.status_code == 409
    assert response.json["code"] == "conflict"
    assert "name" in response.json["errors"]
    assert api.rooms(bob) == []
    assert ids(api.rooms(owner, "all")) == {first["id"]}


@pytest.mark.parametrize(
    "body, field",
    [
        ({"name": "r", "visibility": "secret"}, "visibility"),
        ({"name": "r", "visibility": None}, "visibility"),
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 65}, "name"),
        ({"name": "r", "description": "x" * 501}, "description"),
        ({"name": "r", "password": ""}, "password"),
        ({"name": "r", "colour": "red"}, "colour"),
    ],
    ids=[
        "bad-visibility",
        "null-visibility",
        "no-name",
        "empty-name",
        "blank-name",
        "long-name",
        "long-description",
        "empty-password",
        "unknown-field",
    ],
)
def test_create_room_validates_its_input(client, auth, api, body, field):
    alice = auth.user("alice")
    response = client.post("/api/rooms", json=body, headers=alice.headers)
    assert response.status_code == 422
    assert response.json["code"] == "invalid"
    assert field in response.json["errors"]
    assert api.rooms(alice, "all") == []


def test_create_private_room(client, auth, api):
    alice = auth.user("alice")
    room = api.create_room(alice, "secret", visibility="private")
    assert room["visibility"] == "private"
    assert room["owner_id"] == alice.id
    assert api.room(alice, room["id"])["visibility"] == "private"


def test_password_room_has_password_and_never_leaks_the_hash(client, auth, api):
    alice = auth.user("alice")
    bob = auth.user("bob")
    room = api.create_room(alice, "locked", password="s3cret-pass")
    views = [
        room,
        api.room(alice, room["id"]),
        api.room(bob, room["id"]),
        *api.rooms(alice),
        *api.rooms(bob, "public"),
        api.join(bob, room["id"], password="s3cret-pass"),
    ]
    for view in views:
        assert view["has_password"] is True
        assert "password" not in view and "password_hash" not in view
        assert "s3cret-pass" not in str(view)


# -- list -------------------------------------------------------------------


@pytest.fixture
def scene(auth, api):
    """alice owns a public and a private room, bob owns one public room he alone is in."""
    alice = auth.user("alice")
    bob = auth.user("bob")
    return {
        "alice": alice,
        "bob": bob,
        "a_public": api.create_room(alice, "a-public"),
        "a_private": api.create_room(alice, "a-private", visibility="private"),
        "b_public": api.create_room(bob, "b-public"),
    }


def test_list_scope_joined_is_the_default(client, scene, api):
    alice = scene["alice"]
    default = client.get("/api/rooms", headers=alice.headers)
    assert default.status_code == 200
    assert ids(default.json["rooms"]) == {scene["a_public"]["id"], scene["a_private"]["id"]}
    assert ids(api.rooms(alice, "joined")) == ids(default.json["rooms"])
    for room in default.json["rooms"]:
        assert set(room) == MEMBER_VIEW


def test_list_scope_public_lists_public_rooms_only(scene, api):
    expected = {scene["a_public"]["id"], scene["b_public"]["id"]}
    assert ids(api.rooms(scene["alice"], "public")) == expected
    assert ids(api.rooms(scene["bob"], "public")) == expected


def test_list_scope_all_is_joined_plus_public(scene, api):
    assert ids(api.rooms(scene["alice"], "all")) == {
        scene["a_public"]["id"],
        scene["a_private"]["id"],
        scene["b_public"]["id"],
    }
    assert ids(api.rooms(scene["bob"], "all")) == {
        scene["a_public"]["id"],
        scene["b_public"]["id"],
    }


def test_list_shows_read_markers_only_for_rooms_you_are_in(scene, api):
    for room in api.rooms(scene["bob"], "all"):
        if room["id"] == scene["b_public"]["id"]:
            assert set(room) == MEMBER_VIEW
        else:
            assert set(room) == ROOM_FIELDS


@pytest.mark.parametrize("scope", ["everything", "JOINED", ""])
def test_list_with_an_invalid_scope_is_422(client, scene, scope):
    response = client.get("/api/rooms", query_string={"scope": scope}, headers=scene["bob"].headers)
    assert response.status_code == 422
    assert "scope" in response.json["errors"]


# -- private rooms are invisible to outsiders -------------------------------


def test_private_room_is_404_to_a_non_member(client, scene):
    private = scene["a_private"]
    response = client.get(f"/api/rooms/{private['id']}", headers=scene["bob"].headers)
    assert response.status_code == 404
    assert response.json["code"] == "not_found"
    assert "a-private" not in response.get_data(as_text=True)


def test_public_room_is_visible_to_a_non_member(client, scene):
    room = scene["a_public"]
    response = client.get(f"/api/rooms/{room['id']}", headers=scene["bob"].headers)
    assert response.status_code == 200
    assert response.json["id"] == room["id"]
    assert response.json["member_count"] == 1
    assert "last_read_seq" not in response.json and "unread_count" not in response.json


@pytest.mark.parametrize("kind", ["well-formed", "garbage"])
def test_unknown_room_is_404(client, scene, kind):
    unknown = uuid.uuid4().hex[:24] if kind == "well-formed" else "no-such-room"
    response = client.get(f"/api/rooms/{unknown}", headers=scene["alice"].headers)
    assert response.status_code == 404
    assert response.json["code"] == "not_found"


# -- join -------------------------------------------------------------------


def test_join_public_room(client, auth, api, room):
    owner, general = room
    bob = auth.user("bob")
    response = client.post(f"/api/rooms/{general['id']}/join", headers=bob.headers)
    assert response.status_code == 200
    assert set(response.json) == MEMBER_VIEW
    assert response.json["id"] == general["id"]
    assert response.json["member_count"] == 2
    assert response.json["owner_id"] == owner.id
    assert response.json["last_read_seq"] == 0
    assert roles(api.members(owner, general["id"])) == {owner.id: "owner", bob.id: "member"}
    assert ids(api.rooms(bob)) == {general["id"]}


def test_join_is_idempotent(client, auth, api, room):
    owner, general = room
    bob = auth.user("bob")
    api.join(bob, general["id"])
    again = client.post(f"/api/rooms/{general['id']}/join", json={}, headers=bob.headers)
    assert again.status_code == 200
    assert again.json["member_count"] == 2
    assert len(api.members(owner, general["id"])) == 2
    # the owner joining their own room changes nothing either
    assert api.join(owner, general["id"])["member_count"] == 2
    assert roles(api.members(owner, general["id"]))[owner.id] == "owner"


@pytest.mark.parametrize(
    "body",
    [{}, {"password": "wrong-pass"}, {"password": None}, {"password": ""}],
    ids=["missing", "wrong", "null", "empty"],
)
def test_join_password_room_with_a_wrong_or_missing_password_is_403(client, auth, api, body):
    alice = auth.user("alice")
    bob = auth.user("bob")
    locked = api.create_room(alice, "locked", password="s3cret-pass")
    response = client.post(f"/api/rooms/{locked['id']}/join", json=body, headers=bob.headers)
    assert response.status_code == 403
    assert response.json["code"] == "forbidden"
    assert response.json["message"]
    assert [m["id"] for m in api.members(alice, locked["id"])] == [alice.id]
    assert api.room(alice, locked["id"])["member_count"] == 1
    assert api.rooms(bob) == []


def test_join_password_room_with_the_password(auth, api):
    alice = auth.user("alice")
    bob = auth.user("bob")
    locked = api.create_room(alice, "locked", password="s3cret-pass")
    joined = api.join(bob, locked["id"], password="s3cret-pass")
    assert joined["member_count"] == 2
    assert roles(api.members(alice, locked["id"])) == {alice.id: "owner", bob.id: "member"}


def test_join_private_room_as_a_non_member_is_404(client, scene, api):
    private = scene["a_private"]
    response = client.post(f"/api/rooms/{private['id']}/join", headers=scene["bob"].headers)
    assert response.status_code == 404
    assert response.json["code"] == "not_found"
    assert [m["id"] for m in api.members(scene["alice"], private["id"])] == [scene["alice"].id]


def test_join_unknown_room_is_404(client, auth):
    bob = auth.user("bob")
    response = client.post(f"/api/rooms/{uuid.uuid4().hex[:24]}/join", headers=bob.headers)
    assert response.status_code == 404


# -- leave ------------------------------------------------------------------


def test_leave_room(client, auth, api, room):
    owner, general = room
    bob = auth.user("bob")
    api.join(bob, general["id"])
    response = client.post(f"/api/rooms/{general['id']}/leave", headers=bob.headers)
    assert response.status_code == 204
    assert response.data == b""
    assert [m["id"] for m in api.members(owner, general["id"])] == [owner.id]
    assert api.room(owner, general["id"])["member_count"] == 1
    assert api.rooms(bob) == []
    history = client.get(f"/api/rooms/{general['id']}/messages", headers=bob.headers)
    assert history.status_code == 403


def test_leave_a_room_you_are_not_in_is_refused(client, auth, api, room):
    owner, general = room
    bob = auth.user("bob")
    response = client.post(f"/api/rooms/{general['id']}/leave", headers=bob.headers)
    assert response.status_code == 403
    assert [m["id"] for m in api.members(owner, general["id"])] == [owner.id]


def test_owner_leaving_passes_ownership_to_the_next_member(client, auth, api, room):
    owner, general = room
    bob = auth.user("bob")
    carol = auth.user("carol")
    api.join(bob, general["id"])
    api.join(carol, general["id"])
    response = client.post(f"/api/rooms/{general['id']}/leave", headers=owner.headers)
    assert response.status_code == 204
    assert api.room(bob, general["id"])["owner_id"] == bob.id
    assert roles(api.members(carol, general["id"])) == {bob.id: "owner", carol.id: "member"}
    assert api.room(carol, general["id"])["member_count"] == 2


def test_last_member_leaving_leaves_the_room_ownerless_until_someone_joins(client, auth, api, room):
    owner, general = room
    bob = auth.user("bob")
    left = client.post(f"/api/rooms/{general['id']}/leave", headers=owner.headers)
    assert left.status_code == 204
    seen = api.room(bob, general["id"])
    assert seen["owner_id"] is None
    assert seen["member_count"] == 0
    joined = api.join(bob, general["id"])
    assert joined["owner_id"] == bob.id
    assert roles(api.members(bob, general["id"])) == {bob.id: "owner"}


# -- members ----------------------------------------------------------------


def test_members_lists_role_and_online(client, auth, api, room, sio):
    owner, general = room
    bob = auth.user("bob")
    api.join(bob, general["id"])
    sock = sio(bob.token)
    assert sock.is_connected("/chat")
    response = client.get(f"/api/rooms/{general['id']}/members", headers=owner.headers)
    assert response.status_code == 200
    members = response.json["members"]
    assert [m["id"] for m in members] == [owner.id, bob.id]
    for member in members:
        assert set(member) == {
            "id",
            "username",
            "display_name",
            "avatar_url",
            "online",
            "last_seen",
            "role",
            "joined_at",
        }
    assert [(m["username"], m["role"], m["online"]) for m in members] == [
        ("owner", "owner", False),
        ("bob", "member", True),
    ]
    sock.disconnect("/chat")
    assert [m["online"] for m in api.members(owner, general["id"])] == [False, False]


def test_members_of_a_public_room_you_are_not_in_is_403(client, auth, room):
    _, general = room
    bob = auth.user("bob")
    response = client.get(f"/api/rooms/{general['id']}/members", headers=bob.headers)
    assert response.status_code == 403
    assert response.json["code"] == "forbidden"
    assert "members" not in response.json


def test_members_of_a_private_room_you_are_not_in_is_404(client, scene):
    private = scene["a_private"]
    response = client.get(f"/api/rooms/{private['id']}/members", headers=scene["bob"].headers)
    assert response.status_code == 404
    assert "members" not in response.json
