"""The SQLite store's schema, as ordered, versioned steps run at every start.

`schema_migrations` records each step applied. At start the pending steps run in order
inside one `BEGIN IMMEDIATE` transaction, so two processes starting on one file at once
migrate it once, and a failed step leaves the file as it was. Every step is idempotent
(it checks before it changes), so a file whose history predates the table — a database
written by the first release, version 0 — is brought up to date safely.

A new step is appended to `STEPS` with the next version; a step is never edited once
released. `tests/store/test_migrations.py` opens files written by older layouts.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from ...domain.models import fold


@dataclass(frozen=True)
class Step:
    version: int
    name: str
    apply: Callable[[sqlite3.Connection], None]


def _script(sql: str) -> Callable[[sqlite3.Connection], None]:
    def run(conn: sqlite3.Connection) -> None:
        for statement in _statements(sql):
            conn.execute(statement)

    return run


def _statements(sql: str) -> list[str]:
    """Split a script into statements, a trigger's `BEGIN … END;` body kept whole.

    (`executescript` would do it, but it commits first, and every step must run inside
    the one transaction `migrate` holds.)
    """
    statements, current = [], ""
    for piece in sql.split(";"):
        current += piece + ";"
        if sqlite3.complete_statement(current):
            if current.strip(" \n;"):
                statements.append(current.strip())
            current = ""
    return statements


def columns(conn: sqlite3.Connection, table: str) -> set[str]:
    """The table's columns: what a step adding one checks first."""
    return {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}


# The layout of the first release (version 1): what `instance/chat.db` files hold today.
CORE = """
CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL,
    username_key TEXT NOT NULL,
    email TEXT,
    email_key TEXT,
    password_hash TEXT NOT NULL,
    display_name TEXT,
    avatar_url TEXT,
    created_at TEXT NOT NULL,
    last_seen TEXT,
    deleted INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX IF NOT EXISTS users_username ON users(username_key);
CREATE UNIQUE INDEX IF NOT EXISTS users_email ON users(email_key) WHERE email_key IS NOT NULL;

CREATE TABLE IF NOT EXISTS revoked_tokens (
    jti TEXT PRIMARY KEY,
    expires_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS revoked_tokens_expiry ON revoked_tokens(expires_at);

CREATE TABLE IF NOT EXISTS rooms (
    id TEXT PRIMARY KEY,
    name TEXT,
    name_key TEXT,
    kind TEXT NOT NULL,
    visibility TEXT NOT NULL,
    owner_id TEXT,
    description TEXT NOT NULL DEFAULT '',
    password_hash TEXT,
    created_at TEXT NOT NULL,
    last_seq INTEGER NOT NULL DEFAULT 0,
    direct_key TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS rooms_name ON rooms(name_key) WHERE name_key IS NOT NULL;
CREATE UNIQUE INDEX IF NOT EXISTS rooms_direct ON rooms(direct_key) WHERE direct_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS rooms_listing ON rooms(kind, visibility, created_at);

CREATE TABLE IF NOT EXISTS memberships (
    room_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    role TEXT NOT NULL,
    joined_at TEXT NOT NULL,
    last_read_seq INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (room_id, user_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS memberships_user ON memberships(user_id, room_id);

CREATE TABLE IF NOT EXISTS messages (
    id TEXT PRIMARY KEY,
    room_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    author_id TEXT,
    content TEXT NOT NULL,
    type TEXT NOT NULL DEFAULT 'text',
    reply_to TEXT,
    client_id TEXT,
    created_at TEXT NOT NULL,
    edited_at TEXT,
    deleted INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX IF NOT EXISTS messages_room_seq ON messages(room_id, seq);
CREATE UNIQUE INDEX IF NOT EXISTS messages_client
    ON messages(room_id, author_id, client_id) WHERE client_id IS NOT NULL;
"""


# -- version 2: accounts and moderation (issue 6) -----------------------------------
ACCOUNTS = """
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    ended_at TEXT
);
CREATE INDEX IF NOT EXISTS sessions_user ON sessions(user_id);

CREATE TABLE IF NOT EXISTS verification_codes (
    user_id TEXT PRIMARY KEY,
    code_hash TEXT NOT NULL,
    sent_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE IF NOT EXISTS room_bans (
    room_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (room_id, user_id)
) WITHOUT ROWID;

DROP TABLE IF EXISTS revoked_tokens
"""


