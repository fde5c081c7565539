"""Stored data outlives upgrades: each store's versioned steps, on fresh and old data."""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime, timedelta

import pytest

from chat.store.migrations import mongo as mongo_migrations
from chat.store.migrations import sqlite as sqlite_migrations
from chat.store.sqlite import SQLiteStore
from tests.conftest import Auth, make_app
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
            -- A direct room (the store could make them, though no route did yet).
            INSERT INTO rooms (id, name, name_key, kind, visibility, owner_id, created_at,
                               last_seq, direct_key)
              VALUES ('d1', NULL, NULL, 'direct', 'private', 'u1',
                      '2026-01-01T00:00:04.000+00:00', 0, 'u1:u2');
            INSERT INTO memberships (room_id, user_id, role, joined_at)
              VALUES ('d1', 'u1', 'owner', '2026-01-01T00:00:04.000+00:00'),
                     ('d1', 'u2', 'member', '2026-01-01T00:00:04.000+00:00');
            UPDATE rooms SET last_seq = 3 WHERE id = 'r1';
            INSERT INTO messages (id, room_id, seq, author_id, content, created_at)
              VALUES ('m1', 'r1', 1, 'u1', 'first words', '2026-01-01T00:00:02.000+00:00'),
                     ('m2', 'r1', 2, 'u1', '', '2026-01-01T00:00:03.000+00:00'),
                     ('m3', 'r1', 3, 'u1', 'second words', '2026-01-01T00:00:03.500+00:00');
            UPDATE messages SET deleted = 1 WHERE id = 'm2';
            INSERT INTO revoked_tokens (jti, expires_at)
              VALUES ('gone', '2099-01-01T00:00:00.000+00:00');
            -- A room the first release's leave/join race left with a member, no owner.
            INSERT INTO users (id, username, username_key, password_hash, created_at)
              VALUES ('u2', 'bob', 'bob', 'pbkdf2:sha256:1000$salt$0000',
                      '2026-01-01T00:00:00.000+00:00');
            INSERT INTO rooms (id, name, name_key, kind, visibility, owner_id, created_at)
              VALUES ('r2', 'Orphan', 'orphan', 'group', 'public', NULL,
                      '2026-01-01T00:00:04.000+00:00');
            INSERT INTO memberships (room_id, user_id, role, joined_at)
              VALUES ('r2', 'u2', 'member', '2026-01-01T00:00:05.000+00:00');
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
        assert room is not None and room.name == "General" and room.last_seq == 3
        assert store.get_membership("r1", "u1").last_read_seq == 1
        page = store.list_messages("r1")
        assert [m.content for m in page.messages] == ["first words", "", "second words"]
        assert [m.deleted for m in page.messages] == [False, True, False]
        assert store.get_message("r1", "m1").content == "first words"
        # Version 2: the accounts made before need no email code, display names are
        # searchable, sessions start, and the race's orphan got its member as owner.
        assert user.verified is True and user.deleted is False
        assert store.search_users("display_name", "alice a", None, 10) == [user]
        assert store.search_users("username", "BO", None, 10)[0].id == "u2"
        session = store.create_session("u1", datetime.now(UTC) + timedelta(hours=1))
        assert store.get_session(session.id) == session
        assert store.get_room("r2").owner_id == "u2"
        assert store.get_membership("r2", "u2").role == "owner"
        assert store.join_room("r1", "u2").joined
        assert store.leave_room("r1", "u1").owner_id == "u2"
        assert store.update_user("u1", {"display_name": "A"}).display_name == "A"
        # Versions 3-4: the newest message's time is the room's last activity; a direct
        # room knows its pair and lists for both of them.
        assert room.last_activity_at == datetime.fromisoformat("2026-01-01T00:00:03.500+00:00")
        direct = store.get_room("d1")
        assert direct.last_activity_at == direct.created_at
        assert [r.id for r in store.list_direct_rooms("u1")[0]] == ["d1"]
        assert [r.id for r in store.list_direct_rooms("u2")[0]] == ["d1"]
        # What was stored before is searchable, tombstones excepted, and counted.
        assert [m.id for m in store.search_messages("r1", ["words"]).messages] == ["m3", "m1"]
        assert store.count_deleted_after({"r1": 1}) == {"r1": 1}
        # And stays usable: posting, editing and deleting keep the index in step.
        fourth, created = store.add_message(room_id="r1", author_id="u2", content="more words")
        assert created and fourth.seq == 4
        store.edit_message("r1", "m1", "edited", datetime.now(UTC))
        store.tombstone_message("r1", "m3")
        assert [m.id for m in store.search_messages("r1", ["words"]).messages] == [fourth.id]
        assert [m.id for m in store.search_messages("r1", ["edited"]).messages] == ["m1"]
    finally:
        store.close()
    with sqlite3.connect(path) as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    assert "revoked_tokens" not in tables and "revoked_tokens_expiry" not in tables
    assert {"sessions", "room_bans", "verification_codes", "users_display"} <= tables


