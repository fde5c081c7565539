"""The embedded store: one SQLite file in WAL mode, stdlib `sqlite3` only.

One connection per process, guarded by an OS lock and used from the thread pool
(`offload`), so a slow disk or a lock wait never stalls the eventlet/gevent hub.
Transactions are explicit (`BEGIN IMMEDIATE`), which is what makes seq allocation
atomic across threads and across processes sharing the file.
"""

from __future__ import annotations

import functools
import os
import secrets
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from ..concurrency import offload, os_lock
from ..domain.errors import DuplicateError, StoreError
from ..domain.models import (
    JoinResult,
    LeaveResult,
    LoginSession,
    Membership,
    Message,
    NewPost,
    Page,
    Posted,
    Role,
    Room,
    User,
    VerificationCode,
    direct_key,
    direct_pair,
    fold,
    now,
    to_millisecond,
)
from ..domain.store import ROOM_FIELDS, USER_FIELDS, SearchField, Store
from .migrations import sqlite as migrations

_UNIQUE_FIELDS = {
    "users.username_key": "username",
    "users.email_key": "email",
    "rooms.name_key": "name",
    "rooms.direct_key": "direct_key",
}


SYNCHRONOUS = ("NORMAL", "FULL", "EXTRA")


def _new_id() -> str:
    return secrets.token_hex(12)