def _accounts(conn: sqlite3.Connection) -> None:
    """Sessions replace revoked tokens (a token names its session, which logout ends);
    accounts gain `verified` (true for every account made before: none of them was asked
    for a code) and `display_key`, the folded display name user search ranges over."""
    _script(ACCOUNTS)(conn)
    have = columns(conn, "users")
    if "verified" not in have:
        conn.execute("ALTER TABLE users ADD COLUMN verified INTEGER NOT NULL DEFAULT 1")
    if "display_key" not in have:
        conn.execute("ALTER TABLE users ADD COLUMN display_key TEXT")
    rows = conn.execute(
        "SELECT id, display_name FROM users WHERE display_name IS NOT NULL AND display_key IS NULL"
    ).fetchall()
    conn.executemany(
        "UPDATE users SET display_key = ? WHERE id = ?",
        [(fold(name), user_id) for user_id, name in rows],
    )
    conn.execute("CREATE INDEX IF NOT EXISTS users_display ON users(display_key, id)")
    _repair_owners(conn)


def _repair_owners(conn: sqlite3.Connection) -> None:
    """Rooms that the first release's leave/join race left with members but no owner
    get one: the longest-standing admin, else member, as a leave would have chosen."""
    orphans = conn.execute(
        "SELECT id FROM rooms WHERE owner_id IS NULL"
        " AND EXISTS (SELECT 1 FROM memberships WHERE room_id = rooms.id)"
    ).fetchall()
    for (room_id,) in orphans:
        (heir,) = conn.execute(
            "SELECT user_id FROM memberships WHERE room_id = ?"
            " ORDER BY role != 'admin', joined_at, user_id LIMIT 1",
            (room_id,),
        ).fetchone()
        conn.execute(
            "UPDATE memberships SET role = 'admin' WHERE room_id = ? AND role = 'owner'",
            (room_id,),
        )
        conn.execute(
            "UPDATE memberships SET role = 'owner' WHERE room_id = ? AND user_id = ?",
            (room_id, heir),
        )
        conn.execute("UPDATE rooms SET owner_id = ? WHERE id = ?", (heir, room_id))


# -- version 3: messages get a stable integer key, full-text search and a tombstone index

# The columns of `messages` this step knows how to carry over. A column it does not
# know (added by a step it was not written with) stops the migration rather than be lost.
MESSAGE_COLUMNS = (
    "id",
    "room_id",
    "seq",
    "author_id",
    "content",
    "type",
    "reply_to",
    "client_id",
    "created_at",
    "edited_at",
    "deleted",
)

# The full-text index is an FTS5 external-content table over `messages`, keyed by the
# `pk` column. `room_id` is indexed as a column of its own so that a search names its
# room inside MATCH, and FTS5 intersects the room's postings with the words' (it seeks,
# it does not read the room). Tombstones are not indexed. Triggers keep it in step in
# the same transaction as every insert, edit, tombstone and deletion.
SEARCH = """
CREATE VIRTUAL TABLE IF NOT EXISTS messages_fts USING fts5(
    content, room_id, content='messages', content_rowid='pk',
    tokenize='unicode61 remove_diacritics 2'
);
CREATE TRIGGER IF NOT EXISTS messages_fts_insert AFTER INSERT ON messages
WHEN new.deleted = 0 BEGIN
    INSERT INTO messages_fts (rowid, content, room_id)
        VALUES (new.pk, new.content, new.room_id);
END;
CREATE TRIGGER IF NOT EXISTS messages_fts_update AFTER UPDATE OF content, deleted ON messages
BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content, room_id)
        SELECT 'delete', old.pk, old.content, old.room_id WHERE old.deleted = 0;
    INSERT INTO messages_fts (rowid, content, room_id)
        SELECT new.pk, new.content, new.room_id WHERE new.deleted = 0;
END;
CREATE TRIGGER IF NOT EXISTS messages_fts_delete AFTER DELETE ON messages
WHEN old.deleted = 0 BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content, room_id)
        VALUES ('delete', old.pk, old.content, old.room_id);
END;
CREATE INDEX IF NOT EXISTS messages_deleted ON messages(room_id, seq) WHERE deleted = 1;
"""


