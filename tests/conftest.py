"""Fixtures shared by the whole suite.

`app` is parametrised over both stores (a real SQLite file, and MongoDB on mongomock or
on the server named by TEST_MONGODB_URI), so every API and socket test runs on each.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from chat import create_app, socketio
from config import TestConfig
from tests import redis_server
from tests.support import MONGODB_URI, STORES, with_database


def store_url(kind: str, tmp_path: Any) -> str:
    name = f"chat_test_{uuid.uuid4().hex[:12]}"
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'chat.db'}"
    if kind == "mongomock":
        return f"mongomock://localhost/{name}"
    return with_database(MONGODB_URI, name)


def make_app(tmp_path: Any, kind: str = "sqlite", **overrides: Any) -> Flask:
    settings = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    settings["DATABASE_URL"] = store_url(kind, tmp_path)
    settings.update(overrides)
    return create_app(settings)


def pytest_report_header() -> str:
    real = "and the server at TEST_MONGODB_URI" if MONGODB_URI else "only (TEST_MONGODB_URI unset)"
    return f"stores: {', '.join(STORES)}; MongoDB on mongomock {real}"


@pytest.fixture(params=STORES)
def app(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Flask]:
    app = make_app(tmp_path, request.param)
    yield app
    app.extensions["chat"].store.close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@dataclass
class Account:
    id: str
    username: str
    password: str
    token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


class Auth:
    """Makes signed-up, signed-in users: `auth.user('alice')`."""

    def __init__(self, client: FlaskClient):
        self.client = client

    def user(self, username: str, password: str = "password123", **extra: Any) -> Account:
        response = self.client.post(
            "/api/auth/register", json={"username": username, "password": password, **extra}
        )
        assert response.status_code == 201, response.json
        return self.login(username, password)

    def login(self, username: str, password: str = "password123") -> Account:
        response = self.client.post(
            "/api/auth/login", json={"username": username, "password": password}
        )
        assert response.status_code == 200, response.json
        body = response.json
        return Account(
            body["user"]["id"], username, password, body["access_token"], body["refresh_token"]
        )


@pytest.fixture
def auth(client: FlaskClient) -> Auth:
    return Auth(client)


@pytest.fixture
def room(client: FlaskClient, auth: Auth) -> tuple[Account, dict[str, Any]]:
    """A public room owned by 'owner': (owner account, room JSON)."""
    owner = auth.user("owner")
    response = client.post("/api/rooms", json={"name": "general"}, headers=owner.headers)
    assert response.status_code == 201
    return owner, response.json


@pytest.fixture
def sio(app: Flask, client: FlaskClient):
    """Factory of Flask-SocketIO test clients on /chat, disconnected at teardown."""
    made = []

    def connect(token: str | None, **kwargs: Any):
        auth = {"token": token} if token is not None else None
        sock = socketio.test_client(
            app, namespace="/chat", auth=auth, flask_test_client=client, **kwargs
        )
        made.append(sock)
        return sock

    yield connect
    for sock in made:
        if sock.is_connected("/chat"):
            sock.disconnect("/chat")


class Api:
    """Short-hands for the REST calls tests make to set the scene, each asserting success."""

    def __init__(self, client: FlaskClient):
        self.client = client

    def create_room(self, who: Account, name: str, **extra: Any) -> dict[str, Any]:
        response = self.client.post("/api/rooms", json={"name": name, **extra}, headers=who.headers)
        assert response.status_code == 201, response.json
        return response.json

    def join(self, who: Account, room_id: str, **body: Any) -> dict[str, Any]:
        response = self.client.post(f"/api/rooms/{room_id}/join", json=body, headers=who.headers)
        assert response.status_code == 200, response.json
        return response.json

    def post(self, who: Account, room_id: str, content: str, **extra: Any) -> dict[str, Any]:
        response = self.client.post(
            f"/api/rooms/{room_id}/messages",
            json={"content": content, **extra},
            headers=who.headers,
        )
        assert response.status_code == 201, response.json
        return response.json

    def history(self, who: Account, room_id: str, **query: Any) -> dict[str, Any]:
        response = self.client.get(
            f"/api/rooms/{room_id}/messages", query_string=query, headers=who.headers
        )
        assert response.status_code == 200, response.json
        return response.json

    def members(self, who: Account, room_id: str) -> list[dict[str, Any]]:
        response = self.client.get(f"/api/rooms/{room_id}/members", headers=who.headers)
        assert response.status_code == 200, response.json
        return response.json["members"]

    def room(self, who: Account, room_id: str) -> dict[str, Any]:
        response = self.client.get(f"/api/rooms/{room_id}", headers=who.headers)
        assert response.status_code == 200, response.json
        return response.json

    def set_role(self, who: Account, room_id: str, user_id: str, role: str) -> dict[str, Any]:
        response = self.client.patch(
            f"/api/rooms/{room_id}/members/{user_id}", json={"role": role}, headers=who.headers
        )
        assert response.status_code == 200, response.json
        return response.json

    def rooms(self, who: Account, scope: str = "joined") -> list[dict[str, Any]]:
        response = self.client.get("/api/rooms", query_string={"scope": scope}, headers=who.headers)
        assert response.status_code == 200, response.json
        return response.json["rooms"]


@pytest.fixture
def api(client: FlaskClient) -> Api:
    return Api(client)


@pytest.fixture
def chat(auth, api, room):
    """The 'general' room with its owner and a plain member, bob: (owner, bob, room id)."""
    owner, general = room
    bob = auth.user("bob")
    api.join(bob, general["id"])
    return owner, bob, general["id"]


@pytest.fixture(scope="session")
def _redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str | None]:
    yield from redis_server.redis_url(tmp_path_factory)


@pytest.fixture
def redis_url(_redis_server: str | None) -> str:
    """The URL of a Redis server for this test (the suite's own; see tests/redis_server.py)."""
    if _redis_server is None:
        redis_server.unavailable("no redis-server binary on PATH and no TEST_REDIS_URL")
    assert _redis_server is not None
    return _redis_server