def test_the_app_starts_on_a_first_release_database(tmp_path):
    path = tmp_path / "chat.db"
    write_first_release(path)
    app = make_app(tmp_path)  # its DATABASE_URL is tmp_path/chat.db
    try:
        client = app.test_client()
        register = client.post(
            "/api/auth/register", json={"username": "carol", "password": "x" * 8}
        )
        assert register.status_code == 201
        taken = client.post("/api/auth/register", json={"username": "ALICE", "password": "x" * 8})
        assert taken.status_code == 409
        # carol signs in on the upgraded file, finds alice by display name, joins her room.
        carol = Auth(client).login("carol", "x" * 8)
        found = client.get("/api/users", query_string={"q": "alice a"}, headers=carol.headers)
        assert [u["id"] for u in found.json["users"]] == ["u1"]
        joined = client.post("/api/rooms/r1/join", headers=carol.headers)
        assert joined.status_code == 200 and joined.json["owner_id"] == "u1"
        history = client.get("/api/rooms/r1/messages", headers=carol.headers)
        authors = [m["author"]["username"] for m in history.json["messages"]]
        assert authors == ["Alice"] * 3  # the tombstone keeps its author
    finally:
        app.extensions["chat"].store.close()


@pytest.mark.parametrize("kind", MONGO_STORES)
def test_a_new_mongo_database_gets_every_step_once(make_store, kind):
    store = make_store(kind)  # make_store migrates once
    assert store.migrate() == []
    assert mongo_migrations.version(store._db) == LATEST_MONGO


def write_first_release_mongo(store) -> None:
    """A MongoDB database as the first release left it: step 1 only, documents in the
    first release's shape, a revoked token, and a room the race left ownerless."""
    db = store._db
    mongo_migrations.STEPS[0].apply(db)
    db.schema_migrations.insert_one({"_id": 1, "name": "core", "applied_at": datetime.now(UTC)})
    created = datetime(2026, 1, 1, tzinfo=UTC)
    for uid, name, display in (("u1", "Alice", "Alice A"), ("u2", "bob", None)):
        db.users.insert_one(
            {"_id": uid, "username": name, "username_key": name.casefold(), "email": None,
             "email_key": None, "password_hash": "x", "display_name": display,
             "avatar_url": None, "created_at": created, "last_seen": None, "deleted": False}
        )  # fmt: skip
    db.rooms.insert_one(
        {"_id": "r2", "name": "Orphan", "name_key": "orphan", "kind": "group",
         "visibility": "public", "owner_id": None, "description": "", "password_hash": None,
         "created_at": created, "last_seq": 0, "direct_key": None}
    )  # fmt: skip
    db.memberships.insert_one(
        {"_id": "m1", "room_id": "r2", "user_id": "u2", "role": "member",
         "joined_at": created, "last_read_seq": 0}
    )  # fmt: skip
    db.revoked_tokens.insert_one({"_id": "t", "jti": "gone", "expires_at": created})


@pytest.mark.parametrize("kind", MONGO_STORES)
def test_a_first_release_mongo_database_is_upgraded(make_store, kind):
    store = make_store(kind)
    store._client.drop_database(store._db.name)  # start from the first release instead
    write_first_release_mongo(store)
    assert store.migrate() == list(range(2, LATEST_MONGO + 1))
    alice = store.get_user("u1")
    assert alice.verified is True and alice.display_name == "Alice A"
    assert store.search_users("display_name", "ALICE", None, 10) == [alice]
    assert store.search_users("display_name", "", None, 10) == [alice]  # bob has none
    assert store.get_room("r2").owner_id == "u2"
    assert store.get_membership("r2", "u2").role == "owner"
    assert "revoked_tokens" not in store._db.list_collection_names()
    assert store.join_room("r2", "u1").joined
    assert store.leave_room("r2", "u2").owner_id == "u1"


def test_a_migration_step_refuses_to_drop_a_column_it_does_not_know(tmp_path):
    path = tmp_path / "chat.db"
    write_first_release(path)
    with sqlite3.connect(path) as conn:
        conn.execute("ALTER TABLE messages ADD COLUMN surprise TEXT")
    store = SQLiteStore(str(path))
    try:
        with pytest.raises(Exception, match="surprise"):
            store.migrate()
        # Nothing applied: the file is as it was.
        assert store._conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0] == 3
    finally:
        store.close()
