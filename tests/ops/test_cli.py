"""`flask --app wsgi chat …`: each operator command does what it says, through the same
services as the API, and refuses clearly."""

from __future__ import annotations

import json
import sqlite3

import pytest

from tests.conftest import Api, Auth, make_app

PASSWORD = "operator-set-1"


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def run(runner, *args, input=None):
    return runner.invoke(args=["chat", *args], input=input)


def test_create_user_then_sign_in(runner, client):
    result = run(
        runner, "create-user", "olga", "--email", "o@example.com", input=f"{PASSWORD}\n" * 2
    )
    assert result.exit_code == 0, result.output
    assert "created user olga" in result.output
    login = client.post("/api/auth/login", json={"username": "olga", "password": PASSWORD})
    assert login.status_code == 200
    assert login.json["user"]["email"] == "o@example.com"


def test_create_user_refuses_a_taken_name_and_a_short_password(runner, auth):
    auth.user("olga")
    taken = run(runner, "create-user", "OLGA", input=f"{PASSWORD}\n" * 2)
    assert taken.exit_code == 1 and "already taken" in taken.output
    short = run(runner, "create-user", "pete", input="short\nshort\n")
    assert short.exit_code != 0 and "password" in short.output.lower()


def test_reset_password_ends_every_session(runner, client, auth):
    alice = auth.user("alice")
    result = run(runner, "reset-password", "alice", input=f"{PASSWORD}\n" * 2)
    assert result.exit_code == 0, result.output
    assert client.get("/api/users/me", headers=alice.headers).status_code == 401
    old = client.post("/api/auth/login", json={"username": "alice", "password": alice.password})
    assert old.status_code == 401
    new = client.post("/api/auth/login", json={"username": "alice", "password": PASSWORD})
    assert new.status_code == 200


def test_reset_password_of_nobody_fails(runner):
    result = run(runner, "reset-password", "nobody", input=f"{PASSWORD}\n" * 2)
    assert result.exit_code == 1 and "no user named 'nobody'" in result.output


def test_promote_hands_a_room_to_a_member_and_invites_an_outsider_first(runner, client, auth):
    api = Api(client)
    owner, bob, carol = auth.user("owner"), auth.user("bob"), auth.user("carol")
    room_id = api.create_room(owner, "secret", visibility="private")["id"]
    result = run(runner, "promote", "carol", room_id)
    assert result.exit_code == 0, result.output
    roles = {m["username"]: m["role"] for m in api.members(owner, room_id)}
    assert roles == {"owner": "admin", "carol": "owner"}
    assert api.room(carol, room_id)["owner_id"] == carol.id
    assert bob.id  # an outsider of a private room stays out
    assert client.get(f"/api/rooms/{room_id}", headers=bob.headers).status_code == 404


def test_promote_refuses_an_unknown_room(runner, auth):
    auth.user("bob")
    result = run(runner, "promote", "bob", "no-such-room")
    assert result.exit_code == 1 and "No such room" in result.output


def test_delete_user_passes_the_room_on_and_frees_the_name(runner, client, auth):
    api = Api(client)
    owner, bob = auth.user("owner"), auth.user("bob")
    room_id = api.create_room(owner, "general")["id"]
    api.join(bob, room_id)
    api.post(owner, room_id, "kept in history")
    result = run(runner, "delete-user", "owner", "--yes")
    assert result.exit_code == 0, result.output
    assert api.room(bob, room_id)["owner_id"] == bob.id
    assert api.history(bob, room_id)["messages"][0]["content"] == "kept in history"
    assert client.get("/api/users/me", headers=owner.headers).status_code == 401
    Auth(client).user("owner")  # the name is free again


def test_delete_user_asks_first(runner, auth):
    auth.user("bob")
    result = run(runner, "delete-user", "bob", input="n\n")
    assert result.exit_code == 1 and "Aborted" in result.output


def test_export_room_writes_json_lines_oldest_first(runner, client, auth, tmp_path):
    api = Api(client)
    owner = auth.user("owner")
    room_id = api.create_room(owner, "general")["id"]
    posted = [api.post(owner, room_id, f"message {i}") for i in range(7)]
    target = tmp_path / "room.jsonl"
    result = run(runner, "export-room", room_id, "--output", str(target))
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in target.read_text().splitlines()]
    assert lines == posted
    assert "exported 7 messages" in result.output


def test_backup_while_serving_is_a_consistent_copy(tmp_path):
    app = make_app(tmp_path)
    try:
        client = app.test_client()
        api, alice = Api(client), Auth(client).user("alice")
        room_id = api.create_room(alice, "general")["id"]
        api.post(alice, room_id, "before the backup")
        target = tmp_path / "backup.db"
        result = app.test_cli_runner().invoke(args=["chat", "backup", str(target)])
        assert result.exit_code == 0, result.output
        api.post(alice, room_id, "after the backup")
        with sqlite3.connect(target) as copy:
            rows = copy.execute("SELECT content FROM messages ORDER BY seq").fetchall()
            assert rows == [("before the backup",)]
            assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        again = app.test_cli_runner().invoke(args=["chat", "backup", str(target)])
        assert again.exit_code == 1 and "exists" in again.output
    finally:
        app.extensions["chat"].store.close()


def test_backup_of_mongodb_says_what_to_use(tmp_path):
    app = make_app(tmp_path, "mongomock")
    try:
        result = app.test_cli_runner().invoke(args=["chat", "backup", str(tmp_path / "b")])
        assert result.exit_code == 1 and "mongodump" in result.output
    finally:
        app.extensions["chat"].store.close()


def test_the_commands_run_as_the_readme_says(tmp_path):
    """`flask --app wsgi chat …` in a process of its own, as an operator types it."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'chat.db'}",
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "SOCKETIO_MESSAGE_QUEUE": "",
    }
    flask = [sys.executable, "-m", "flask", "--app", "wsgi", "chat"]
    made = subprocess.run(
        [*flask, "create-user", "olga"],
        input=f"{PASSWORD}\n{PASSWORD}\n",
        env=env,
        cwd=root,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert made.returncode == 0, made.stderr[-2000:]
    assert "created user olga" in made.stdout
    listed = subprocess.run(
        [*flask, "--help"], env=env, cwd=root, capture_output=True, text=True, timeout=60
    )
    for command in ("create-user", "reset-password", "promote", "delete-user", "backup"):
        assert command in listed.stdout
    assert "export-room" in listed.stdout
