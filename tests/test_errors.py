"""Every error leaves as JSON with its status and a message, never as an HTML page."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from flask_jwt_extended import create_access_token, create_refresh_token


def assert_json_error(response, status, code=None):
    assert response.status_code == status
    assert response.is_json, response.get_data(as_text=True)[:200]
    assert isinstance(response.json["message"], str) and response.json["message"]
    assert "<html" not in response.get_data(as_text=True).lower()
    if code:
        assert response.json["code"] == code


@pytest.mark.parametrize("path", ["/nope", "/api/nope", "/api/rooms/x/y/z/w"])
def test_404_is_json(client, path):
    assert_json_error(client.get(path), 404, "not_found")


@pytest.mark.parametrize(
    "method, path",
    [
        ("DELETE", "/api/rooms"),
        ("PUT", "/health"),
        ("GET", "/api/auth/login"),
        ("GET", "/send_message"),
        ("PATCH", "/api/auth/logout"),
    ],
)
def test_405_is_json(client, method, path):
    assert_json_error(client.open(path, method=method), 405, "method_not_allowed")


def test_500_is_json(app, client):
    def explode():
        raise RuntimeError("kaboom")

    app.add_url_rule("/test-explode", "test_explode", explode)
    response = client.get("/test-explode")
    assert_json_error(response, 500, "internal")
    assert "kaboom" not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "header",
    ["Bearer garbage", "Bearer a.b.c", "Bearer ", "Token abc", "garbage"],
    ids=["garbage", "three-parts", "empty", "wrong-scheme", "no-scheme"],
)
def test_a_garbage_token_is_401_json(client, header):
    response = client.get("/api/users/me", headers={"Authorization": header})
    assert_json_error(response, 401, "unauthorized")


def test_no_token_is_401_json(client):
    assert_json_error(client.get("/api/rooms"), 401, "unauthorized")


def test_an_expired_token_is_401_json(app, client, auth):
    user = auth.user("alice")
    with app.app_context():
        expired = create_access_token(identity=user.id, expires_delta=timedelta(seconds=-1))
    response = client.get("/api/users/me", headers={"Authorization": f"Bearer {expired}"})
    assert_json_error(response, 401, "unauthorized")
    assert "expired" in response.json["message"].lower()
    # the same user's live token still works
    assert client.get("/api/users/me", headers=user.headers).status_code == 200


def test_an_expired_refresh_token_is_401_json(app, client, auth):
    user = auth.user("alice")
    with app.app_context():
        expired = create_refresh_token(identity=user.id, expires_delta=timedelta(seconds=-1))
    response = client.post("/api/auth/refresh", headers={"Authorization": f"Bearer {expired}"})
    assert_json_error(response, 401, "unauthorized")


def test_a_token_signed_with_another_key_is_401_json(app, client, auth):
    user = auth.user("alice")
    key = app.config["JWT_SECRET_KEY"]
    app.config["JWT_SECRET_KEY"] = "some-other-key-entirely-0123456789-abcdefghij"
    try:
        with app.app_context():
            forged = create_access_token(identity=user.id)
    finally:
        app.config["JWT_SECRET_KEY"] = key
    response = client.get("/api/users/me", headers={"Authorization": f"Bearer {forged}"})
    assert_json_error(response, 401, "unauthorized")


def test_a_token_for_an_unknown_user_is_401_json(app, client):
    with app.app_context():
        token = create_access_token(identity=uuid.uuid4().hex[:24])
    response = client.get("/api/users/me", headers={"Authorization": f"Bearer {token}"})
    assert_json_error(response, 401, "unauthorized")


def test_a_body_over_the_size_limit_is_413_json(app, client, api, room):
    owner, general = room
    limit = app.config["MAX_CONTENT_LENGTH"]
    big = "x" * (limit + 1)
    response = client.post(
        f"/api/rooms/{general['id']}/messages", json={"content": big}, headers=owner.headers
    )
    assert_json_error(response, 413)
    assert api.history(owner, general["id"])["messages"] == []
    register = client.post("/api/auth/register", json={"username": "bob", "password": big})
    assert_json_error(register, 413)
    login = client.post("/api/auth/login", json={"username": "bob", "password": big})
    assert login.status_code == 413


def test_invalid_json_is_400_json_on_every_kind_of_route(client, room):
    owner, general = room
    for path in ("/api/rooms", f"/api/rooms/{general['id']}/messages", "/create_room"):
        response = client.post(
            path, data="{not json", content_type="application/json", headers=owner.headers
        )
        assert_json_error(response, 400, "bad_request")


def test_invalid_input_names_the_fields(client, room):
    owner, _ = room
    response = client.post("/api/rooms", json={"visibility": "odd"}, headers=owner.headers)
    assert_json_error(response, 422, "invalid")
    assert set(response.json["errors"]) == {"name", "visibility"}


def test_health(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}


def test_health_is_503_when_the_store_does_not_answer(app, client, monkeypatch):
    from chat.domain.errors import StoreError

    def down() -> None:
        raise StoreError("no answer")

    monkeypatch.setattr(app.extensions["chat"].store, "ping", down)
    response = client.get("/health")
    assert response.status_code == 503
    assert response.json == {"status": "degraded", "database": "down"}


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_a_closed_store_is_503_not_500(app, client, auth):
    """A store that cannot answer is unavailable (503), for /health and any route.

    SQLite only: closing a mongomock client changes nothing; the Mongo store's own
    mapping of driver failures to StoreError is in the store contract suite."""
    alice = auth.user("alice")
    app.extensions["chat"].store.close()
    health = client.get("/health")
    assert health.status_code == 503
    assert health.json == {"status": "degraded", "database": "down"}
    response = client.get("/api/rooms", headers=alice.headers)
    assert response.status_code == 503
    assert response.json["code"] == "unavailable"