def _ts(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat(timespec="milliseconds")


def _dt(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _dt_or_none(value: str | None) -> datetime | None:
    return None if value is None else _dt(value)


def _key(value: str | None) -> str | None:
    return None if value is None else fold(value)


# Above every real name's key (names are letters, digits and `_ . -`), so a deleted
# account's freed name can never clash with one, nor fall in a search's range.
DELETED_KEY = "~deleted~"
# The highest code point: `key < prefix + TOP` bounds the keys that start with `prefix`.
TOP = "\U0010ffff"


def _duplicate(error: sqlite3.IntegrityError) -> DuplicateError:
    text = str(error)
    for column, name in _UNIQUE_FIELDS.items():
        if column in text:
            return DuplicateError(name)
    return DuplicateError("id")


def _user(row: sqlite3.Row) -> User:
    return User(
        id=row["id"],
        username=row["username"],
        password_hash=row["password_hash"],
        created_at=_dt(row["created_at"]),
        email=row["email"],
        display_name=row["display_name"],
        avatar_url=row["avatar_url"],
        last_seen=_dt_or_none(row["last_seen"]),
        deleted=bool(row["deleted"]),
        verified=bool(row["verified"]),
    )


def _room(row: sqlite3.Row) -> Room:
    return Room(
        id=row["id"],
        name=row["name"],
        kind=row["kind"],
        visibility=row["visibility"],
        owner_id=row["owner_id"],
        created_at=_dt(row["created_at"]),
        description=row["description"],
        password_hash=row["password_hash"],
        last_seq=row["last_seq"],
        direct_key=row["direct_key"],
        last_activity_at=_dt_or_none(row["last_activity_at"]),
    )


def _membership(row: sqlite3.Row) -> Membership:
    return Membership(
        room_id=row["room_id"],
        user_id=row["user_id"],
        role=row["role"],
        joined_at=_dt(row["joined_at"]),
        last_read_seq=row["last_read_seq"],
    )


def _message(row: sqlite3.Row) -> Message:
    return Message(
        id=row["id"],
        room_id=row["room_id"],
        seq=row["seq"],
        author_id=row["author_id"],
        content=row["content"],
        created_at=_dt(row["created_at"]),
        type=row["type"],
        reply_to=row["reply_to"],
        client_id=row["client_id"],
        edited_at=_dt_or_none(row["edited_at"]),
        deleted=bool(row["deleted"]),
    )


def _session(row: sqlite3.Row) -> LoginSession:
    return LoginSession(
        id=row["id"],
        user_id=row["user_id"],
        created_at=_dt(row["created_at"]),
        expires_at=_dt(row["expires_at"]),
        ended_at=_dt_or_none(row["ended_at"]),
    )


def _code(row: sqlite3.Row) -> VerificationCode:
    return VerificationCode(
        user_id=row["user_id"],
        code_hash=row["code_hash"],
        sent_at=_dt(row["sent_at"]),
        expires_at=_dt(row["expires_at"]),
        attempts=row["attempts"],
    )


def _assignments(
    changes: Mapping[str, str | None], allowed: frozenset[str], keyed: dict[str, str]
) -> tuple[str, list[Any]]:
    """`SET` clause and values for `changes`; a field in `keyed` also sets its folded key
    column. Column names come from the allow-list only, never from the caller."""
    unknown = set(changes) - allowed
    if unknown:
        raise ValueError(f"cannot change {sorted(unknown)}")
    parts, values = [], []
    for column in sorted(changes):
        value = changes[column]
        parts.append(f"{column} = ?")
        values.append(value)
        if column in keyed:
            parts.append(f"{keyed[column]} = ?")
            values.append(_key(value))
    return ", ".join(parts), values


def _pooled(method: Callable[..., Any]) -> Callable[..., Any]:
    """Run a store method on the thread pool, holding the connection's lock."""

    @functools.wraps(method)
    def wrapper(self: SQLiteStore, *args: Any, **kwargs: Any) -> Any:
        def locked() -> Any:
            with self._lock:
                try:
                    return method(self, *args, **kwargs)
                except (sqlite3.OperationalError, sqlite3.ProgrammingError) as error:
                    # Locked too long, disk full, file gone, connection closed: the
                    # store is unavailable, which callers report as 503.
                    raise StoreError(str(error)) from error

        return offload(locked)

    return wrapper


# Set while a method runs on the hub's own read connection (see `_read`).
_on_reader: ContextVar[bool] = ContextVar("sqlite_on_reader", default=False)


def _read(method: Callable[..., Any]) -> Callable[..., Any]:
    """A read by key or by index: run where the caller is, on a read connection.

    A hop to the thread pool costs about 130 µs of waiting and a share of the hub's
    time; such a read costs about 8 µs, and a page of history well under a
    millisecond. Under WAL a reader never waits for the writer, so it cannot stall the
    hub on a commit; the read connection's busy timeout is zero, and in the rare case
    it is refused (a checkpoint or recovery holding the file), the read is done on
    the pool instead, where waiting is harmless. Greenlets do not switch inside a
    method, so the one read connection is never used by two of them at once.
    """
    pooled = _pooled(method)

    @functools.wraps(method)
    def wrapper(self: SQLiteStore, *args: Any, **kwargs: Any) -> Any:
        if self._reader is None:
            return pooled(self, *args, **kwargs)
        token = _on_reader.set(True)
        try:
            with self._reader_lock:
                return method(self, *args, **kwargs)
        except sqlite3.OperationalError:
            pass  # busy: wait for it on the pool
        except sqlite3.ProgrammingError as error:
            raise StoreError(str(error)) from error
        finally:
            _on_reader.reset(token)
        return pooled(self, *args, **kwargs)

    return wrapper


class SQLiteStore(Store):
    def __init__(self, path: str, synchronous: str = "NORMAL"):
        if synchronous.upper() not in SYNCHRONOUS:
            raise ValueError(f"SQLITE_SYNCHRONOUS must be one of {', '.join(SYNCHRONOUS)}")
        self.path = path
        if path != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        self._lock = os_lock()
        self._conn = sqlite3.connect(
            path, isolation_level=None, check_same_thread=False, timeout=5.0
        )
        self._conn.row_factory = sqlite3.Row
        self._conn.execute("PRAGMA journal_mode=WAL")
        # NORMAL: a commit survives the process dying (the WAL is in the OS's hands);
        # FULL also fsyncs the WAL at each commit, so it survives a power loss too.
        self._conn.execute(f"PRAGMA synchronous={synchronous.upper()}")
        self._reader_lock = os_lock()
        self._reader: sqlite3.Connection | None = None
        if path != ":memory:":  # a second connection to :memory: is another database
            self._reader = sqlite3.connect(
                path, isolation_level=None, check_same_thread=False, timeout=0
            )
            self._reader.row_factory = sqlite3.Row
            self._reader.execute("PRAGMA query_only=ON")

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """An immediate write transaction: takes the file's write lock up front."""
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield self._conn
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    def _db(self) -> sqlite3.Connection:
        """The read connection inside a `_read` method, else the writer's."""
        if _on_reader.get() and self._reader is not None:
            return self._reader
        return self._conn

    def _one(self, sql: str, *params: Any) -> sqlite3.Row | None:
        return self._db().execute(sql, params).fetchone()

    def _all(self, sql: str, *params: Any) -> list[sqlite3.Row]:
        return self._db().execute(sql, params).fetchall()

    # -- lifecycle -------------------------------------------------------
    @_pooled
    def migrate(self) -> list[int]:
        return migrations.migrate(self._conn)

    @_pooled
    def ping(self) -> None:
        self._one("SELECT 1")

    def backup(self, target: str) -> None:
        """SQLite's online backup API, on a connection of its own, in one step: one read
        transaction, which WAL lets the server's writer work beside, so the server keeps
        serving and the copy is a consistent snapshot. (Stepping page by page would
        restart whenever the server wrote meanwhile.)"""
        source = sqlite3.connect(self.path, timeout=30.0)
        copy = sqlite3.connect(target)
        try:
            with copy:
                source.backup(copy)
        finally:
            copy.close()
            source.close()

    def close(self) -> None:
        with self._lock:
            self._conn.close()
        with self._reader_lock:
            if self._reader is not None:
                self._reader.close()

    # -- users -----------------------------------------------------------
    @_pooled
    def create_user(
        self, username, password_hash, email=None, display_name=None, verified=True
    ) -> User:
        user = User(
            id=_new_id(),
            username=username,
            password_hash=password_hash,
            created_at=now(),
            email=email,
            display_name=display_name,
            verified=verified,
        )
        try:
            with self._tx() as conn:
                conn.execute(
                    "INSERT INTO users (id, username, username_key, email, email_key,"
                    " password_hash, display_name, display_key, created_at, verified)"
                    " VALUES (?,?,?,?,?,?,?,?,?,?)",
                    (
                        user.id,
                        username,
                        _key(username),
                        email,
                        _key(email),
                        password_hash,
                        display_name,
                        _key(display_name),
                        _ts(user.created_at),
                        int(verified),
                    ),
                )
        except sqlite3.IntegrityError as error:
            raise _duplicate(error) from error
        return user

    @_read
    def get_user(self, user_id: str) -> User | None:
        row = self._one("SELECT * FROM users WHERE id = ?", user_id)
        return _user(row) if row else None

    @_pooled
    def get_user_by_login(self, login: str) -> User | None:
        key = _key(login)
        row = self._one(
            "SELECT * FROM users WHERE deleted = 0 AND username_key = ?", key
        ) or self._one("SELECT * FROM users WHERE deleted = 0 AND email_key = ?", key)
        return _user(row) if row else None

    @_read
    def get_users(self, user_ids: list[str]) -> dict[str, User]:
        ids = list(set(user_ids))
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self._all(f"SELECT * FROM users WHERE id IN ({marks})", *ids)
        return {row["id"]: _user(row) for row in rows}

    # -- accounts (issue 6) ----------------------------------------------
    @_pooled
    def update_user(self, user_id: str, changes: Mapping[str, str | None]) -> User | None:
        assignments, values = _assignments(
            changes, USER_FIELDS, {"username": "username_key", "display_name": "display_key"}
        )
        try:
            with self._tx() as conn:
                conn.execute(
                    f"UPDATE users SET {assignments} WHERE id = ? AND deleted = 0",
                    (*values, user_id),
                )
                row = conn.execute(
                    "SELECT * FROM users WHERE id = ? AND deleted = 0", (user_id,)
                ).fetchone()
        except sqlite3.IntegrityError as error:
            raise _duplicate(error) from error
        return _user(row) if row else None

    @_pooled
    def set_password(self, user_id: str, password_hash: str) -> bool:
        with self._tx() as conn:
            cursor = conn.execute(
                "UPDATE users SET password_hash = ? WHERE id = ? AND deleted = 0",
                (password_hash, user_id),
            )
        return cursor.rowcount == 1

    @_pooled
    def set_verified(self, user_id: str) -> bool:
        with self._tx() as conn:
            cursor = conn.execute(
                "UPDATE users SET verified = 1 WHERE id = ? AND deleted = 0", (user_id,)
            )
            conn.execute("DELETE FROM verification_codes WHERE user_id = ?", (user_id,))
        return cursor.rowcount == 1

    @_pooled
    def anonymise_user(self, user_id: str, *, username: str, display_name: str) -> bool:
        with self._tx() as conn:
            cursor = conn.execute(
                "UPDATE users SET username = ?, username_key = ?, email = NULL,"
                " email_key = NULL, display_name = ?, display_key = NULL, avatar_url = NULL,"
                " password_hash = '', deleted = 1 WHERE id = ? AND deleted = 0",
                (username, DELETED_KEY + user_id, display_name, user_id),
            )
            conn.execute("DELETE FROM verification_codes WHERE user_id = ?", (user_id,))
        return cursor.rowcount == 1

    @_pooled
    def discard_user(self, user_id: str) -> bool:
        with self._tx() as conn:
            cursor = conn.execute(
                "DELETE FROM users WHERE id = ? AND verified = 0 AND deleted = 0", (user_id,)
            )
            if cursor.rowcount:
                conn.execute("DELETE FROM verification_codes WHERE user_id = ?", (user_id,))
        return cursor.rowcount == 1

    @_pooled
    def search_users(
        self, field: SearchField, prefix: str, after: tuple[str, str] | None, limit: int
    ) -> list[User]:
        column = {"username": "username_key", "display_name": "display_key"}[field]
        low = fold(prefix)
        clauses, params = [f"{column} >= ?", f"{column} < ?", "deleted = 0"], [low, low + TOP]
        if after is not None:
            # Start the range at the cursor, not at the prefix: page n reads no rows of
            # pages 1..n-1. Username keys are unique; display keys tie-break on the id.
            key, last_id = after
            params[0] = max(low, key)
            clauses.append(f"({column} > ? OR id > ?)")
            params += [key, last_id]
        rows = self._all(
            f"SELECT * FROM users WHERE {' AND '.join(clauses)} ORDER BY {column}, id LIMIT ?",
            *params,
            limit,
        )
        return [_user(row) for row in rows]

    # -- sign-in sessions ------------------------------------------------
    @_pooled
    def create_session(self, user_id: str, expires_at: datetime) -> LoginSession:
        session = LoginSession(
            id=_new_id(), user_id=user_id, created_at=now(), expires_at=to_millisecond(expires_at)
        )
        with self._tx() as conn:
            # A session past its expiry can never be presented again: sweep the user's.
            conn.execute(
                "DELETE FROM sessions WHERE user_id = ? AND expires_at < ?",
                (user_id, _ts(session.created_at)),
            )
            conn.execute(
                "INSERT INTO sessions (id, user_id, created_at, expires_at) VALUES (?,?,?,?)",
                (session.id, user_id, _ts(session.created_at), _ts(session.expires_at)),
            )
        return session

    @_read
    def get_session(self, session_id: str) -> LoginSession | None:
        row = self._one("SELECT * FROM sessions WHERE id = ?", session_id)
        return _session(row) if row else None

    @_pooled
    def end_session(self, session_id: str) -> bool:
        with self._tx() as conn:
            cursor = conn.execute(
                "UPDATE sessions SET ended_at = ? WHERE id = ? AND ended_at IS NULL",
                (_ts(now()), session_id),
            )
        return cursor.rowcount == 1

    @_pooled
    def end_user_sessions(self, user_id: str) -> list[str]:
        with self._tx() as conn:
            rows = conn.execute(
                "UPDATE sessions SET ended_at = ? WHERE user_id = ? AND ended_at IS NULL"
                " RETURNING id",
                (_ts(now()), user_id),
            ).fetchall()
        return [row["id"] for row in rows]

    # -- verification codes ----------------------------------------------
    @_pooled
    def put_verification_code(
        self, code: VerificationCode, resend_after: datetime
    ) -> datetime | None:
        with self._tx() as conn:
            row = conn.execute(
                "SELECT sent_at FROM verification_codes WHERE user_id = ? AND sent_at > ?",
                (code.user_id, _ts(resend_after)),
            ).fetchone()
            if row:
                return _dt(row["sent_at"])
            conn.execute(
                "INSERT OR REPLACE INTO verification_codes"
                " (user_id, code_hash, sent_at, expires_at, attempts) VALUES (?,?,?,?,?)",
                (
                    code.user_id,
                    code.code_hash,
                    _ts(code.sent_at),
                    _ts(code.expires_at),
                    code.attempts,
                ),
            )
        return None

    @_pooled
    def use_verification_attempt(
        self, user_id: str, at: datetime, max_attempts: int
    ) -> VerificationCode | None:
        with self._tx() as conn:
            row = conn.execute(
                "UPDATE verification_codes SET attempts = attempts + 1"
                " WHERE user_id = ? AND attempts < ? AND expires_at > ? RETURNING *",
                (user_id, max_attempts, _ts(at)),
            ).fetchone()
        return _code(row) if row else None

    @_pooled
    def delete_verification_code(self, user_id: str, code_hash: str | None = None) -> bool:
        sql, params = "DELETE FROM verification_codes WHERE user_id = ?", [user_id]
        if code_hash is not None:
            sql += " AND code_hash = ?"
            params.append(code_hash)
        with self._tx() as conn:
            cursor = conn.execute(sql, params)
        return cursor.rowcount == 1

    # -- rooms -----------------------------------------------------------
    @_pooled
    def create_room(
        self,
        *,
        name,
        kind,
        visibility,
        owner_id,
        description="",
        password_hash=None,
        direct_key=None,
    ) -> Room:
        room = Room(
            id=_new_id(),
            name=name,
            kind=kind,
            visibility=visibility,
            owner_id=owner_id,
            created_at=now(),
            description=description,
            password_hash=password_hash,
            direct_key=direct_key,
        )
        room.last_activity_at = room.created_at
        try:
            with self._tx() as conn:
                self._insert_room(conn, room)
                conn.execute(
                    "INSERT INTO memberships (room_id, user_id, role, joined_at)"
                    " VALUES (?, ?, 'owner', ?)",
                    (room.id, owner_id, _ts(room.created_at)),
                )
        except sqlite3.IntegrityError as error:
            raise _duplicate(error) from error
        return room

    @staticmethod
    def _insert_room(conn: sqlite3.Connection, room: Room) -> None:
        pair = direct_pair(room.direct_key) if room.kind == "direct" else None
        conn.execute(
            "INSERT INTO rooms (id, name, name_key, kind, visibility, owner_id, description,"
            " password_hash, created_at, direct_key, last_activity_at, direct_a, direct_b)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                room.id,
                room.name,
                _key(room.name) if room.kind == "group" else None,
                room.kind,
                room.visibility,
                room.owner_id,
                room.description,
                room.password_hash,
                _ts(room.created_at),
                room.direct_key,
                _ts(room.last_activity_at),
                pair[0] if pair else None,
                pair[1] if pair else None,
            ),
        )

    @_read
    def get_room(self, room_id: str) -> Room | None:
        row = self._one("SELECT * FROM rooms WHERE id = ?", room_id)
        return _room(row) if row else None

    @_pooled
    def list_rooms(self, user_id: str, scope: str) -> list[Room]:
        joined = "id IN (SELECT room_id FROM memberships WHERE user_id = :user)"
        public = "(kind = 'group' AND visibility = 'public')"
        where = {"joined": joined, "public": public, "all": f"{public} OR {joined}"}[scope]
        rows = self._conn.execute(
            f"SELECT * FROM rooms WHERE {where} ORDER BY created_at, id", {"user": user_id}
        ).fetchall()
        return [_room(row) for row in rows]

    @_read
    def member_counts(self, room_ids: list[str]) -> dict[str, int]:
        if not room_ids:
            return {}
        marks = ",".join("?" * len(room_ids))
        rows = self._all(
            f"SELECT room_id, COUNT(*) AS n FROM memberships WHERE room_id IN ({marks})"
            " GROUP BY room_id",
            *room_ids,
        )
        return {row["room_id"]: row["n"] for row in rows}

    @_pooled
    def add_member(self, room_id: str, user_id: str, role: str = "member") -> bool:
        with self._tx() as conn:
            cursor = conn.execute(
                "INSERT OR IGNORE INTO memberships (room_id, user_id, role, joined_at)"
                " VALUES (?, ?, ?, ?)",
                (room_id, user_id, role, _ts(now())),
            )
        return cursor.rowcount == 1

    @_pooled
    def set_role(self, room_id: str, user_id: str, role: Role) -> bool:
        if role not in ("admin", "member"):
            raise ValueError("ownership moves by transfer_ownership only")
        with self._tx() as conn:
            cursor = conn.execute(
                "UPDATE memberships SET role = ? WHERE room_id = ? AND user_id = ?"
                " AND role != 'owner'",
                (role, room_id, user_id),
            )
        return cursor.rowcount == 1

    # -- ownership and moderation (issue 6) -----------------------------
    # Each call below is one BEGIN IMMEDIATE transaction: SQLite's write lock makes it
    # atomic against every other connection to the file, so no interleaving of leaves,
    # joins and removals can leave a room with members and no owner.
    @_pooled
    def join_room(self, room_id: str, user_id: str) -> JoinResult:
        with self._tx():
            if self._banned(room_id, user_id):
                return JoinResult(joined=False, banned=True)
            joined, owner = self._insert_member(room_id, user_id)
        return JoinResult(joined=joined, owner=owner)

    def _banned(self, room_id: str, user_id: str) -> bool:
        return (
            self._one("SELECT 1 FROM room_bans WHERE room_id = ? AND user_id = ?", room_id, user_id)
            is not None
        )

    def _insert_member(self, room_id: str, user_id: str) -> tuple[bool, bool]:
        """Inside a transaction: add a membership, adopting the room if it has no owner.
        (joined, became owner); LookupError when the room is gone."""
        room = self._one("SELECT owner_id FROM rooms WHERE id = ?", room_id)
        if room is None:
            raise LookupError(f"no room {room_id}")
        adopt = room["owner_id"] is None
        cursor = self._conn.execute(
            "INSERT OR IGNORE INTO memberships (room_id, user_id, role, joined_at)"
            " VALUES (?, ?, ?, ?)",
            (room_id, user_id, "owner" if adopt else "member", _ts(now())),
        )
        if cursor.rowcount == 0:
            return False, False
        if adopt:
            self._conn.execute("UPDATE rooms SET owner_id = ? WHERE id = ?", (user_id, room_id))
        return True, adopt

    @_pooled
    def leave_room(
        self,
        room_id: str,
        user_id: str,
        *,
        ban: bool = False,
        roles: tuple[Role, ...] | None = None,
    ) -> LeaveResult:
        with self._tx() as conn:
            row = conn.execute(
                "SELECT role FROM memberships WHERE room_id = ? AND user_id = ?",
                (room_id, user_id),
            ).fetchone()
            if row is None or (roles is not None and row["role"] not in roles):
                return LeaveResult(left=False)
            conn.execute(
                "DELETE FROM memberships WHERE room_id = ? AND user_id = ?", (room_id, user_id)
            )
            if ban:
                conn.execute(
                    "INSERT OR IGNORE INTO room_bans (room_id, user_id, created_at)"
                    " VALUES (?, ?, ?)",
                    (room_id, user_id, _ts(now())),
                )
            room = conn.execute("SELECT owner_id FROM rooms WHERE id = ?", (room_id,)).fetchone()
            owner_id = room["owner_id"] if room else None
            if owner_id != user_id:
                return LeaveResult(left=True, role=row["role"], owner_id=owner_id)
            heir = conn.execute(
                "SELECT user_id FROM memberships WHERE room_id = ?"
                " ORDER BY role != 'admin', joined_at, user_id LIMIT 1",
                (room_id,),
            ).fetchone()
            heir_id = heir["user_id"] if heir else None
            if heir_id:
                conn.execute(
                    "UPDATE memberships SET role = 'owner' WHERE room_id = ? AND user_id = ?",
                    (room_id, heir_id),
                )
            conn.execute("UPDATE rooms SET owner_id = ? WHERE id = ?", (heir_id, room_id))
        return LeaveResult(left=True, role=row["role"], owner_id=heir_id, owner_changed=True)

    @_pooled
    def invite_member(self, room_id: str, user_id: str) -> bool:
        with self._tx() as conn:
            conn.execute(
                "DELETE FROM room_bans WHERE room_id = ? AND user_id = ?", (room_id, user_id)
            )
            joined, _ = self._insert_member(room_id, user_id)
        return joined

    @_pooled
    def transfer_ownership(self, room_id: str, from_id: str, to_id: str) -> bool:
        with self._tx() as conn:
            owned = conn.execute(
                "SELECT 1 FROM rooms WHERE id = ? AND owner_id = ?", (room_id, from_id)
            ).fetchone()
            heir = conn.execute(
                "SELECT 1 FROM memberships WHERE room_id = ? AND user_id = ?", (room_id, to_id)
            ).fetchone()
            if not owned or not heir or from_id == to_id:
                return False
            conn.execute(
                "UPDATE memberships SET role = 'admin' WHERE room_id = ? AND user_id = ?",
                (room_id, from_id),
            )
            conn.execute(
                "UPDATE memberships SET role = 'owner' WHERE room_id = ? AND user_id = ?",
                (room_id, to_id),
            )
            conn.execute("UPDATE rooms SET owner_id = ? WHERE id = ?", (to_id, room_id))
        return True

    @_read
    def is_banned(self, room_id: str, user_id: str) -> bool:
        return self._banned(room_id, user_id)

    @_pooled
    def update_room(self, room_id: str, changes: Mapping[str, str | None]) -> Room | None:
        assignments, values = _assignments(changes, ROOM_FIELDS, {})
        if "name" in changes:  # only group rooms' names are unique
            assignments += ", name_key = CASE kind WHEN 'group' THEN ? END"
            values.append(_key(changes["name"]))
        try:
            with self._tx() as conn:
                conn.execute(f"UPDATE rooms SET {assignments} WHERE id = ?", (*values, room_id))
                row = conn.execute("SELECT * FROM rooms WHERE id = ?", (room_id,)).fetchone()
        except sqlite3.IntegrityError as error:
            raise _duplicate(error) from error
        return _room(row) if row else None

    @_pooled
    def delete_room(self, room_id: str) -> bool:
        with self._tx() as conn:
            for table in ("messages", "memberships", "room_bans"):
                conn.execute(f"DELETE FROM {table} WHERE room_id = ?", (room_id,))
            cursor = conn.execute("DELETE FROM rooms WHERE id = ?", (room_id,))
        return cursor.rowcount == 1

    @_read
    def get_membership(self, room_id: str, user_id: str) -> Membership | None:
        row = self._one(
            "SELECT * FROM memberships WHERE room_id = ? AND user_id = ?", room_id, user_id
        )
        return _membership(row) if row else None

    @_read
    def get_memberships(self, user_id: str, room_ids: list[str]) -> dict[str, Membership]:
        if not room_ids:
            return {}
        marks = ",".join("?" * len(room_ids))
        rows = self._all(
            f"SELECT * FROM memberships WHERE user_id = ? AND room_id IN ({marks})",
            user_id,
            *room_ids,
        )
        return {row["room_id"]: _membership(row) for row in rows}

    @_pooled
    def list_members(self, room_id: str) -> list[Membership]:
        rows = self._all(
            "SELECT * FROM memberships WHERE room_id = ? ORDER BY joined_at, user_id", room_id
        )
        return [_membership(row) for row in rows]

    @_pooled
    def mark_read(self, room_id: str, user_id: str, seq: int) -> int:
        with self._tx() as conn:
            conn.execute(
                "UPDATE memberships SET last_read_seq = MAX(last_read_seq, ?)"
                " WHERE room_id = ? AND user_id = ?",
                (seq, room_id, user_id),
            )
            row = conn.execute(
                "SELECT last_read_seq FROM memberships WHERE room_id = ? AND user_id = ?",
                (room_id, user_id),
            ).fetchone()
        return row["last_read_seq"] if row else 0

    # -- messages --------------------------------------------------------
    @_pooled
    def add_messages(self, posts: Sequence[NewPost]) -> list[Posted]:
        with self._tx() as conn:
            return [self._add_one(conn, post) for post in posts]

    def _add_one(self, conn: sqlite3.Connection, post: NewPost) -> Posted:
        """Inside the transaction: one post, as `add_messages` describes."""
        if post.client_id is not None:
            row = conn.execute(
                "SELECT * FROM messages WHERE room_id = ? AND author_id = ? AND client_id = ?",
                (post.room_id, post.author_id, post.client_id),
            ).fetchone()
            if row:
                return Posted(_message(row), False)
        created_at = now()
        row = conn.execute(
            "UPDATE rooms SET last_seq = last_seq + 1, last_activity_at = ?"
            " WHERE id = ? RETURNING last_seq",
            (_ts(created_at), post.room_id),
        ).fetchone()
        if row is None:
            return Posted(None, False)
        message = Message(
            id=_new_id(),
            room_id=post.room_id,
            seq=row["last_seq"],
            author_id=post.author_id,
            content=post.content,
            created_at=created_at,
            type=post.type,
            reply_to=post.reply_to,
            client_id=post.client_id,
        )
        conn.execute(
            "INSERT INTO messages (id, room_id, seq, author_id, content, type, reply_to,"
            " client_id, created_at) VALUES (?,?,?,?,?,?,?,?,?)",
            (
                message.id,
                post.room_id,
                message.seq,
                post.author_id,
                post.content,
                post.type,
                post.reply_to,
                post.client_id,
                _ts(created_at),
            ),
        )
        if post.read:
            conn.execute(
                "UPDATE memberships SET last_read_seq = MAX(last_read_seq, ?)"
                " WHERE room_id = ? AND user_id = ?",
                (message.seq, post.room_id, post.author_id),
            )
        return Posted(message, True)

    @_read
    def get_message(self, room_id: str, message_id: str) -> Message | None:
        row = self._one("SELECT * FROM messages WHERE id = ? AND room_id = ?", message_id, room_id)
        return _message(row) if row else None

    @_read
    def last_messages(self, rooms: list[Room]) -> dict[str, Message]:
        found: dict[str, Message] = {}
        for room in rooms:
            if room.last_seq:
                row = self._one(
                    "SELECT * FROM messages WHERE room_id = ? AND seq = ?", room.id, room.last_seq
                )
                if row:
                    found[room.id] = _message(row)
        return found

    @_read
    def list_messages(self, room_id, *, before=None, after=None, limit=50) -> Page:
        clauses, params = ["room_id = ?"], [room_id]
        if after is not None:
            clauses.append("seq > ?")
            params.append(after)
        if before is not None:
            clauses.append("seq < ?")
            params.append(before)
        order = "ASC" if after is not None else "DESC"
        rows = self._all(
            f"SELECT * FROM messages WHERE {' AND '.join(clauses)} ORDER BY seq {order} LIMIT ?",
            *params,
            limit + 1,
        )
        messages = [_message(row) for row in rows[:limit]]
        if order == "DESC":
            messages.reverse()
        return Page(messages=messages, has_more=len(rows) > limit)

    @_pooled
    def tombstone_message(self, room_id: str, message_id: str) -> Message | None:
        with self._tx() as conn:
            conn.execute(
                "UPDATE messages SET content = '', deleted = 1 WHERE id = ? AND room_id = ?",
                (message_id, room_id),
            )
            row = conn.execute(
                "SELECT * FROM messages WHERE id = ? AND room_id = ?", (message_id, room_id)
            ).fetchone()
        return _message(row) if row else None

    # -- messages: edits, search, read state -------------------------------
    @_pooled
    def edit_message(
        self, room_id: str, message_id: str, content: str, edited_at: datetime
    ) -> Message | None:
        with self._tx() as conn:
            row = conn.execute(
                "UPDATE messages SET content = ?, edited_at = ?"
                " WHERE id = ? AND room_id = ? AND deleted = 0 RETURNING *",
                (content, _ts(edited_at), message_id, room_id),
            ).fetchone()
        return _message(row) if row else None

    @_pooled
    def search_messages(
        self, room_id: str, words: list[str], *, before: int | None = None, limit: int = 20
    ) -> Page:
        if not words:
            return Page(messages=[], has_more=False)
        # Newest first is the FTS index's own rowid order, read backwards and stopped at
        # the limit. Within a room, pk order is seq order (both are allocated under the
        # write lock of the insert), so `before` a seq is below that message's pk.
        bound = None
        if before is not None:
            row = self._one(
                "SELECT pk FROM messages WHERE room_id = ? AND seq >= ? ORDER BY seq LIMIT 1",
                room_id,
                before,
            )
            bound = row["pk"] if row else None  # past the newest: no bound
        sql = (
            "SELECT m.* FROM messages_fts f JOIN messages m ON m.pk = f.rowid"
            " WHERE messages_fts MATCH ? AND m.room_id = ?"
            + (" AND f.rowid < ?" if bound is not None else "")
            + " ORDER BY f.rowid DESC LIMIT ?"
        )
        params: list[Any] = [_match(room_id, words), room_id]
        if bound is not None:
            params.append(bound)
        rows = self._all(sql, *params, limit + 1)
        messages = [_message(row) for row in rows[:limit]]
        return Page(messages=messages, has_more=len(rows) > limit)

    @_read
    def count_deleted_after(self, markers: dict[str, int]) -> dict[str, int]:
        counted: dict[str, int] = {}
        for room_id, marker in markers.items():
            row = self._one(
                "SELECT COUNT(*) AS n FROM messages WHERE room_id = ? AND seq > ? AND deleted = 1",
                room_id,
                marker,
            )
            if row and row["n"]:
                counted[room_id] = row["n"]
        return counted

    # -- direct conversations ----------------------------------------------
    @_pooled
    def open_direct_room(self, user_a: str, user_b: str) -> tuple[Room, bool]:
        key = direct_key(user_a, user_b)
        # BEGIN IMMEDIATE holds the file's write lock from the look-up to the insert, so
        # of two openers at once (threads or processes) the second finds the first's room.
        with self._tx() as conn:
            row = conn.execute("SELECT * FROM rooms WHERE direct_key = ?", (key,)).fetchone()
            if row:
                return _room(row), False
            room = Room(
                id=_new_id(),
                name=None,
                kind="direct",
                visibility="private",
                owner_id=None,
                created_at=now(),
                direct_key=key,
            )
            room.last_activity_at = room.created_at
            self._insert_room(conn, room)
            for user_id in sorted({user_a, user_b}):
                conn.execute(
                    "INSERT INTO memberships (room_id, user_id, role, joined_at)"
                    " VALUES (?, ?, 'member', ?)",
                    (room.id, user_id, _ts(room.created_at)),
                )
        return room, True

    @_pooled
    def list_direct_rooms(
        self, user_id: str, *, before: tuple[datetime, str] | None = None, limit: int = 20
    ) -> tuple[list[Room], bool]:
        # The user is either participant of a pair: one index range per side, each in
        # activity order and cut at the limit, merged here.
        found: dict[str, Room] = {}
        for side in ("direct_a", "direct_b"):
            sql = f"SELECT * FROM rooms WHERE kind = 'direct' AND {side} = ?"
            params: list[Any] = [user_id]
            if before is not None:
                sql += " AND (last_activity_at, id) < (?, ?)"
                params += [_ts(before[0]), before[1]]
            sql += " ORDER BY last_activity_at DESC, id DESC LIMIT ?"
            for row in self._all(sql, *params, limit + 1):
                found[row["id"]] = _room(row)
        ordered = sorted(
            found.values(), key=lambda r: (_ts(r.last_activity_at) or "", r.id), reverse=True
        )
        return ordered[:limit], len(ordered) > limit

    # -- presence ----------------------------------------------------------
    @_pooled
    def member_room_ids(self, user_id: str) -> list[str]:
        rows = self._all("SELECT room_id FROM memberships WHERE user_id = ?", user_id)
        return [row["room_id"] for row in rows]

    @_pooled
    def set_last_seen(self, user_id: str, when: datetime) -> None:
        with self._tx() as conn:
            conn.execute("UPDATE users SET last_seen = ? WHERE id = ?", (_ts(when), user_id))


def _fts_string(text: str) -> str:
    """An FTS5 string token: whatever it holds is text to match, never query syntax."""
    return '"' + text.replace('"', '""') + '"'


def _match(room_id: str, words: list[str]) -> str:
    """The MATCH expression: the room, and every word, each quoted as a string."""
    terms = " AND ".join(_fts_string(word) for word in words)
    return f"room_id : {_fts_string(room_id)} AND content : ({terms})"
