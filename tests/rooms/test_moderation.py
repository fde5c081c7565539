"""Room moderation over REST and its events: settings, deletion, invites, removals, roles.

The refusals of the wrong user for every one of these routes are in
tests/test_authorization.py; here each rule is proven, with what it must not change.
"""

from __future__ import annotations

import pytest

NS = "/chat"


def call(sock, event, data):
    return sock.emit(event, data, namespace=NS, callback=True)


def events(sock, name=None):
    got = [(e["name"], e["args"][0] if e["args"] else None) for e in sock.get_received(NS)]
    return [payload for n, payload in got if n == name] if name else got


def roles(members):
    return {member["id"]: member["role"] for member in members}


@pytest.fixture
def team(auth, api, room):
    """'general' with its owner, an admin (ann) and two members (bob, cat)."""
    owner, general = room
    ann, bob, cat = auth.user("ann"), auth.user("bob"), auth.user("cat")
    for user in (ann, bob, cat):
        api.join(user, general["id"])
    api.set_role(owner, general["id"], ann.id, "admin")
    return owner, ann, bob, cat, general["id"]


def patch_room(client, who, room_id, **body):
    return client.patch(f"/api/rooms/{room_id}", json=body, headers=who.headers)


def remove(client, who, room_id, user_id):
    return client.delete(f"/api/rooms/{room_id}/members/{user_id}", headers=who.headers)


def invite(client, who, room_id, user_id):
    return client.post(
        f"/api/rooms/{room_id}/members", json={"user_id": user_id}, headers=who.headers
    )


def set_role(client, who, room_id, user_id, role):
    return client.patch(
        f"/api/rooms/{room_id}/members/{user_id}", json={"role": role}, headers=who.headers
    )


# -- PATCH /api/rooms/<id> ----------------------------------------------------------


@pytest.mark.parametrize("who", ["owner", "admin"])
def test_owners_and_admins_change_the_settings(client, api, team, who):
    owner, ann, bob, cat, room_id = team
    actor = owner if who == "owner" else ann
    response = patch_room(
        client, actor, room_id, name=" Lobby ", description="new", visibility="private"
    )
    assert response.status_code == 200, response.json
    assert (response.json["name"], response.json["description"]) == ("Lobby", "new")
    assert response.json["visibility"] == "private"
    assert response.json["owner_id"] == owner.id
    assert api.room(bob, room_id)["name"] == "Lobby"


def test_only_the_fields_given_change(client, api, team):
    owner, ann, bob, cat, room_id = team
    before = api.room(owner, room_id)
    after = patch_room(client, owner, room_id, description="only this").json
    assert {k: v for k, v in after.items() if k != "description"} == {
        k: v for k, v in before.items() if k != "description"
    }
    assert patch_room(client, owner, room_id).json == after  # an empty patch changes nothing


def test_a_password_is_set_changed_and_removed(client, auth, api, team):
    owner, ann, bob, cat, room_id = team
    dan = auth.user("dan")
    assert patch_room(client, owner, room_id, password="first-pass").json["has_password"] is True
    assert (
        client.post(f"/api/rooms/{room_id}/join", json={}, headers=dan.headers).status_code == 403
    )
    assert patch_room(client, ann, room_id, password="second-pass").status_code == 200
    wrong = client.post(
        f"/api/rooms/{room_id}/join", json={"password": "first-pass"}, headers=dan.headers
    )
    assert wrong.status_code == 403
    assert patch_room(client, owner, room_id, password=None).json["has_password"] is False
    assert api.join(dan, room_id)["member_count"] == 5


def test_a_room_made_private_vanishes_for_outsiders(client, auth, api, team):
    owner, ann, bob, cat, room_id = team
    dan = auth.user("dan")
    assert client.get(f"/api/rooms/{room_id}", headers=dan.headers).status_code == 200
    patch_room(client, owner, room_id, visibility="private")
    assert client.get(f"/api/rooms/{room_id}", headers=dan.headers).status_code == 404
    assert room_id not in {r["id"] for r in api.rooms(dan, "public")}
    assert api.room(bob, room_id)["visibility"] == "private"  # members still see it


@pytest.mark.parametrize("name", ["taken", "TAKEN"])
def test_a_taken_name_is_409_and_changes_nothing(client, api, team, name):
    owner, ann, bob, cat, room_id = team
    api.create_room(bob, "taken")
    response = patch_room(client, owner, room_id, name=name, description="not this either")
    assert response.status_code == 409
    assert "name" in response.json["errors"]
    assert api.room(owner, room_id)["name"] == "general"
    assert api.room(owner, room_id)["description"] == ""


