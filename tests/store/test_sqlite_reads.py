"""Reads by key run on a read connection of their own (`chat.store.sqlite._read`)."""

from __future__ import annotations

import sqlite3

import pytest

from chat.store.sqlite import SQLiteStore


def test_a_read_sees_what_was_just_written(tmp_path):
    store = SQLiteStore(str(tmp_path / "r.db"))
    store.migrate()
    try:
        user = store.create_user("alice", "hash")
        assert store.get_user(user.id) is not None
        store.update_user(user.id, {"display_name": "Alice"})
        assert store.get_user(user.id).display_name == "Alice"
    finally:
        store.close()


def test_reads_by_key_use_the_read_connection_and_writes_the_writer(tmp_path):
    """What `_read` is for: a read by key never touches the writer's connection (so it
    needs no hop to the pool), and a write never touches the read-only one."""
    store = SQLiteStore(str(tmp_path / "r.db"))
    store.migrate()
    reads: list[str] = []
    writes: list[str] = []
    store._reader.set_trace_callback(reads.append)
    store._conn.set_trace_callback(writes.append)
    try:
        user = store.create_user("alice", "hash")
        assert writes and not reads
        writes.clear()
        assert store.get_user(user.id).username == "alice"
        assert reads and not writes
    finally:
        store.close()


def test_a_refused_read_is_made_on_the_pool_instead(tmp_path):
    """The read connection never waits (busy timeout 0): when SQLite refuses it, the
    read is made on the writer's connection instead. Refusing it for real here: the
    read connection is pointed at a file that another connection holds exclusively."""
    store = SQLiteStore(str(tmp_path / "r.db"))
    store.migrate()
    user = store.create_user("alice", "hash")
    held = str(tmp_path / "held.db")
    holder = sqlite3.connect(held, isolation_level=None)
    holder.execute("CREATE TABLE users (id TEXT)")
    holder.execute("BEGIN EXCLUSIVE")
    store._reader.close()
    store._reader = sqlite3.connect(held, isolation_level=None, timeout=0)
    try:
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            store._reader.execute("SELECT 1 FROM users").fetchone()
        found = store.get_user(user.id)
        assert found is not None and found.username == "alice"
    finally:
        holder.close()
        store.close()
