"""Accounts over REST: register, login, refresh, logout, and reading users."""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest
from flask_jwt_extended import create_access_token, create_refresh_token

USER_FIELDS = {"id", "username", "display_name", "avatar_url", "online", "last_seen", "created_at"}


def register(client, **body):
    return client.post("/api/auth/register", json=body)


def login(client, **body):
    return client.post("/api/auth/login", json=body)


def can_login(client, username, password="password123"):
    return login(client, username=username, password=password).status_code == 200


# -- register ---------------------------------------------------------------


def test_register_returns_201_with_the_user_and_its_email(client):
    response = register(
        client,
        username="alice",
        password="password123",
        email="alice@example.com",
        display_name="  Alice A.  ",
    )
    assert response.status_code == 201
    body = response.json
    assert set(body) == USER_FIELDS | {"email"}
    assert isinstance(body["id"], str) and body["id"]
    assert body["username"] == "alice"
    assert body["email"] == "alice@example.com"
    assert body["display_name"] == "Alice A."
    assert body["online"] is False
    assert datetime.fromisoformat(body["created_at"]).utcoffset().total_seconds() == 0
    assert "password" not in body and "password_hash" not in body
    assert can_login(client, "alice")


def test_register_without_email_shows_email_null(client):
    response = register(client, username="bob", password="password123")
    assert response.status_code == 201
    assert response.json["email"] is None
    assert response.json["display_name"] is None


@pytest.mark.parametrize(
    "username",
    ["abc", "a" * 32, "Al.ice_B-2", "___", "0123"],
    ids=["three", "thirty-two", "mixed", "underscores", "digits"],
)
def test_register_accepts_valid_usernames(client, username):
    response = register(client, username=username, password="password123")
    assert response.status_code == 201, response.json
    assert response.json["username"] == username
    assert can_login(client, username)


@pytest.mark.parametrize(
    "username",
    ["ab", "a" * 33, "al ice", "alice!", "al@ice", "élise", "", 42, None],
    ids=["two", "thirty-three", "space", "bang", "at", "non-ascii", "empty", "number", "null"],
)
def test_register_refuses_bad_usernames_with_422(client, username):
    response = register(client, username=username, password="password123")
    assert response.status_code == 422
    assert response.json["code"] == "invalid"
    assert response.json["message"]
    assert "username" in response.json["errors"]
    if isinstance(username, str) and username:
        assert not can_login(client, username)


def test_register_requires_username_and_password(client):
    response = register(client)
    assert response.status_code == 422
    assert set(response.json["errors"]) == {"username", "password"}


@pytest.mark.parametrize("password", ["", "short", "1234567"], ids=["empty", "five", "seven"])
def test_register_refuses_passwords_under_8_characters(client, password):
    response = register(client, username="carol", password=password)
    assert response.status_code == 422
    assert "password" in response.json["errors"]
    assert not can_login(client, "carol", password)
    # and the name is still free
    assert register(client, username="carol", password="password123").status_code == 201


def test_register_accepts_an_8_character_password(client):
    assert register(client, username="carol", password="12345678").status_code == 201
    assert can_login(client, "carol", "12345678")


@pytest.mark.parametrize("second", ["alice", "ALICE", "Alice"])
def test_register_refuses_a_taken_username_ignoring_case(client, second):
    first = register(client, username="alice", password="password123")
    assert first.status_code == 201
    response = register(client, username=second, password="other-password")
    assert response.status_code == 409
    assert response.json["code"] == "conflict"
    assert response.json["message"]
    assert "username" in response.json["errors"]
    # the first account is untouched: its password still works, the other one does not
    assert can_login(client, "alice", "password123")
    assert not can_login(client, "alice", "other-password")


def test_register_refuses_unknown_fields_with_422(client):
    response = register(client, username="alice", password="password123", is_admin=True)
    assert response.status_code == 422
    assert "is_admin" in response.json["errors"]
    assert not can_login(client, "alice")