@pytest.mark.parametrize(
    "body, field",
    [
        ({"name": ""}, "name"),
        ({"name": None}, "name"),
        ({"visibility": "secret"}, "visibility"),
        ({"password": ""}, "password"),
        ({"owner_id": "x"}, "owner_id"),
        ({"description": "x" * 501}, "description"),
    ],
)
def test_invalid_settings_are_422(client, api, team, body, field):
    owner, ann, bob, cat, room_id = team
    before = api.room(owner, room_id)
    response = patch_room(client, owner, room_id, **body)
    assert response.status_code == 422
    assert field in response.json["errors"]
    assert api.room(owner, room_id) == before


def test_a_member_may_not_change_the_settings(client, api, team):
    owner, ann, bob, cat, room_id = team
    response = patch_room(client, bob, room_id, name="mine")
    assert response.status_code == 403
    assert api.room(owner, room_id)["name"] == "general"


def test_room_updated_reaches_the_watchers(client, sio, team):
    owner, ann, bob, cat, room_id = team
    sock = sio(bob.token)
    call(sock, "join", {"room_id": room_id})
    events(sock)
    patch_room(client, ann, room_id, description="news")
    [updated] = events(sock, "room_updated")
    assert updated["room_id"] == room_id
    assert updated["room"]["description"] == "news"
    assert "last_read_seq" not in updated["room"] and "unread_count" not in updated["room"]


def test_room_updated_and_deleted_reach_members_not_watching_and_no_outsider(
    client, auth, sio, team
):
    """A connected member's client lists the room even when it shows another: the news
    reaches their sockets too, once each; a stranger's socket hears nothing."""
    owner, ann, bob, cat, room_id = team
    idle, watching = sio(cat.token), sio(bob.token)
    call(watching, "join", {"room_id": room_id})
    stranger = sio(auth.user("zed").token)
    for sock in (idle, watching, stranger):
        events(sock)
    patch_room(client, ann, room_id, name="renamed")
    assert [e["room"]["name"] for e in events(idle, "room_updated")] == ["renamed"]
    assert [e["room"]["name"] for e in events(watching, "room_updated")] == ["renamed"]
    assert client.delete(f"/api/rooms/{room_id}", headers=owner.headers).status_code == 204
    assert events(idle, "room_deleted") == [{"room_id": room_id}]
    assert events(watching, "room_deleted") == [{"room_id": room_id}]
    assert events(stranger) == []


# -- DELETE /api/rooms/<id> ---------------------------------------------------------


def test_the_owner_deletes_the_room_and_its_history(client, api, sio, team):
    owner, ann, bob, cat, room_id = team
    api.post(bob, room_id, "soon gone")
    sock = sio(bob.token)
    call(sock, "join", {"room_id": room_id})
    events(sock)
    response = client.delete(f"/api/rooms/{room_id}", headers=owner.headers)
    assert response.status_code == 204
    assert events(sock, "room_deleted") == [{"room_id": room_id}]
    for who in (owner, bob):
        assert client.get(f"/api/rooms/{room_id}", headers=who.headers).status_code == 404
        assert room_id not in {r["id"] for r in api.rooms(who, "all")}
    gone = client.get(f"/api/rooms/{room_id}/messages", headers=bob.headers)
    assert gone.status_code == 404
    assert api.create_room(bob, "general")["name"] == "general"  # the name is free
    ack = call(sock, "message", {"room_id": room_id, "content": "anyone?"})
    assert ack["ok"] is False and ack["error"]["code"] == "not_found"


def test_an_admin_may_not_delete_the_room(client, api, team):
    owner, ann, bob, cat, room_id = team
    api.post(bob, room_id, "kept")
    assert client.delete(f"/api/rooms/{room_id}", headers=ann.headers).status_code == 403
    assert [m["content"] for m in api.history(owner, room_id)["messages"]] == ["kept"]


# -- invites ----------------------------------------------------------------------


def test_an_invite_is_the_way_into_a_private_room(client, auth, api, sio):
    alice = auth.user("alice")
    dan = auth.user("dan")
    private = api.create_room(alice, "hidden", visibility="private")["id"]
    dan_sock = sio(dan.token)
    response = invite(client, alice, private, dan.id)
    assert response.status_code == 201
    assert (response.json["id"], response.json["role"]) == (dan.id, "member")
    assert "email" not in response.json
    assert api.room(dan, private)["member_count"] == 2
    [joined] = events(dan_sock, "user_joined")  # the invitee hears of the room
    assert joined["room_id"] == private and joined["user"]["id"] == dan.id
    again = invite(client, alice, private, dan.id)
    assert again.status_code == 200
    assert api.room(alice, private)["member_count"] == 2


