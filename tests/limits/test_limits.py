"""Abuse limits (SPEC 1): each limit holds, refuses with a JSON 429 and `Retry-After`
(or a `rate_limited` ack), counts what it should and nothing else."""

from __future__ import annotations

import pytest

from chat import socketio
from tests.conftest import Api, Auth, make_app

NS = "/chat"
PASSWORD = "password123"


@pytest.fixture
def limited(tmp_path):
    """`limited(**settings)`: an app with rate limits on and the given RATELIMIT_*."""
    made = []

    def make(kind="sqlite", **settings):
        app = make_app(tmp_path / f"app{len(made)}", kind, RATELIMIT_ENABLED=True, **settings)
        made.append(app)
        return app

    yield make
    for app in made:
        app.extensions["chat"].store.close()


def at(address):
    return {"environ_base": {"REMOTE_ADDR": address}}


def assert_limited(response):
    assert response.status_code == 429, response.get_data(as_text=True)
    assert response.json["code"] == "rate_limited"
    assert int(response.headers["Retry-After"]) >= 1
    assert response.json["retry_after"] == int(response.headers["Retry-After"])


def register(client, name, address="10.0.0.1", path="/api/auth/register"):
    body = {"username": name, "password": PASSWORD}
    return client.post(path, json=body, **at(address))


def login(client, name, password, address, path="/api/auth/login"):
    return client.post(path, json={"username": name, "password": password}, **at(address))


def test_sign_up_per_address_across_both_routes(limited):
    client = limited(RATELIMIT_REGISTER="2 per hour").test_client()
    assert register(client, "alice").status_code == 201
    assert register(client, "bob", path="/register").status_code == 201
    assert_limited(register(client, "carol"))
    assert_limited(register(client, "carol", path="/register"))
    assert register(client, "carol", address="10.0.0.2").status_code == 201


def test_failed_sign_ins_are_limited_per_account_from_any_address(limited):
    client = limited(RATELIMIT_LOGIN="3 per minute").test_client()
    register(client, "alice")
    for n in range(3):
        assert login(client, "alice", "wrong-password", f"10.1.0.{n}").status_code == 401
    # A fourth address may not guess on; the right password is refused too, for now.
    assert_limited(login(client, "alice", "wrong-password", "10.1.0.9"))
    assert_limited(login(client, "alice", PASSWORD, "10.1.0.9", path="/login"))


def test_failed_sign_ins_are_limited_per_address_so_it_cannot_lock_everyone_out(limited):
    client = limited(RATELIMIT_LOGIN="3 per minute").test_client()
    for name in ("alice", "bob", "carol", "dave"):
        register(client, name, address=f"10.2.0.{len(name)}")
    for name in ("alice", "bob", "carol"):
        assert login(client, name, "wrong-password", "10.9.9.9").status_code == 401
    assert_limited(login(client, "dave", "wrong-password", "10.9.9.9"))
    # The attacker's address is stopped; dave and the others still sign in elsewhere.
    assert login(client, "dave", PASSWORD, "10.3.0.1").status_code == 200
    assert login(client, "alice", PASSWORD, "10.3.0.2").status_code == 200


def test_successful_sign_ins_do_not_count(limited):
    client = limited(RATELIMIT_LOGIN="2 per minute").test_client()
    register(client, "alice")
    for _ in range(5):
        assert login(client, "alice", PASSWORD, "10.0.0.1").status_code == 200


def test_verification_attempts_are_limited(limited):
    client = limited(RATELIMIT_VERIFY="2 per minute").test_client()
    body = {"email": "a@example.com", "code": "123456"}
    for _ in range(2):
        assert client.post("/api/auth/verify", json=body, **at("10.0.0.1")).status_code != 429
    assert_limited(client.post("/api/auth/verify", json=body, **at("10.0.0.1")))
    resend = client.post(
        "/api/auth/verify/resend", json={"email": "b@example.com"}, **at("10.0.0.1")
    )
    assert_limited(resend)  # one budget for attempts and resends
    other = {"email": "c@example.com", "code": "123456"}
    assert client.post("/api/auth/verify", json=other, **at("10.0.0.2")).status_code != 429


def test_every_other_route_has_the_default_limit_and_health_none(limited):
    client = limited(RATELIMIT_DEFAULT="3 per minute").test_client()
    alice = Auth(client).user("alice")
    for _ in range(3):
        assert client.get("/api/rooms", headers=alice.headers).status_code == 200
    assert_limited(client.get("/api/rooms", headers=alice.headers))
    for _ in range(5):
        assert client.get("/health").status_code == 200


