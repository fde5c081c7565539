"""Your own profile: PATCH /api/users/me, PUT|PATCH /api/users/<id> (yours only)."""

from __future__ import annotations

import pytest


def patch_me(client, who, **body):
    return client.patch("/api/users/me", json=body, headers=who.headers)


def test_patch_changes_only_the_fields_given(client, auth):
    alice = auth.user("alice", email="alice@example.com", display_name="Alice")
    response = patch_me(client, alice, avatar_url="https://img.example.com/a.png")
    assert response.status_code == 200
    body = response.json
    assert body["avatar_url"] == "https://img.example.com/a.png"
    assert (body["username"], body["display_name"], body["email"]) == (
        "alice",
        "Alice",
        "alice@example.com",
    )
    assert client.get("/api/users/me", headers=alice.headers).json == body


def test_patch_with_nothing_changes_nothing(client, auth):
    alice = auth.user("alice", display_name="Alice")
    before = client.get("/api/users/me", headers=alice.headers).json
    assert client.patch("/api/users/me", headers=alice.headers).json == before
    assert patch_me(client, alice).json == before


def test_a_new_username_frees_the_old_one_and_signs_in(client, auth):
    alice = auth.user("alice")
    assert patch_me(client, alice, username="Alicia").json["username"] == "Alicia"
    assert client.get("/api/users/me", headers=alice.headers).status_code == 200  # same token
    assert auth.login("alicia").id == alice.id
    assert auth.user("alice").id != alice.id


@pytest.mark.parametrize("name", ["bob", "BOB", "Bob"])
def test_a_taken_username_is_409_ignoring_case(client, auth, name):
    alice = auth.user("alice")
    auth.user("bob")
    response = patch_me(client, alice, username=name, display_name="not this either")
    assert response.status_code == 409
    assert "username" in response.json["errors"]
    me = client.get("/api/users/me", headers=alice.headers).json
    assert (me["username"], me["display_name"]) == ("alice", None)


def test_a_new_case_of_your_own_name_is_fine(client, auth):
    alice = auth.user("alice")
    assert patch_me(client, alice, username="ALICE").json["username"] == "ALICE"


def test_null_clears_the_display_name_and_avatar(client, auth):
    alice = auth.user("alice", display_name="Alice")
    patch_me(client, alice, avatar_url="http://intranet/a.png")
    body = patch_me(client, alice, display_name=None, avatar_url=None).json
    assert (body["display_name"], body["avatar_url"]) == (None, None)


@pytest.mark.parametrize(
    "body, field",
    [
        ({"avatar_url": "javascript:alert(1)"}, "avatar_url"),
        ({"avatar_url": "ftp://example.com/a.png"}, "avatar_url"),
        ({"avatar_url": "not a url"}, "avatar_url"),
        ({"avatar_url": "https://x.example/" + "a" * 2048}, "avatar_url"),
        ({"username": "a b"}, "username"),
        ({"username": None}, "username"),
        ({"display_name": "x" * 65}, "display_name"),
        ({"display_name": "   "}, "display_name"),
        ({"email": "new@example.com"}, "email"),
        ({"password": "new-password"}, "password"),
    ],
)
def test_invalid_changes_are_422_and_change_nothing(client, auth, body, field):
    alice = auth.user("alice", display_name="Alice")
    before = client.get("/api/users/me", headers=alice.headers).json
    response = patch_me(client, alice, **body)
    assert response.status_code == 422
    assert field in response.json["errors"]
    assert client.get("/api/users/me", headers=alice.headers).json == before


def test_patch_by_id_is_yours_only(client, auth):
    alice, bob = auth.user("alice"), auth.user("bob", display_name="Bob")
    mine = client.patch(f"/api/users/{alice.id}", json={"display_name": "A"}, headers=alice.headers)
    assert mine.status_code == 200 and mine.json["display_name"] == "A"
    theirs = client.patch(f"/api/users/{bob.id}", json={"display_name": "B"}, headers=alice.headers)
    assert theirs.status_code == 403
    nobody = client.patch("/api/users/" + "0" * 24, json={}, headers=alice.headers)
    assert nobody.status_code == 403
    assert client.get(f"/api/users/{bob.id}", headers=bob.headers).json["display_name"] == "Bob"


def test_put_replaces_the_whole_profile(client, auth):
    alice = auth.user("alice", display_name="Alice")
    patch_me(client, alice, avatar_url="https://example.com/a.png")
    body = client.put(f"/api/users/{alice.id}", json={"username": "alice"}, headers=alice.headers)
    assert body.status_code == 200
    assert (body.json["display_name"], body.json["avatar_url"]) == (None, None)
    missing = client.put(f"/api/users/{alice.id}", json={}, headers=alice.headers)
    assert missing.status_code == 422 and "username" in missing.json["errors"]


def test_put_on_someone_else_is_403(client, auth):
    alice, bob = auth.user("alice"), auth.user("bob")
    response = client.put(f"/api/users/{bob.id}", json={"username": "mine"}, headers=alice.headers)
    assert response.status_code == 403
    assert client.get(f"/api/users/{bob.id}", headers=alice.headers).json["username"] == "bob"


def test_the_email_is_shown_to_its_owner_only_everywhere(client, auth, api, room):
    owner, general = room
    alice = auth.user("alice", email="alice@example.com")
    api.join(alice, general["id"])
    for who, shown in ((alice, True), (owner, False)):
        by_id = client.get(f"/api/users/{alice.id}", headers=who.headers).json
        found = client.get("/api/users", query_string={"q": "ali"}, headers=who.headers).json
        assert ("email" in by_id) is shown
        assert [("email" in u) for u in found["users"]] == [shown]
    members = api.members(owner, general["id"])
    assert all("email" not in m for m in members)
    assert patch_me(client, alice, display_name="A").json["email"] == "alice@example.com"
