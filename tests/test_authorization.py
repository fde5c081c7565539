"""For every route, the wrong user is refused, and the refusal changes nothing.

Anonymous callers get 401 everywhere but register and login. A signed-in stranger gets
403 from member-only routes of a public room (they may see it exists, and join it) and
404 from every route of a private room (they may not know it exists). A plain member
gets 403 for deleting somebody else's message.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # with <room>, <message> and <user> filled in per case
    body: dict[str, Any] | None = None


ROUTES = {
    # /api
    "logout": Route("POST", "/api/auth/logout"),
    "refresh-post": Route("POST", "/api/auth/refresh"),
    "refresh-get": Route("GET", "/api/auth/refresh"),
    "me": Route("GET", "/api/users/me"),
    "user": Route("GET", "/api/users/<user>"),
    "rooms-list": Route("GET", "/api/rooms"),
    "rooms-create": Route("POST", "/api/rooms", {"name": "intruders"}),
    "room-get": Route("GET", "/api/rooms/<room>"),
    "room-join": Route("POST", "/api/rooms/<room>/join", {}),
    "room-leave": Route("POST", "/api/rooms/<room>/leave"),
    "room-members": Route("GET", "/api/rooms/<room>/members"),
    "messages-list": Route("GET", "/api/rooms/<room>/messages"),
    "messages-post": Route("POST", "/api/rooms/<room>/messages", {"content": "intrusion"}),
    "message-get": Route("GET", "/api/rooms/<room>/messages/<message>"),
    "message-delete": Route("DELETE", "/api/rooms/<room>/messages/<message>"),
    # the eight original routes (register and login take no token)
    "legacy-create_room": Route("POST", "/create_room", {"roomname": "intruders"}),
    "legacy-join_room": Route("POST", "/join_room", {"roomID": "<room>"}),
    "legacy-send_message": Route(
        "POST", "/send_message", {"roomID": "<room>", "message": "intrusion"}
    ),
    "legacy-delete_message": Route(
        "POST", "/delete_message", {"roomID": "<room>", "messageID": "<message>"}
    ),
    "legacy-get_messages": Route("GET", "/get_messages/<room>"),
    "legacy-get_rooms": Route("GET", "/get_rooms"),
}

MEMBER_ONLY = [
    "room-leave",
    "room-members",
    "messages-list",
    "messages-post",
    "message-get",
    "message-delete",
    "legacy-send_message",
    "legacy-delete_message",
    "legacy-get_messages",
]
ABOUT_A_ROOM = ["room-get", "room-join", "legacy-join_room", *MEMBER_ONLY]

# (who, which room the placeholders name, route, expected status)
CASES = (
    [("anonymous", "public", name, 401) for name in ROUTES]
    + [("anonymous", "private", name, 401) for name in ABOUT_A_ROOM]
    + [("stranger", "public", name, 403) for name in MEMBER_ONLY]
    + [("stranger", "private", name, 404) for name in ABOUT_A_ROOM]
    + [("member", "public", name, 403) for name in ("message-delete", "legacy-delete_message")]
)


def case_id(case: tuple[str, str, str, int]) -> str:
    who, room, name, status = case
    return f"{who}-{room}-{name}-{status}"


@dataclass
class World:
    owner: Any
    member: Any
    stranger: Any
    rooms: dict[str, str]
    messages: dict[str, dict[str, Any]]


@pytest.fixture
def world(auth, api) -> World:
    owner = auth.user("owner")
    member = auth.user("member")
    stranger = auth.user("stranger")
    public = api.create_room(owner, "public-room")["id"]
    private = api.create_room(owner, "private-room", visibility="private")["id"]
    api.join(member, public)
    return World(
        owner=owner,
        member=member,
        stranger=stranger,
        rooms={"public": public, "private": private},
        messages={
            "public": api.post(owner, public, "public words"),
            "private": api.post(owner, private, "private words"),
        },
    )


def fill(value: Any, room_id: str, message_id: str, user_id: str) -> Any:
    if isinstance(value, str):
        return (
            value.replace("<room>", room_id)
            .replace("<message>", message_id)
            .replace("<user>", user_id)
        )
    if isinstance(value, dict):
        return {k: fill(v, room_id, message_id, user_id) for k, v in value.items()}
    return value


def snapshot(api, world: World) -> dict[str, Any]:
    """Everything a refused request could have changed, as the owner and others see it."""
    state: dict[str, Any] = {
        "owner-rooms": api.rooms(world.owner, "all"),
        "member-rooms": api.rooms(world.member, "all"),
        "stranger-rooms": api.rooms(world.stranger, "all"),
    }
    for kind, room_id in world.rooms.items():
        state[f"{kind}-room"] = api.room(world.owner, room_id)
        state[f"{kind}-members"] = api.members(world.owner, room_id)
        state[f"{kind}-history"] = api.history(world.owner, room_id)
    return state


@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
def test_the_wrong_user_is_refused(client, api, world, case):
    who, room_kind, name, status = case
    route = ROUTES[name]
    room_id = world.rooms[room_kind]
    message = world.messages[room_kind]
    path = fill(route.path, room_id, message["id"], world.owner.id)
    body = fill(route.body, room_id, message["id"], world.owner.id)
    headers = {} if who == "anonymous" else getattr(world, who).headers
    before = snapshot(api, world)

    response = client.open(path, method=route.method, json=body, headers=headers)

    assert response.status_code == status, response.json
    assert response.is_json
    assert response.json["message"]
    assert (
        response.json["code"] == {401: "unauthorized", 403: "forbidden", 404: "not_found"}[status]
    )
    text = response.get_data(as_text=True)
    assert "public words" not in text and "private words" not in text
    if room_kind == "private" and status == 404:
        assert "private-room" not in text
    assert snapshot(api, world) == before


def test_every_route_is_covered():
    """Each /api and original route of issue 2 appears in the table at least once."""
    covered = {name for _, _, name, _ in CASES}
    assert covered == set(ROUTES)


@pytest.mark.parametrize("who", ["owner", "member"])
def test_the_right_users_are_let_through(client, world, who):
    """The same requests succeed for those allowed, so the refusals above are meaningful."""
    user = getattr(world, who)
    room_id = world.rooms["public"]
    message = world.messages["public"]
    for name in (
        "room-get",
        "room-members",
        "messages-list",
        "message-get",
        "legacy-get_messages",
        "legacy-get_rooms",
        "rooms-list",
        "me",
        "user",
    ):
        route = ROUTES[name]
        path = fill(route.path, room_id, message["id"], world.owner.id)
        response = client.open(path, method=route.method, headers=user.headers)
        assert response.status_code == 200, (name, response.json)