def _integer_keyed_messages(conn: sqlite3.Connection) -> None:
    """Rebuild `messages` with `pk INTEGER PRIMARY KEY`, keeping every row's rowid.

    The full-text index points at messages by rowid, and the rowids of a table without
    an INTEGER PRIMARY KEY are not part of its data: the sqlite3 shell's `.dump` (a
    common backup) leaves them out unless told `--preserve-rowids`, and SQLite says
    VACUUM may renumber them. Restored or vacuumed, such a file would point every
    search at the wrong messages. An explicit key is data and never changes. Message
    ids stay unique through their own index.
    """
    present = columns(conn, "messages")
    if "pk" in present:
        return
    unknown = present - set(MESSAGE_COLUMNS)
    if unknown:
        raise RuntimeError(f"messages has columns this migration does not know: {unknown}")
    names = ", ".join(MESSAGE_COLUMNS)
    _script(
        f"""
        CREATE TABLE messages_rebuilt (
            pk INTEGER PRIMARY KEY,
            id TEXT NOT NULL,
            room_id TEXT NOT NULL,
            seq INTEGER NOT NULL,
            author_id TEXT,
            content TEXT NOT NULL,
            type TEXT NOT NULL DEFAULT 'text',
            reply_to TEXT,
            client_id TEXT,
            created_at TEXT NOT NULL,
            edited_at TEXT,
            deleted INTEGER NOT NULL DEFAULT 0
        );
        INSERT INTO messages_rebuilt (pk, {names}) SELECT rowid, {names} FROM messages;
        DROP TABLE messages;
        ALTER TABLE messages_rebuilt RENAME TO messages;
        CREATE UNIQUE INDEX messages_id ON messages(id);
        CREATE UNIQUE INDEX messages_room_seq ON messages(room_id, seq);
        CREATE UNIQUE INDEX messages_client
            ON messages(room_id, author_id, client_id) WHERE client_id IS NOT NULL
        """
    )(conn)


def _searchable_messages(conn: sqlite3.Connection) -> None:
    _integer_keyed_messages(conn)
    exists = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'messages_fts'"
    ).fetchone()
    for statement in _statements(SEARCH):
        conn.execute(statement)
    if not exists:  # index what is already there, tombstones excepted
        conn.execute(
            "INSERT INTO messages_fts (rowid, content, room_id)"
            " SELECT pk, content, room_id FROM messages WHERE deleted = 0"
        )


# -- version 4: rooms know their last activity and, if direct, their two participants


def _room_activity(conn: sqlite3.Connection) -> None:
    present = columns(conn, "rooms")
    for column in ("last_activity_at", "direct_a", "direct_b"):
        if column not in present:
            conn.execute(f"ALTER TABLE rooms ADD COLUMN {column} TEXT")
    # A room's last activity: its newest message, else its creation.
    conn.execute(
        "UPDATE rooms SET last_activity_at = COALESCE("
        " (SELECT m.created_at FROM messages m WHERE m.room_id = rooms.id"
        "  AND m.seq = rooms.last_seq), created_at)"
        " WHERE last_activity_at IS NULL"
    )
    conn.execute(
        "UPDATE rooms SET direct_a = substr(direct_key, 1, instr(direct_key, ':') - 1),"
        " direct_b = substr(direct_key, instr(direct_key, ':') + 1)"
        " WHERE kind = 'direct' AND direct_a IS NULL AND direct_key LIKE '%_:_%'"
    )
    for side in ("a", "b"):
        conn.execute(
            f"CREATE INDEX IF NOT EXISTS rooms_direct_{side}"
            f" ON rooms(direct_{side}, last_activity_at, id) WHERE kind = 'direct'"
        )


STEPS: list[Step] = [
    Step(1, "the first release's tables and indexes", _script(CORE)),
    Step(2, "sessions, verification codes, room bans, display-name search", _accounts),
    Step(3, "messages: a stable integer key, full-text search, tombstones", _searchable_messages),
    Step(4, "rooms: last activity and direct participants", _room_activity),
]


def migrate(conn: sqlite3.Connection) -> list[int]:
    """Apply the pending steps; return the versions applied (none when up to date)."""
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    conn.execute("BEGIN IMMEDIATE")
    try:
        done = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
        applied = []
        for step in STEPS:
            if step.version in done:
                continue
            step.apply(conn)
            conn.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                (step.version, step.name, datetime.now(UTC).isoformat(timespec="seconds")),
            )
            applied.append(step.version)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return applied


def version(conn: sqlite3.Connection) -> int:
    row = conn.execute("SELECT MAX(version) FROM schema_migrations").fetchone()
    return row[0] or 0