def test_an_admin_invites_a_plain_member_may_not(client, auth, api, team):
    owner, ann, bob, cat, room_id = team
    dan, eve = auth.user("dan"), auth.user("eve")
    assert invite(client, ann, room_id, dan.id).status_code == 201
    assert invite(client, bob, room_id, eve.id).status_code == 403
    assert eve.id not in roles(api.members(owner, room_id))


@pytest.mark.parametrize("kind", ["unknown", "deleted"])
def test_inviting_nobody_is_404(client, auth, api, team, kind):
    owner, ann, bob, cat, room_id = team
    if kind == "deleted":
        dan = auth.user("dan")
        client.delete("/api/users/me", json={"password": "password123"}, headers=dan.headers)
        target = dan.id
    else:
        target = "0" * 24
    response = invite(client, owner, room_id, target)
    assert response.status_code == 404
    assert len(api.members(owner, room_id)) == 4


# -- removals ---------------------------------------------------------------------


def test_an_admin_removes_a_member_who_may_not_rejoin_until_invited(client, api, sio, team):
    owner, ann, bob, cat, room_id = team
    assert remove(client, ann, room_id, bob.id).status_code == 204
    assert bob.id not in roles(api.members(owner, room_id))
    rejoin = client.post(f"/api/rooms/{room_id}/join", headers=bob.headers)
    assert rejoin.status_code == 403
    assert "invite" in rejoin.json["message"]
    ack = call(sio(bob.token), "join", {"room_id": room_id})
    assert ack["ok"] is False and ack["error"]["code"] == "forbidden"
    assert (
        client.post("/join_room", json={"roomID": room_id}, headers=bob.headers).status_code == 403
    )
    assert bob.id not in roles(api.members(owner, room_id))
    # An invite lifts the ban.
    assert invite(client, ann, room_id, bob.id).status_code == 201
    api.join(bob, room_id)  # already a member: fine
    assert roles(api.members(owner, room_id))[bob.id] == "member"


def test_leaving_is_not_a_ban(client, api, team):
    owner, ann, bob, cat, room_id = team
    assert client.post(f"/api/rooms/{room_id}/leave", headers=bob.headers).status_code == 204
    assert api.join(bob, room_id)["id"] == room_id


def test_nobody_removes_the_owner_an_equal_or_themselves(client, api, auth, team):
    owner, ann, bob, cat, room_id = team
    ben = auth.user("ben")
    api.join(ben, room_id)
    api.set_role(owner, room_id, ben.id, "admin")
    before = roles(api.members(owner, room_id))
    for actor, target in ((ann, owner), (ann, ben), (ann, ann), (bob, cat), (owner, owner)):
        response = remove(client, actor, room_id, target.id)
        assert response.status_code == 403, (actor.username, target.username)
    assert roles(api.members(owner, room_id)) == before


def test_the_owner_removes_an_admin(client, api, team):
    owner, ann, bob, cat, room_id = team
    assert remove(client, owner, room_id, ann.id).status_code == 204
    assert ann.id not in roles(api.members(owner, room_id))


def test_removing_a_non_member_is_404(client, auth, api, team):
    owner, ann, bob, cat, room_id = team
    dan = auth.user("dan")
    assert remove(client, owner, room_id, dan.id).status_code == 404
    assert api.join(dan, room_id)["id"] == room_id  # and no ban came of it


def test_member_removed_reaches_the_room_and_the_removed(client, api, sio, team):
    owner, ann, bob, cat, room_id = team
    bob_sock, cat_sock = sio(bob.token), sio(cat.token)
    for sock in (bob_sock, cat_sock):
        call(sock, "join", {"room_id": room_id})
        events(sock)
    remove(client, ann, room_id, bob.id)
    for sock in (bob_sock, cat_sock):
        [removed] = events(sock, "member_removed")  # once each, room and user channel both
        assert removed["room_id"] == room_id and removed["user"]["id"] == bob.id
        assert "email" not in removed["user"]
    posted = api.post(owner, room_id, "after bob")
    assert events(bob_sock, "new_message") == []
    assert events(cat_sock, "new_message") == [posted]
    ack = call(bob_sock, "online", {"room_id": room_id})
    assert ack["ok"] is False
    assert bob.id not in {u["id"] for u in call(cat_sock, "online", {"room_id": room_id})["users"]}


