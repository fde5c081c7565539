"""PUT /api/users/me/password and DELETE /api/users/me (or /api/users/<your id>)."""

from __future__ import annotations

import pytest

NS = "/chat"
PASSWORD = "password123"


def call(sock, event, data):
    return sock.emit(event, data, namespace=NS, callback=True)


def events(sock, name):
    return [e["args"][0] for e in sock.get_received(NS) if e["name"] == name]


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def change_password(client, who, old=PASSWORD, new="a-new-password"):
    return client.put(
        "/api/users/me/password",
        json={"password": old, "new_password": new},
        headers=who.headers,
    )


def delete_me(client, who, password=PASSWORD):
    return client.delete("/api/users/me", json={"password": password}, headers=who.headers)


# -- password ---------------------------------------------------------------------


def test_a_password_change_ends_every_session_and_keeps_the_caller_signed_in(client, auth, sio):
    alice = auth.user("alice")
    elsewhere = auth.login("alice")
    sock = sio(elsewhere.token)
    own_sock = sio(alice.token)
    response = change_password(client, alice)
    assert response.status_code == 200
    body = response.json
    assert set(body) == {"access_token", "refresh_token", "token_type", "expires_in", "user"}
    assert body["user"]["id"] == alice.id
    for old in (alice, elsewhere):
        assert client.get("/api/users/me", headers=old.headers).status_code == 401
        refreshed = client.post("/api/auth/refresh", headers=bearer(old.refresh_token))
        assert refreshed.status_code == 401
    assert not sock.is_connected(NS) and not own_sock.is_connected(NS)
    assert client.get("/api/users/me", headers=bearer(body["access_token"])).status_code == 200
    refreshed = client.post("/api/auth/refresh", headers=bearer(body["refresh_token"]))
    assert refreshed.status_code == 200
    assert sio(body["access_token"]).is_connected(NS)
    assert (
        client.post(
            "/api/auth/login", json={"username": "alice", "password": "a-new-password"}
        ).status_code
        == 200
    )
    assert (
        client.post("/api/auth/login", json={"username": "alice", "password": PASSWORD}).status_code
        == 401
    )


def test_a_wrong_current_password_is_403_and_changes_nothing(client, auth, sio):
    alice = auth.user("alice")
    sock = sio(alice.token)
    response = change_password(client, alice, old="not-my-password")
    assert response.status_code == 403
    assert response.json["code"] == "forbidden"
    assert client.get("/api/users/me", headers=alice.headers).status_code == 200
    assert sock.is_connected(NS)
    assert auth.login("alice").id == alice.id


@pytest.mark.parametrize(
    "body, field",
    [
        ({"password": PASSWORD, "new_password": "short"}, "new_password"),
        ({"password": PASSWORD}, "new_password"),
        ({"new_password": "long-enough"}, "password"),
    ],
)
def test_password_change_input_is_checked(client, auth, body, field):
    alice = auth.user("alice")
    response = client.put("/api/users/me/password", json=body, headers=alice.headers)
    assert response.status_code == 422
    assert field in response.json["errors"]
    assert auth.login("alice").id == alice.id


def test_another_users_sessions_survive_a_password_change(client, auth, sio):
    alice, bob = auth.user("alice"), auth.user("bob")
    sock = sio(bob.token)
    change_password(client, alice)
    assert client.get("/api/users/me", headers=bob.headers).status_code == 200
    assert sock.is_connected(NS)


# -- deletion ---------------------------------------------------------------------


def test_deletion_signs_out_everywhere_and_frees_the_name_and_email(client, auth, sio):
    alice = auth.user("alice", email="alice@example.com", display_name="Alice")
    other = auth.login("alice")
    sock = sio(other.token)
    bob = auth.user("bob")
    assert delete_me(client, alice).status_code == 204
    for old in (alice, other):
        assert client.get("/api/users/me", headers=old.headers).status_code == 401
        assert (
            client.post("/api/auth/refresh", headers=bearer(old.refresh_token)).status_code == 401
        )
    assert not sock.is_connected(NS)
    assert not sio(other.token).is_connected(NS)
    refused = client.post("/api/auth/login", json={"username": "alice", "password": PASSWORD})
    assert refused.status_code == 401
    assert client.get(f"/api/users/{alice.id}", headers=bob.headers).status_code == 404
    again = auth.user("alice", email="alice@example.com")
    assert again.id != alice.id


def test_messages_stay_under_a_deleted_account(client, auth, api, room):
    owner, general = room
    alice = auth.user("alice", display_name="Alice")
    api.join(alice, general["id"])
    posted = api.post(alice, general["id"], "I was here")
    delete_me(client, alice)
    [kept] = api.history(owner, general["id"])["messages"]
    assert (kept["id"], kept["content"]) == (posted["id"], "I was here")
    assert kept["author"] == {
        "id": alice.id,
        "username": "deleted",
        "display_name": "Deleted account",
    }
    assert alice.id not in {m["id"] for m in api.members(owner, general["id"])}


def test_deletion_passes_owned_rooms_on(client, auth, api, sio):
    alice, bob, cat, dan = (auth.user(n) for n in ("alice", "bob", "cat", "dan"))
    with_admin = api.create_room(alice, "with-admin")["id"]
    with_member = api.create_room(alice, "with-member")["id"]
    alone = api.create_room(alice, "alone")["id"]
    for user in (bob, cat):
        api.join(user, with_admin)
    api.set_role(alice, with_admin, cat.id, "admin")
    api.join(dan, with_member)
    watcher = sio(bob.token)
    call(watcher, "join", {"room_id": with_admin})
    watcher.get_received(NS)

    assert delete_me(client, alice).status_code == 204

    assert api.room(bob, with_admin)["owner_id"] == cat.id  # the admin, though bob came first
    assert api.room(dan, with_member)["owner_id"] == dan.id
    assert {m["id"]: m["role"] for m in api.members(dan, with_member)} == {dan.id: "owner"}
    ownerless = api.room(bob, alone)
    assert (ownerless["owner_id"], ownerless["member_count"]) == (None, 0)
    assert api.join(bob, alone)["owner_id"] == bob.id  # adopted by the next to join
    got = watcher.get_received(NS)
    assert [e["name"] for e in got] == ["user_left", "room_updated"]
    assert got[0]["args"][0]["user"]["id"] == alice.id
    assert got[1]["args"][0]["room"]["owner_id"] == cat.id


def test_a_wrong_password_deletes_nothing(client, auth, api, room):
    owner, general = room
    response = delete_me(client, owner, password="wrong-password")
    assert response.status_code == 403
    assert client.get("/api/users/me", headers=owner.headers).status_code == 200
    assert api.room(owner, general["id"])["owner_id"] == owner.id


def test_deleting_someone_else_is_403_even_with_their_password(client, auth, api):
    alice, bob = auth.user("alice"), auth.user("bob")
    response = client.delete(
        f"/api/users/{bob.id}", json={"password": PASSWORD}, headers=alice.headers
    )
    assert response.status_code == 403
    assert client.get("/api/users/me", headers=bob.headers).status_code == 200
    mine = client.delete(
        f"/api/users/{alice.id}", json={"password": PASSWORD}, headers=alice.headers
    )
    assert mine.status_code == 204


def test_deletion_needs_the_password_field(client, auth):
    alice = auth.user("alice")
    response = client.delete("/api/users/me", headers=alice.headers)
    assert response.status_code == 422
    assert "password" in response.json["errors"]
    assert client.get("/api/users/me", headers=alice.headers).status_code == 200