def test_rest_and_socket_messages_share_one_budget_per_user(limited):
    app = limited(RATELIMIT_MESSAGES="3 per minute")
    client = app.test_client()
    api = Api(client)
    alice, bob = Auth(client).user("alice"), Auth(client).user("bob")
    room_id = api.create_room(alice, "general")["id"]
    api.join(bob, room_id)
    api.post(alice, room_id, "one")
    legacy = client.post(
        "/send_message", json={"roomID": room_id, "message": "two"}, headers=alice.headers
    )
    assert legacy.status_code == 201
    sock = socketio.test_client(
        app, namespace=NS, auth={"token": alice.token}, flask_test_client=client
    )
    ack = sock.emit(
        "message", {"room_id": room_id, "content": "three"}, namespace=NS, callback=True
    )
    assert ack["ok"] is True
    refused = sock.emit(
        "message", {"room_id": room_id, "content": "four"}, namespace=NS, callback=True
    )
    assert refused["ok"] is False
    assert refused["error"]["code"] == "rate_limited" and refused["error"]["retry_after"] >= 1
    assert sock.is_connected(NS)
    posted = client.post(
        f"/api/rooms/{room_id}/messages", json={"content": "five"}, headers=alice.headers
    )
    assert_limited(posted)
    assert [m["content"] for m in api.history(bob, room_id)["messages"]] == ["one", "two", "three"]
    api.post(bob, room_id, "bob is not alice")  # another user's budget is untouched
    sock.disconnect(NS)


def test_a_flooding_socket_is_refused_and_stays_and_others_go_on(limited):
    app = limited(RATELIMIT_SOCKET_EVENTS="4 per minute")
    client = app.test_client()
    alice, bob = Auth(client).user("alice"), Auth(client).user("bob")
    room_id = Api(client).create_room(alice, "general")["id"]
    flood = socketio.test_client(
        app, namespace=NS, auth={"token": alice.token}, flask_test_client=client
    )
    calm = socketio.test_client(
        app, namespace=NS, auth={"token": bob.token}, flask_test_client=client
    )
    acks = [
        flood.emit("fetch", {"room_id": room_id}, namespace=NS, callback=True) for _ in range(6)
    ]
    assert [a["ok"] for a in acks] == [True] * 4 + [False] * 2
    assert acks[-1]["error"]["code"] == "rate_limited"
    assert flood.is_connected(NS)
    assert calm.emit("join", {"room_id": room_id}, namespace=NS, callback=True)["ok"] is True
    flood.disconnect(NS)
    calm.disconnect(NS)


def test_opening_sockets_in_a_loop_is_refused_per_address(limited):
    app = limited(RATELIMIT_CONNECT="2 per minute")
    client = app.test_client()
    alice = Auth(client).user("alice")
    opened = [
        socketio.test_client(
            app, namespace=NS, auth={"token": alice.token}, flask_test_client=client
        )
        for _ in range(3)
    ]
    assert [s.is_connected(NS) for s in opened] == [True, True, False]
    for sock in opened[:2]:
        sock.disconnect(NS)


def test_limits_off_limit_nothing(tmp_path):
    app = make_app(
        tmp_path,
        RATELIMIT_ENABLED=False,
        RATELIMIT_REGISTER="1 per hour",
        RATELIMIT_DEFAULT="1 per hour",
        RATELIMIT_MESSAGES="1 per hour",
    )
    client = app.test_client()
    for name in ("alice", "bob", "carol"):
        assert register(client, name).status_code == 201
        headers = Auth(client).login(name).headers
        assert client.get("/api/rooms", headers=headers).status_code == 200
    room_id = Api(client).create_room(Auth(client).login("alice"), "r")["id"]
    for n in range(3):
        Api(client).post(Auth(client).login("alice"), room_id, f"m{n}")
    app.extensions["chat"].store.close()


@pytest.mark.parametrize("proxies, shared", [(0, True), (1, False)])
def test_x_forwarded_for_counts_only_behind_trusted_proxies(limited, proxies, shared):
    """Without TRUSTED_PROXIES a client cannot claim another address to dodge a limit."""
    client = limited(RATELIMIT_REGISTER="1 per hour", TRUSTED_PROXIES=proxies).test_client()
    first = client.post(
        "/api/auth/register",
        json={"username": "alice", "password": PASSWORD},
        headers={"X-Forwarded-For": "192.0.2.1"},
        **at("10.0.0.1"),
    )
    assert first.status_code == 201
    second = client.post(
        "/api/auth/register",
        json={"username": "bob", "password": PASSWORD},
        headers={"X-Forwarded-For": "192.0.2.2"},
        **at("10.0.0.1"),
    )
    assert second.status_code == (429 if shared else 201)


def test_processes_share_the_message_budget_through_redis(limited, redis_url, tmp_path):
    """Two apps on one SQLite file and one Redis stand for two processes."""
    settings = {
        "RATELIMIT_MESSAGES": "2 per minute",
        "RATELIMIT_STORAGE_URI": redis_url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'shared.db'}",
    }
    a, b = limited(**settings).test_client(), limited(**settings).test_client()
    alice = Auth(a).user("alice")
    room_id = Api(a).create_room(alice, "shared")["id"]
    Api(a).post(alice, room_id, "one")
    Api(b).post(alice, room_id, "two")
    third = b.post(f"/api/rooms/{room_id}/messages", json={"content": "3"}, headers=alice.headers)
    assert_limited(third)