# -- roles ------------------------------------------------------------------------


def test_the_owner_makes_admins_and_members(client, api, team):
    owner, ann, bob, cat, room_id = team
    response = set_role(client, owner, room_id, bob.id, "admin")
    assert response.status_code == 200
    assert (response.json["id"], response.json["role"]) == (bob.id, "admin")
    assert set_role(client, owner, room_id, ann.id, "member").json["role"] == "member"
    assert roles(api.members(owner, room_id)) == {
        owner.id: "owner",
        ann.id: "member",
        bob.id: "admin",
        cat.id: "member",
    }


def test_member_updated_reaches_the_room_and_the_member(client, auth, sio, team):
    owner, ann, bob, cat, room_id = team
    bobs, watcher = sio(bob.token), sio(ann.token)
    call(watcher, "join", {"room_id": room_id})
    stranger = sio(auth.user("zed").token)
    for sock in (bobs, watcher, stranger):
        events(sock)
    assert set_role(client, owner, room_id, bob.id, "admin").status_code == 200
    for sock in (bobs, watcher):
        [update] = events(sock, "member_updated")
        assert update["room_id"] == room_id and update["role"] == "admin"
        assert update["user"]["id"] == bob.id and "email" not in update["user"]
    assert events(stranger) == []
    refused = set_role(client, ann, room_id, cat.id, "admin")
    assert refused.status_code == 403
    assert events(bobs, "member_updated") == [] and events(watcher, "member_updated") == []


def test_ownership_is_handed_over_in_one_step(client, api, sio, team):
    owner, ann, bob, cat, room_id = team
    sock = sio(cat.token)
    call(sock, "join", {"room_id": room_id})
    events(sock)
    response = set_role(client, owner, room_id, bob.id, "owner")
    assert response.status_code == 200 and response.json["role"] == "owner"
    assert api.room(cat, room_id)["owner_id"] == bob.id
    assert roles(api.members(cat, room_id))[owner.id] == "admin"
    assert [
        owner_ for owner_, role in roles(api.members(cat, room_id)).items() if role == "owner"
    ] == [bob.id]
    [updated] = events(sock, "room_updated")
    assert updated["room"]["owner_id"] == bob.id
    # The former owner is an admin now: no longer allowed what only owners are.
    assert set_role(client, owner, room_id, cat.id, "admin").status_code == 403
    assert client.delete(f"/api/rooms/{room_id}", headers=owner.headers).status_code == 403


@pytest.mark.parametrize("role", ["member", "admin", "owner"])
def test_the_owner_cannot_change_their_own_role(client, api, team, role):
    owner, ann, bob, cat, room_id = team
    response = set_role(client, owner, room_id, owner.id, role)
    assert response.status_code == 409
    assert api.room(owner, room_id)["owner_id"] == owner.id


def test_an_admin_may_not_set_roles(client, api, team):
    owner, ann, bob, cat, room_id = team
    assert set_role(client, ann, room_id, bob.id, "admin").status_code == 403
    assert set_role(client, ann, room_id, ann.id, "owner").status_code == 403
    assert roles(api.members(owner, room_id))[bob.id] == "member"


def test_a_role_for_a_non_member_is_404_and_a_bad_role_422(client, auth, api, team):
    owner, ann, bob, cat, room_id = team
    dan = auth.user("dan")
    assert set_role(client, owner, room_id, dan.id, "admin").status_code == 404
    bad = set_role(client, owner, room_id, bob.id, "king")
    assert bad.status_code == 422 and "role" in bad.json["errors"]


# -- direct conversations have no moderation --------------------------------------


def test_a_direct_room_has_no_settings_invites_or_roles(app, client, auth, api):
    alice, bob, cat = auth.user("alice"), auth.user("bob"), auth.user("cat")
    store = app.extensions["chat"].store
    direct = store.create_room(
        name=None, kind="direct", visibility="private", owner_id=alice.id, direct_key="a:b"
    )
    store.add_member(direct.id, bob.id)
    for response in (
        patch_room(client, alice, direct.id, description="x"),
        invite(client, alice, direct.id, cat.id),
        remove(client, alice, direct.id, bob.id),
        set_role(client, alice, direct.id, bob.id, "admin"),
        client.delete(f"/api/rooms/{direct.id}", headers=alice.headers),
    ):
        assert response.status_code == 409, response.json
    assert roles(api.members(alice, direct.id)) == {alice.id: "owner", bob.id: "member"}
