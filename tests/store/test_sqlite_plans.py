"""Every query the SQLite store sends for history is served by an index.

The statements are captured as SQLite runs them (values bound in) and put through
EXPLAIN QUERY PLAN: a full scan of messages or memberships would show as `SCAN`. The
one `SCAN` allowed is of the full-text index itself (`SCAN f VIRTUAL TABLE INDEX …`),
which is FTS5 reading the postings of the words searched for, not a table.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chat.domain.models import VerificationCode, now
from chat.store.sqlite import SQLiteStore


@pytest.fixture
def busy(tmp_path):
    store = SQLiteStore(str(tmp_path / "plans.db"))
    store.migrate()
    alice = store.create_user("alice", "hash", display_name="Alice A")
    bob = store.create_user("bob", "hash", display_name="Bob")
    rooms = [
        store.create_room(name=f"room{n}", kind="group", visibility="public", owner_id=alice.id)
        for n in range(3)
    ]
    for room in rooms:
        for _ in range(5):
            store.add_message(room_id=room.id, author_id=alice.id, content="m", client_id=None)
    store.open_direct_room(alice.id, bob.id)
    store.tombstone_message(rooms[0].id, store.list_messages(rooms[0].id).messages[1].id)
    yield store, alice, rooms
    store.close()


def plans_of(store: SQLiteStore, call) -> list[tuple[str, str]]:
    seen: list[str] = []
    connections = [store._conn, store._reader]  # the writer's and the hub's reads
    for connection in connections:
        connection.set_trace_callback(seen.append)
    try:
        call()
    finally:
        for connection in connections:
            connection.set_trace_callback(None)
    plans = []
    for sql in seen:
        if sql.lstrip().upper().startswith(("SELECT", "UPDATE", "DELETE")):
            rows = store._conn.execute("EXPLAIN QUERY PLAN " + sql).fetchall()
            plans += [(sql, row[3]) for row in rows]
    return plans


CALLS = {
    "newest page": lambda s, u, r: s.list_messages(r[0].id),
    "page before": lambda s, u, r: s.list_messages(r[0].id, before=4, limit=2),
    "page after": lambda s, u, r: s.list_messages(r[0].id, after=1, limit=2),
    "page between": lambda s, u, r: s.list_messages(r[0].id, after=1, before=4),
    "post": lambda s, u, r: s.add_message(room_id=r[0].id, author_id=u.id, content="x"),
    "post with client_id": lambda s, u, r: s.add_message(
        room_id=r[0].id, author_id=u.id, content="x", client_id="c1"
    ),
    "last messages": lambda s, u, r: s.last_messages([s.get_room(room.id) for room in r]),
    "one message": lambda s, u, r: s.get_message(r[0].id, "nope"),
    "members": lambda s, u, r: s.list_members(r[0].id),
    "my memberships": lambda s, u, r: s.get_memberships(u.id, [room.id for room in r]),
    "mark read": lambda s, u, r: s.mark_read(r[0].id, u.id, 3),
    # accounts and moderation (issue 6)
    "search by username": lambda s, u, r: s.search_users("username", "al", None, 20),
    "search by username, next page": lambda s, u, r: s.search_users(
        "username", "al", ("alice", u.id), 20
    ),
    "search by display name": lambda s, u, r: s.search_users("display_name", "Al", None, 20),
    "search by display name, next page": lambda s, u, r: s.search_users(
        "display_name", "al", ("alice a", u.id), 20
    ),
    "update profile": lambda s, u, r: s.update_user(u.id, {"display_name": "Al"}),
    "sign in": lambda s, u, r: s.create_session(u.id, datetime.now(UTC) + timedelta(hours=1)),
    "session check": lambda s, u, r: s.get_session("nope"),
    "sign out": lambda s, u, r: s.end_session("nope"),
    "sign out everywhere": lambda s, u, r: s.end_user_sessions(u.id),
    "join": lambda s, u, r: s.join_room(r[1].id, s.create_user("joiner", "h").id),
    "leave, passing ownership": lambda s, u, r: s.leave_room(r[2].id, u.id),
    "removal": lambda s, u, r: s.leave_room(r[0].id, "nobody", ban=True, roles=("member",)),
    "invite": lambda s, u, r: s.invite_member(r[0].id, s.create_user("guest", "h").id),
    "transfer": lambda s, u, r: s.transfer_ownership(r[0].id, u.id, "nobody"),
    "ban check": lambda s, u, r: s.is_banned(r[0].id, u.id),
    "room update": lambda s, u, r: s.update_room(r[0].id, {"description": "d"}),
    "room deletion": lambda s, u, r: s.delete_room(r[1].id),
    "code resend": lambda s, u, r: s.put_verification_code(
        VerificationCode(u.id, "h", now(), now()), now()
    ),
    "code attempt": lambda s, u, r: s.use_verification_attempt(u.id, now(), 5),
    # messages, conversations and presence (issue 7)
    "edit": lambda s, u, r: s.edit_message(r[0].id, "nope", "x", now()),
    "search": lambda s, u, r: s.search_messages(r[0].id, ["m", "x"]),
    "search before": lambda s, u, r: s.search_messages(r[0].id, ["m"], before=4, limit=2),
    "deleted after markers": lambda s, u, r: s.count_deleted_after({room.id: 1 for room in r}),
    "open direct room": lambda s, u, r: s.open_direct_room(u.id, "someone"),
    "conversations": lambda s, u, r: s.list_direct_rooms(u.id),
    "conversations after a cursor": lambda s, u, r: s.list_direct_rooms(
        u.id, before=(now(), "zzz"), limit=5
    ),
    "rooms of a user": lambda s, u, r: s.member_room_ids(u.id),
    "last seen": lambda s, u, r: s.set_last_seen(u.id, now()),
}


@pytest.mark.parametrize("name", CALLS)
def test_queries_use_an_index(busy, name):
    store, alice, rooms = busy
    plans = plans_of(store, lambda: CALLS[name](store, alice, rooms))
    assert plans, "the call ran no query"
    scans = [
        (sql, plan)
        for sql, plan in plans
        if plan.startswith("SCAN") and not plan.startswith("SCAN f VIRTUAL TABLE INDEX")
    ]
    assert scans == []
    assert not any("TEMP B-TREE" in plan and "messages" in sql for sql, plan in plans)


def test_a_search_reads_the_index_not_the_room(busy):
    """The search's plan: the FTS index (MATCH), then each hit's row by its key."""
    store, alice, rooms = busy
    plans = plans_of(store, lambda: store.search_messages(rooms[0].id, ["m"]))
    details = [plan for _, plan in plans]
    assert any(p.startswith("SCAN f VIRTUAL TABLE INDEX") and ":M" in p for p in details)
    assert "SEARCH m USING INTEGER PRIMARY KEY (rowid=?)" in details
