"""Input found by probing the core that once got 500s or no answer at all: each is now a
clear JSON error (or a failed ack) that changes nothing."""

from __future__ import annotations

import json

import pytest

from tests.test_errors import assert_json_error

LONE = "\ud800"


def raw(client, method, path, text, headers=None):
    """Send `text` as the body exactly (json= would refuse to encode a lone surrogate)."""
    return client.open(
        path, method=method, data=text.encode(), content_type="application/json",
        headers=headers or {},
    )  # fmt: skip


def body_with(**fields):
    """JSON text with each value's lone surrogates kept as `\\ud800` escapes."""
    return json.dumps(fields)


@pytest.mark.parametrize(
    "path, fields",
    [
        ("/api/auth/login", {"username": LONE, "password": "x"}),
        ("/api/auth/login", {"username": "alice", "password": "pass" + LONE}),
        ("/api/auth/register", {"username": "alice", "password": LONE * 8}),
        ("/api/auth/register", {"username": "al" + LONE, "password": "password123"}),
        ("/login", {"username": LONE, "password": "x"}),
        ("/register", {"username": "bob", "password": "password123", "display_name": LONE}),
    ],
)
def test_a_lone_surrogate_in_an_account_field_is_422_naming_it(client, path, fields):
    response = raw(client, "POST", path, body_with(**fields))
    assert_json_error(response, 422, "invalid")
    named = {key for key, value in fields.items() if LONE in value}
    assert named <= set(response.json["errors"])


def test_a_lone_surrogate_in_room_and_message_fields_is_422_and_stores_nothing(client, api, room):
    owner, general = room
    room_id = general["id"]
    posts = f"/api/rooms/{room_id}/messages"
    cases = [
        ("POST", "/api/rooms", {"name": "x" + LONE}, "name"),
        ("POST", "/api/rooms", {"name": "ok", "password": LONE}, "password"),
        ("POST", f"/api/rooms/{room_id}/messages", {"content": LONE}, "content"),
        ("POST", posts, {"content": "hi", "client_id": LONE}, "client_id"),
        ("POST", posts, {"content": "hi", "reply_to": LONE}, "reply_to"),
        ("POST", "/send_message", {"roomID": room_id, "message": "a" + LONE}, "message"),
        ("POST", "/send_message", {"roomID": LONE, "message": "hi"}, "roomID"),
        ("POST", "/create_room", {"roomname": LONE}, "roomname"),
        ("POST", f"/api/rooms/{room_id}/join", {"password": LONE}, "password"),
    ]  # fmt: skip
    for method, path, fields, field in cases:
        response = raw(client, method, path, body_with(**fields), owner.headers)
        assert_json_error(response, 422, "invalid")
        assert field in response.json["errors"], (path, response.json)
    assert api.history(owner, room_id)["messages"] == []
    assert [r["name"] for r in api.rooms(owner, "all")] == ["general"]


def test_a_lone_surrogate_as_a_field_name_is_422(client):
    response = raw(client, "POST", "/api/auth/login", '{"\\ud800": 1, "password": "x"}')
    assert_json_error(response, 422, "invalid")


DEEP = "[" * 3000 + "]" * 3000


@pytest.mark.parametrize(
    "method, path",
    [
        ("POST", "/api/auth/register"),
        ("POST", "/api/auth/login"),
        ("POST", "/api/rooms"),
        ("POST", "/login"),
        ("POST", "/create_room"),
        ("POST", "/api/auth/logout"),
    ],
)
def test_deeply_nested_json_is_400(client, auth, method, path):
    alice = auth.user("alice")
    response = raw(client, method, path, DEEP, alice.headers)
    assert_json_error(response, 400, "bad_request")
    deep_object = '{"a":' * 3000 + "1" + "}" * 3000
    assert_json_error(raw(client, method, path, deep_object, alice.headers), 400, "bad_request")


def test_deeply_nested_json_in_a_message_post_stores_nothing(client, api, room):
    owner, general = room
    path = f"/api/rooms/{general['id']}/messages"
    assert_json_error(raw(client, "POST", path, DEEP, owner.headers), 400, "bad_request")
    assert api.history(owner, general["id"])["messages"] == []


@pytest.mark.parametrize("path", ["/api/rooms//messages", "//api/rooms", "/api//users/me"])
def test_double_slashes_are_a_json_404_not_a_redirect(client, auth, path):
    alice = auth.user("alice")
    assert_json_error(client.get(path, headers=alice.headers), 404, "not_found")


def test_a_json_body_that_is_not_an_object_is_400(client, auth):
    alice = auth.user("alice")
    for text in ("[]", '"text"', "3", "null"):
        response = raw(client, "POST", "/api/rooms", text, alice.headers)
        assert_json_error(response, 400, "bad_request")


def test_body_that_is_not_utf8_is_400(client, auth):
    alice = auth.user("alice")
    response = client.post(
        "/api/rooms", data=b'{"name": "\xff\xfe"}', content_type="application/json",
        headers=alice.headers,
    )  # fmt: skip
    assert_json_error(response, 400, "bad_request")


def test_an_unknown_query_parameter_is_422_naming_it(client, room):
    owner, general = room
    response = client.get(f"/api/rooms/{general['id']}/messages?limt=5", headers=owner.headers)
    assert_json_error(response, 422, "invalid")
    assert set(response.json["errors"]) == {"limt"}
