"""For every route, the wrong user is refused, and the refusal changes nothing.

Anonymous callers get 401 everywhere but register, login and email verification. A
signed-in stranger gets 403 from member-only routes of a public room (they may see it
exists, and join it) and 404 from every route of a private room or of a direct
conversation of others (they may not know it exists). A plain member gets 403 for
deleting or editing somebody else's message and for every moderation route; an admin
gets 403 for what only the owner may do (delete the room, set roles, remove the owner).
Nobody but its owner may change or delete an account.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # with <room>, <message>, <user> (the owner) and <stranger> filled in
    body: dict[str, Any] | None = None


ROUTES = {
    # /api
    "logout": Route("POST", "/api/auth/logout"),
    "refresh-post": Route("POST", "/api/auth/refresh"),
    "refresh-get": Route("GET", "/api/auth/refresh"),
    "me": Route("GET", "/api/users/me"),
    "user": Route("GET", "/api/users/<user>"),
    # accounts (issue 6): the /me routes act on the caller, so only anonymity is refused;
    # the /<user> routes name the owner, whom nobody else may change
    "me-update": Route("PATCH", "/api/users/me", {"display_name": "intruder"}),
    "me-delete": Route("DELETE", "/api/users/me", {"password": "password123"}),
    "me-password": Route(
        "PUT", "/api/users/me/password", {"password": "password123", "new_password": "x" * 12}
    ),
    "users-search": Route("GET", "/api/users"),
    "user-put": Route("PUT", "/api/users/<user>", {"username": "intruder"}),
    "user-patch": Route("PATCH", "/api/users/<user>", {"display_name": "intruder"}),
    "user-delete": Route("DELETE", "/api/users/<user>", {"password": "password123"}),
    "rooms-list": Route("GET", "/api/rooms"),
    "rooms-create": Route("POST", "/api/rooms", {"name": "intruders"}),
    "room-get": Route("GET", "/api/rooms/<room>"),
    "room-join": Route("POST", "/api/rooms/<room>/join", {}),
    "room-leave": Route("POST", "/api/rooms/<room>/leave"),
    "room-members": Route("GET", "/api/rooms/<room>/members"),
    # moderation (issue 6)
    "room-update": Route("PATCH", "/api/rooms/<room>", {"description": "defaced"}),
    "room-delete": Route("DELETE", "/api/rooms/<room>"),
    "member-invite": Route("POST", "/api/rooms/<room>/members", {"user_id": "<stranger>"}),
    "member-remove": Route("DELETE", "/api/rooms/<room>/members/<user>"),
    "member-role": Route("PATCH", "/api/rooms/<room>/members/<user>", {"role": "member"}),
    "messages-list": Route("GET", "/api/rooms/<room>/messages"),
    "messages-post": Route("POST", "/api/rooms/<room>/messages", {"content": "intrusion"}),
    "message-get": Route("GET", "/api/rooms/<room>/messages/<message>"),
    "message-delete": Route("DELETE", "/api/rooms/<room>/messages/<message>"),
    "message-edit": Route("PATCH", "/api/rooms/<room>/messages/<message>", {"content": "x"}),
    "messages-search": Route("GET", "/api/rooms/<room>/messages/search?q=words"),
    "room-read": Route("POST", "/api/rooms/<room>/read", {"seq": 1}),
    "room-online": Route("GET", "/api/rooms/<room>/online"),
    "conversations-open": Route("POST", "/api/conversations", {"user_id": "<user>"}),
    "conversations-list": Route("GET", "/api/conversations"),
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
    "message-edit",
    "messages-search",
    "room-read",
    "room-online",
    "legacy-send_message",
    "legacy-delete_message",
    "legacy-get_messages",
]
MODERATION = ["room-update", "room-delete", "member-invite", "member-remove", "member-role"]
MEMBER_ONLY += MODERATION
ABOUT_A_ROOM = ["room-get", "room-join", "legacy-join_room", *MEMBER_ONLY]
OWNER_ONLY = ["room-delete", "member-remove", "member-role"]  # member-remove: of the owner
SOMEONE_ELSES_ACCOUNT = ["user-put", "user-patch", "user-delete"]

# (who, which room the placeholders name, route, expected status)
CASES = (
    [("anonymous", "public", name, 401) for name in ROUTES]
    + [("anonymous", "private", name, 401) for name in ABOUT_A_ROOM]
    + [("stranger", "public", name, 403) for name in MEMBER_ONLY]
    + [("stranger", "private", name, 404) for name in ABOUT_A_ROOM]
    + [
        ("member", "public", name, 403)
        for name in ("message-delete", "message-edit", "legacy-delete_message")
    ]
    + [("member", "public", name, 403) for name in MODERATION]
    + [("admin", "public", name, 403) for name in OWNER_ONLY]
    + [
        (who, "public", name, 403)
        for who in ("stranger", "member", "admin")
        for name in SOMEONE_ELSES_ACCOUNT
    ]
    + [("anonymous", "direct", name, 401) for name in ABOUT_A_ROOM]
    + [("stranger", "direct", name, 404) for name in ABOUT_A_ROOM]
    + [("member", "direct", name, 403) for name in ("message-delete", "message-edit")]
)


def case_id(case: tuple[str, str, str, int]) -> str:
    who, room, name, status = case
    return f"{who}-{room}-{name}-{status}"


@dataclass
class World:
    owner: Any
    member: Any
    stranger: Any
    admin: Any
    rooms: dict[str, str]
    messages: dict[str, dict[str, Any]]


@pytest.fixture
def world(auth, api) -> World:
    owner = auth.user("owner")
    member = auth.user("member")
    stranger = auth.user("stranger")
    admin = auth.user("admin")
    public = api.create_room(owner, "public-room")["id"]
    private = api.create_room(owner, "private-room", visibility="private")["id"]
    api.join(member, public)
    api.join(admin, public)
    api.set_role(owner, public, admin.id, "admin")
    opened = api.client.post(
        "/api/conversations", json={"user_id": member.id}, headers=owner.headers
    )
    assert opened.status_code == 201
    direct = opened.json["id"]
    return World(
        owner=owner,
        member=member,
        stranger=stranger,
        admin=admin,
        rooms={"public": public, "private": private, "direct": direct},
        messages={
            "public": api.post(owner, public, "public words"),
            "private": api.post(owner, private, "private words"),
            "direct": api.post(owner, direct, "direct words"),
        },
    )


def fill(value: Any, room_id: str, message_id: str, user_id: str, stranger_id: str = "") -> Any:
    if isinstance(value, str):
        return (
            value.replace("<room>", room_id)
            .replace("<message>", message_id)
            .replace("<user>", user_id)
            .replace("<stranger>", stranger_id)
        )
    if isinstance(value, dict):
        return {k: fill(v, room_id, message_id, user_id, stranger_id) for k, v in value.items()}
    return value


def snapshot(api, world: World) -> dict[str, Any]:
    """Everything a refused request could have changed, as the owner and others see it."""
    state: dict[str, Any] = {
        "owner-profile": api.client.get("/api/users/me", headers=world.owner.headers).json,
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
    path = fill(route.path, room_id, message["id"], world.owner.id, world.stranger.id)
    body = fill(route.body, room_id, message["id"], world.owner.id, world.stranger.id)
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
    assert "direct words" not in text
    if room_kind == "private" and status == 404:
        assert "private-room" not in text
    assert snapshot(api, world) == before


def test_every_route_is_covered(app):
    """Each route behind a token appears in the table, and the table in the app."""
    covered = {name for _, _, name, _ in CASES}
    assert covered == set(ROUTES)
    secured = {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
        if rule.rule.startswith("/api/") or rule.rule in LEGACY
    } - PUBLIC
    tabled = {(r.method, _rule(r.path)) for r in ROUTES.values()}
    assert secured == tabled


LEGACY = {
    "/create_room",
    "/join_room",
    "/send_message",
    "/delete_message",
    "/get_messages/<room_id>",
    "/get_rooms",
}
PUBLIC = {
    ("POST", "/api/auth/register"),
    ("POST", "/api/auth/login"),
    ("POST", "/api/auth/verify"),
    ("POST", "/api/auth/verify/resend"),
}


def _rule(path: str) -> str:
    """A table path as the app's URL rule names it (without its query string)."""
    return (
        path.split("?")[0]
        .replace(
            "/api/rooms/<room>/messages/<message>", "/api/rooms/<room_id>/messages/<message_id>"
        )
        .replace("/api/rooms/<room>/members/<user>", "/api/rooms/<room_id>/members/<user_id>")
        .replace("<room>", "<room_id>")
        .replace("/api/users/<user>", "/api/users/<user_id>")
    )


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
        "messages-search",
        "room-online",
        "conversations-list",
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


