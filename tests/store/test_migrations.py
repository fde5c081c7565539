"""Stored data outlives upgrades: each store's versioned steps, on fresh and old data."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from chat.store.migrations import mongo as mongo_migrations
from chat.store.migrations import sqlite as sqlite_migrations
from chat.store.sqlite import SQLiteStore
from tests.conftest import make_app
from tests.support import MONGO_STORES

LATEST_SQLITE = sqlite_migrations.STEPS[-1].version
LATEST_MONGO = mongo_migrations.STEPS[-1].version


def test_the_steps_are_numbered_one_by_one():
    for steps in (sqlite_migrations.STEPS, mongo_migrations.STEPS):
        assert [s.version for s in steps] == list(range(1, len(steps) + 1))


def test_a_new_sqlite_file_gets_every_step_once(tmp_path):
    store = SQLiteStore(str(tmp_path / "chat.db"))
    try:
        assert store.migrate() == list(range(1, LATEST_SQLITE + 1))
        assert store.migrate() == []
    finally:
        store.close()
    with sqlite3.connect(tmp_path / "chat.db") as conn:
        assert sqlite_migrations.version(conn) == LATEST_SQLITE


def test_two_processes_starting_at_once_migrate_once(tmp_path):
    """Stores on one file stand for processes; the step runs in one transaction."""
    stores = [SQLiteStore(str(tmp_path / "chat.db")) for _ in range(4)]
    applied: list[list[int]] = []
    start = threading.Barrier(len(stores))

    def run(store):
        start.wait()
        applied.append(store.migrate())

    threads = [threading.Thread(target=run, args=(s,)) for s in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for store in stores:
        store.close()
    assert sorted(v for versions in applied for v in versions) == list(range(1, LATEST_SQLITE + 1))


def write_first_release(path) -> None:
    """A database exactly as the first release wrote it: its DDL, no migrations table,
    and rows of every kind."""
    with sqlite3.connect(path) as conn:
        conn.executescript(sqlite_migrations.CORE)
        conn.executescript(
            """
            INSERT INTO users (id, username, username_key, email, email_key, password_hash,
                               display_name, created_at)
              VALUES ('u1', 'Alice', 'alice', 'a@example.com', 'a@example.com',
                      'pbkdf2:sha256:1000$salt$0000', 'Alice A', '2026-01-01T00:00:00.000+00:00');
            INSERT INTO rooms (id, name, name_key, kind, visibility, owner_id, description,
                               created_at, last_seq)
              VALUES ('r1', 'General', 'general', 'group', 'public', 'u1', 'the room',
                      '2026-01-01T00:00:01.000+00:00', 2);
            INSERT INTO memberships (room_id, user_id, role, joined_at, last_read_seq)
              VALUES ('r1', 'u1', 'owner', '2026-01-01T00:00:01.000+00:00', 1);
            INSERT INTO messages (id, room_id, seq, author_id, content, created_at)
              VALUES ('m1', 'r1', 1, 'u1', 'first', '2026-01-01T00:00:02.000+00:00'),
                     ('m2', 'r1', 2, 'u1', 'second', '2026-01-01T00:00:03.000+00:00');
            INSERT INTO revoked_tokens (jti, expires_at)
              VALUES ('gone', '2099-01-01T00:00:00.000+00:00');
            """
        )


def test_a_first_release_database_is_upgraded_with_every_row_intact(tmp_path):
    path = tmp_path / "chat.db"
    write_first_release(path)
    store = SQLiteStore(str(path))
    try:
        assert store.migrate() == list(range(1, LATEST_SQLITE + 1))
        user = store.get_user_by_login("alice")
        assert user is not None and user.id == "u1" and user.display_name == "Alice A"
        room = store.get_room("r1")
        assert room is not None and room.name == "General" and room.last_seq == 2
        assert store.get_membership("r1", "u1").last_read_seq == 1
        page = store.list_messages("r1")
        assert [m.content for m in page.messages] == ["first", "second"]
        assert store.is_token_revoked("gone")
        third, created = store.add_message(room_id="r1", author_id="u1", content="third")
        assert created and third.seq == 3
    finally:
        store.close()


def test_the_app_starts_on_a_first_release_database(tmp_path):
    path = tmp_path / "chat.db"
    write_first_release(path)
    app = make_app(tmp_path)  # its DATABASE_URL is tmp_path/chat.db
    try:
        client = app.test_client()
        register = client.post("/api/auth/register", json={"username": "bob", "password": "x" * 8})
        assert register.status_code == 201
        taken = client.post("/api/auth/register", json={"username": "ALICE", "password": "x" * 8})
        assert taken.status_code == 409
    finally:
        app.extensions["chat"].store.close()


@pytest.mark.parametrize("kind", MONGO_STORES)
def test_a_new_mongo_database_gets_every_step_once(make_store, kind):
    store = make_store(kind)  # make_store migrates once
    assert store.migrate() == []
    assert mongo_migrations.version(store._db) == LATEST_MONGO