def test_register_refuses_a_bad_email_with_422(client):
    response = register(client, username="alice", password="password123", email="not-an-email")
    assert response.status_code == 422
    assert "email" in response.json["errors"]
    assert not can_login(client, "alice")


def test_register_refuses_invalid_json_with_400(client):
    response = client.post(
        "/api/auth/register", data='{"username": "alice",', content_type="application/json"
    )
    assert response.status_code == 400
    assert response.is_json
    assert response.json["message"]
    assert not can_login(client, "alice")


@pytest.mark.parametrize("body", ["[1, 2]", '"alice"', "42", "null"])
def test_register_refuses_json_that_is_not_an_object_with_400(client, body):
    response = client.post("/api/auth/register", data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.is_json
    assert response.json["message"]


# -- login ------------------------------------------------------------------


@pytest.fixture
def alice(client):
    response = register(client, username="Alice", password="password123", email="Alice@Example.com")
    assert response.status_code == 201
    return response.json


def test_login_response_shape(client, app, alice):
    response = login(client, username="Alice", password="password123")
    assert response.status_code == 200
    body = response.json
    assert set(body) == {"access_token", "refresh_token", "token_type", "expires_in", "user"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == int(app.config["JWT_ACCESS_TOKEN_EXPIRES"].total_seconds())
    assert body["access_token"] != body["refresh_token"]
    assert body["user"] == {**alice, "online": body["user"]["online"]}
    assert body["user"]["email"] == "Alice@Example.com"
    me = client.get("/api/users/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json["id"] == alice["id"]


@pytest.mark.parametrize("name", ["Alice", "alice", "ALICE"])
def test_login_by_username_ignores_case(client, alice, name):
    response = login(client, username=name, password="password123")
    assert response.status_code == 200
    assert response.json["user"]["id"] == alice["id"]


@pytest.mark.parametrize("email", ["Alice@Example.com", "alice@example.com", "ALICE@EXAMPLE.COM"])
def test_login_by_email_ignores_case(client, alice, email):
    response = login(client, email=email, password="password123")
    assert response.status_code == 200
    assert response.json["user"]["id"] == alice["id"]


def test_login_with_an_email_in_the_username_field(client, alice):
    response = login(client, username="alice@example.com", password="password123")
    assert response.status_code == 200
    assert response.json["user"]["id"] == alice["id"]


def test_wrong_password_and_unknown_user_get_the_same_401(client, alice):
    wrong = login(client, username="alice", password="wrong-password")
    unknown = login(client, username="nobody", password="password123")
    unknown_email = login(client, email="nobody@example.com", password="password123")
    for response in (wrong, unknown, unknown_email):
        assert response.status_code == 401
        assert response.is_json
        assert "access_token" not in response.json
    assert wrong.json == unknown.json == unknown_email.json
    assert wrong.json["message"]


def test_login_needs_a_name_and_a_password(client, alice):
    response = login(client, password="password123")
    assert response.status_code == 422
    assert "username" in response.json["errors"]
    response = login(client, username="alice")
    assert response.status_code == 422
    assert "password" in response.json["errors"]


# -- refresh ----------------------------------------------------------------


@pytest.mark.parametrize("method", ["POST", "GET"])
def test_refresh_with_the_refresh_token_gives_a_working_access_token(client, auth, method):
    user = auth.user("alice")
    response = client.open(
        "/api/auth/refresh",
        method=method,
        headers={"Authorization": f"Bearer {user.refresh_token}"},
    )
    assert response.status_code == 200
    assert set(response.json) == {"access_token", "token_type", "expires_in"}
    assert response.json["token_type"] == "Bearer"
    assert response.json["expires_in"] == 15 * 60  # JWT_ACCESS_TOKEN_EXPIRES
    fresh = response.json["access_token"]
    me = client.get("/api/users/me", headers={"Authorization": f"Bearer {fresh}"})
    assert me.status_code == 200
    assert me.json["id"] == user.id


def test_refresh_refuses_an_access_token(client, auth):
    user = auth.user("alice")
    response = client.post("/api/auth/refresh", headers=user.headers)
    assert response.status_code == 401
    assert response.is_json
    assert response.json["message"]
    assert "access_token" not in response.json


def test_refresh_token_is_not_an_access_token(client, auth):
    user = auth.user("alice")
    response = client.get(
        "/api/users/me", headers={"Authorization": f"Bearer {user.refresh_token}"}
    )
    assert response.status_code == 401
    assert response.json["message"]


def test_refresh_without_a_token_is_401(client):
    response = client.post("/api/auth/refresh")
    assert response.status_code == 401
    assert response.json["message"]


# -- logout -----------------------------------------------------------------


def test_logout_revokes_the_access_token_at_once(client, auth):
    user = auth.user("alice")
    assert client.get("/api/users/me", headers=user.headers).status_code == 200
    response = client.post("/api/auth/logout", headers=user.headers)
    assert response.status_code == 204
    assert response.data == b""
    after = client.get("/api/users/me", headers=user.headers)
    assert after.status_code == 401
    assert after.json["message"]
    # a second logout with the same token is refused too
    assert client.post("/api/auth/logout", headers=user.headers).status_code == 401


def refresh(client, refresh_token):
    return client.post("/api/auth/refresh", headers={"Authorization": f"Bearer {refresh_token}"})


def test_logout_ends_the_session_so_its_refresh_token_dies_too(client, auth):
    user = auth.user("alice")
    refreshed = refresh(client, user.refresh_token).json["access_token"]
    assert client.post("/api/auth/logout", headers=user.headers).status_code == 204
    response = refresh(client, user.refresh_token)
    assert response.status_code == 401
    assert "sign" in response.json["message"].lower()
    # ... and so does every access token the session's refresh token gave out.
    late = client.get("/api/users/me", headers={"Authorization": f"Bearer {refreshed}"})
    assert late.status_code == 401


def test_logout_with_the_refresh_token_of_another_session_ends_both(client, auth):
    first = auth.user("alice")
    second = auth.login("alice")
    third = auth.login("alice")
    response = client.post(
        "/api/auth/logout", json={"refresh_token": second.refresh_token}, headers=first.headers
    )
    assert response.status_code == 204
    for ended in (first, second):
        assert client.get("/api/users/me", headers=ended.headers).status_code == 401
        assert refresh(client, ended.refresh_token).status_code == 401
    assert client.get("/api/users/me", headers=third.headers).status_code == 200
    assert refresh(client, third.refresh_token).status_code == 200


def test_a_refreshed_access_token_belongs_to_the_same_session(client, auth):
    alice = auth.user("alice")
    fresh = refresh(client, alice.refresh_token).json["access_token"]
    headers = {"Authorization": f"Bearer {fresh}"}
    assert client.post("/api/auth/logout", headers=headers).status_code == 204
    assert client.get("/api/users/me", headers=alice.headers).status_code == 401


@pytest.mark.parametrize("kind", ["access", "refresh"])
def test_a_token_from_before_sessions_is_refused_with_sign_in_again(app, client, auth, kind):
    """Tokens issued before this release carry no `sid` claim: refused, clearly."""
    alice = auth.user("alice")
    with app.app_context():
        make = create_access_token if kind == "access" else create_refresh_token
        old = make(identity=alice.id)
    path = "/api/users/me" if kind == "access" else "/api/auth/refresh"
    response = client.get(path, headers={"Authorization": f"Bearer {old}"})
    assert response.status_code == 401
    assert response.json["code"] == "unauthorized"
    assert "sign in again" in response.json["message"]


def test_logout_revokes_the_refresh_token_given_in_the_body(client, auth):
    user = auth.user("alice")
    response = client.post(
        "/api/auth/logout", json={"refresh_token": user.refresh_token}, headers=user.headers
    )
    assert response.status_code == 204
    refresh = client.post(
        "/api/auth/refresh", headers={"Authorization": f"Bearer {user.refresh_token}"}
    )
    assert refresh.status_code == 401
    assert refresh.json["message"]
    assert client.get("/api/users/me", headers=user.headers).status_code == 401


def test_logout_leaves_other_sessions_working(client, auth):
    first = auth.user("alice")
    second = auth.login("alice")
    assert client.post("/api/auth/logout", headers=first.headers).status_code == 204
    assert client.get("/api/users/me", headers=second.headers).status_code == 200


def test_logout_with_someone_elses_refresh_token_is_refused_and_revokes_nothing(client, auth):
    alice = auth.user("alice")
    bob = auth.user("bob")
    response = client.post(
        "/api/auth/logout", json={"refresh_token": bob.refresh_token}, headers=alice.headers
    )
    assert response.status_code == 422
    assert "refresh_token" in response.json["errors"]
    # nothing was revoked: alice's access token and bob's refresh token both still work
    assert client.get("/api/users/me", headers=alice.headers).status_code == 200
    refresh = client.post(
        "/api/auth/refresh", headers={"Authorization": f"Bearer {bob.refresh_token}"}
    )
    assert refresh.status_code == 200


@pytest.mark.parametrize("which", ["access", "garbage"])
def test_logout_with_a_non_refresh_token_in_the_body_is_refused(client, auth, which):
    alice = auth.user("alice")
    token = alice.token if which == "access" else "not.a.token"
    response = client.post("/api/auth/logout", json={"refresh_token": token}, headers=alice.headers)
    assert response.status_code == 422
    assert "refresh_token" in response.json["errors"]
    assert client.get("/api/users/me", headers=alice.headers).status_code == 200


def test_logout_without_a_token_is_401(client):
    response = client.post("/api/auth/logout")
    assert response.status_code == 401
    assert response.json["message"]


# -- users ------------------------------------------------------------------


def test_get_me_shows_my_profile_with_email(client, auth):
    user = auth.user("alice", email="alice@example.com")
    response = client.get("/api/users/me", headers=user.headers)
    assert response.status_code == 200
    assert set(response.json) == USER_FIELDS | {"email"}
    assert response.json["id"] == user.id
    assert response.json["username"] == "alice"
    assert response.json["email"] == "alice@example.com"


def test_get_me_without_a_token_is_401(client):
    response = client.get("/api/users/me")
    assert response.status_code == 401
    assert response.json["message"]


def test_get_another_user_hides_their_email(client, auth):
    alice = auth.user("alice", email="alice@example.com")
    bob = auth.user("bob", email="bob@example.com")
    response = client.get(f"/api/users/{bob.id}", headers=alice.headers)
    assert response.status_code == 200
    assert set(response.json) == USER_FIELDS
    assert response.json["id"] == bob.id
    assert response.json["username"] == "bob"
    assert "email" not in response.json


def test_get_myself_by_id_shows_my_email(client, auth):
    alice = auth.user("alice", email="alice@example.com")
    response = client.get(f"/api/users/{alice.id}", headers=alice.headers)
    assert response.status_code == 200
    assert response.json["email"] == "alice@example.com"


@pytest.mark.parametrize("kind", ["well-formed", "garbage"])
def test_get_an_unknown_user_is_404(client, auth, kind):
    alice = auth.user("alice")
    unknown = uuid.uuid4().hex[:24] if kind == "well-formed" else "no-such-user"
    response = client.get(f"/api/users/{unknown}", headers=alice.headers)
    assert response.status_code == 404
    assert response.json["code"] == "not_found"
    assert response.json["message"]


def test_register_refuses_a_taken_email_ignoring_case(client):
    assert (
        register(
            client, username="alice", password="password123", email="alice@example.com"
        ).status_code
        == 201
    )
    response = register(client, username="bob", password="password123", email="ALICE@example.com")
    assert response.status_code == 409
    assert "email" in response.json["errors"]
    assert not can_login(client, "bob")
    assert (
        login(client, email="alice@example.com", password="password123").json["user"]["username"]
        == "alice"
    )