@pytest.mark.parametrize(
    "who, name, status",
    [
        ("admin", "room-update", 200),
        ("admin", "member-invite", 201),
        ("owner", "member-role", 409),  # the owner's own role: allowed to ask, not to do
    ],
)
def test_moderators_are_let_through(client, world, who, name, status):
    """Admins may do what the table refuses members, so those refusals are meaningful."""
    route = ROUTES[name]
    room_id = world.rooms["public"]
    message_id = world.messages["public"]["id"]
    path = fill(route.path, room_id, message_id, world.owner.id, world.stranger.id)
    body = fill(route.body, room_id, message_id, world.owner.id, world.stranger.id)
    response = client.open(
        path, method=route.method, json=body, headers=getattr(world, who).headers
    )
    assert response.status_code == status, response.json


def test_the_owner_of_an_account_is_let_through(client, world):
    owner = world.owner
    patched = client.patch(
        f"/api/users/{owner.id}", json={"display_name": "Me"}, headers=owner.headers
    )
    assert patched.status_code == 200 and patched.json["display_name"] == "Me"
    put = client.put(f"/api/users/{owner.id}", json={"username": "owner2"}, headers=owner.headers)
    assert put.status_code == 200 and put.json["display_name"] is None
    gone = client.delete(
        f"/api/users/{owner.id}", json={"password": "password123"}, headers=owner.headers
    )
    assert gone.status_code == 204
