"""The MongoDB store: PyMongo, one collection per table of the SQLite store.

Ids are `str(ObjectId())`, so ids are plain strings to every caller, and an id that
is not a valid ObjectId simply finds nothing. Uniqueness is enforced by unique
indexes on stored case-folded keys, and a refused write becomes `DuplicateError`;
nothing here checks-then-inserts. A room's seq counter lives on its document and is
advanced with one atomic `$inc`, which is what keeps seqs unique and gap-free across
processes without transactions (a standalone server has none).

Ownership (issue 6) is kept without transactions by ordering and conditional updates:
see `_settle_owner`.

PyMongo's sockets are cooperative under eventlet/gevent once patched, so unlike the
SQLite store nothing here is offloaded to the thread pool.

A `mongomock://host/db` URL gives the same store over mongomock, for tests. Each such
store has a private in-memory server: two of them never share data, and mongomock is
not thread-safe (its find-and-modify is a find then an update), so concurrency is only
meaningful against a real server.
"""

from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import pymongo
from bson import ObjectId
from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError, PyMongoError

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
from .migrations import mongo as migrations

# Which stored key each unique index guards, and the field name DuplicateError carries
# (the same names as the SQLite store's).
_UNIQUE_FIELDS = {
    "username_key": "username",
    "email_key": "email",
    "name_key": "name",
    "direct_key": "direct_key",
}

_IS_STRING = {"$type": "string"}
# As in the SQLite store: a deleted account's freed name key sorts above every real one.
DELETED_KEY = "~deleted~"
TOP = "\U0010ffff"
# How many read-fix rounds `_settle_owner` may take before calling the store broken: each
# round that does not end settled lost a race to another writer's conditional update.
SETTLE_ROUNDS = 50


# -- values in, values out ------------------------------------------------------
def _new_id() -> str:
    return str(ObjectId())


def _key(value: str | None) -> str | None:
    """The stored form unique indexes compare: case-folded, as the SQLite store does."""
    return None if value is None else fold(value)


def _text(value: Any) -> str:
    """An id or key for a filter: a string, never a caller's dict smuggling operators."""
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value


def _texts(values: Iterable[Any]) -> list[str]:
    return list(dict.fromkeys(_text(value) for value in values))


def _string_eq(value: Any) -> dict[str, Any]:
    """Equality on a field whose unique index is partial on `{"$type": "string"}`.

    MongoDB's planner uses a partial index only when the query itself implies the
    index's filter, and it does not infer `$type` from an equality: the `$type` is
    repeated so the look-up is an index hit instead of a scan.
    """
    return {"$eq": _text(value), **_IS_STRING}


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected an int, got {type(value).__name__}")
    return value


def _dt(value: datetime) -> datetime:
    """A stored time as aware UTC, whatever the driver handed back (naive means UTC)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _dt_or_none(value: datetime | None) -> datetime | None:
    return None if value is None else _dt(value)


def _user(doc: dict[str, Any]) -> User:
    return User(
        id=doc["_id"],
        username=doc["username"],
        password_hash=doc["password_hash"],
        created_at=_dt(doc["created_at"]),
        email=doc.get("email"),
        display_name=doc.get("display_name"),
        avatar_url=doc.get("avatar_url"),
        last_seen=_dt_or_none(doc.get("last_seen")),
        deleted=bool(doc.get("deleted", False)),
        verified=bool(doc.get("verified", True)),
    )


def _room(doc: dict[str, Any]) -> Room:
    return Room(
        id=doc["_id"],
        name=doc.get("name"),
        kind=doc["kind"],
        visibility=doc["visibility"],
        owner_id=doc.get("owner_id"),
        created_at=_dt(doc["created_at"]),
        description=doc.get("description", ""),
        password_hash=doc.get("password_hash"),
        last_seq=doc.get("last_seq", 0),
        direct_key=doc.get("direct_key"),
        last_activity_at=_dt_or_none(doc.get("last_activity_at")),
    )


def _membership(doc: dict[str, Any]) -> Membership:
    return Membership(
        room_id=doc["room_id"],
        user_id=doc["user_id"],
        role=doc["role"],
        joined_at=_dt(doc["joined_at"]),
        last_read_seq=doc.get("last_read_seq", 0),
    )


def _message(doc: dict[str, Any]) -> Message:
    return Message(
        id=doc["_id"],
        room_id=doc["room_id"],
        seq=doc["seq"],
        author_id=doc.get("author_id"),
        content=doc["content"],
        created_at=_dt(doc["created_at"]),
        type=doc.get("type", "text"),
        reply_to=doc.get("reply_to"),
        client_id=doc.get("client_id"),
        edited_at=_dt_or_none(doc.get("edited_at")),
        deleted=bool(doc.get("deleted", False)),
    )


def _session(doc: dict[str, Any]) -> LoginSession:
    return LoginSession(
        id=doc["_id"],
        user_id=doc["user_id"],
        created_at=_dt(doc["created_at"]),
        expires_at=_dt(doc["expires_at"]),
        ended_at=_dt_or_none(doc.get("ended_at")),
    )


def _code(doc: dict[str, Any]) -> VerificationCode:
    return VerificationCode(
        user_id=doc["_id"],
        code_hash=doc["code_hash"],
        sent_at=_dt(doc["sent_at"]),
        expires_at=_dt(doc["expires_at"]),
        attempts=doc.get("attempts", 0),
    )


def _changes(
    changes: Mapping[str, str | None], allowed: frozenset[str], keyed: dict[str, str]
) -> dict[str, Any]:
    """A `$set` document for `changes`; a field in `keyed` also sets its folded key."""
    unknown = set(changes) - allowed
    if unknown:
        raise ValueError(f"cannot change {sorted(unknown)}")
    update: dict[str, Any] = {}
    for field, value in changes.items():
        update[field] = None if value is None else _text(value)
        if field in keyed:
            update[keyed[field]] = _key(update[field])
    return update


def _word_regex(word: str) -> dict[str, Any]:
    """The word, whole and ignoring case: what the text index matches, for mongomock."""
    return {"$regex": rf"(?<![^\W_]){re.escape(word)}(?![^\W_])", "$options": "i"}


def _room_doc(room: Room) -> dict[str, Any]:
    pair = direct_pair(room.direct_key) if room.kind == "direct" else None
    return {
        "_id": room.id,
        "name": room.name,
        "name_key": _key(room.name) if room.kind == "group" else None,
        "kind": room.kind,
        "visibility": room.visibility,
        "owner_id": room.owner_id,
        "description": room.description,
        "password_hash": room.password_hash,
        "created_at": room.created_at,
        "last_seq": room.last_seq,
        "direct_key": room.direct_key,
        "last_activity_at": room.last_activity_at,
        # A direct room's two members, for the (participants, activity) index.
        "participants": list(pair) if pair else None,
    }


def _message_doc(message: Message) -> dict[str, Any]:
    return {
        "_id": message.id,
        "room_id": message.room_id,
        "seq": message.seq,
        "author_id": message.author_id,
        "content": message.content,
        "type": message.type,
        "reply_to": message.reply_to,
        "client_id": message.client_id,
        "created_at": message.created_at,
        "edited_at": None,
        "deleted": message.deleted,
    }


def _guarded(method: Callable[..., Any]) -> Callable[..., Any]:
    """Turn driver failures (server gone, timeouts) into StoreError, as SQLite's do.

    Duplicate keys the method expects are handled inside it, before this sees them.
    """

    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except PyMongoError as error:
            raise StoreError(str(error)) from error

    return wrapper


class MongoStore(Store):
    def __init__(self, url: str):
        self._client: Any
        # mongomock has no $text: searches there match words by regular expression.
        self._mock = url.startswith("mongomock://")
        if self._mock:
            import mongomock  # a test dependency: only needed for this scheme

            # mongomock parses only mongodb:// URLs; the rest (host, database) is the same.
            self._client = mongomock.MongoClient(
                "mongodb://" + url[len("mongomock://") :], tz_aware=True
            )
        else:
            self._client = pymongo.MongoClient(url, tz_aware=True, serverSelectionTimeoutMS=5000)
        self._db = self._client.get_default_database(default="chat")
        self._users = self._db["users"]
        self._sessions = self._db["sessions"]
        self._codes = self._db["verification_codes"]
        self._rooms = self._db["rooms"]
        self._memberships = self._db["memberships"]
        self._bans = self._db["room_bans"]
        self._messages = self._db["messages"]

    def _duplicate(
        self, error: DuplicateKeyError, collection: Any, doc: dict[str, Any], keys: list[str]
    ) -> DuplicateError:
        """Name the unique key a refused insert clashed on.

        A real server says which index in `keyPattern`. mongomock says nothing, so then
        the clash is located by looking for another document holding one of `keys`:
        only a diagnosis after the index already refused the write, never a guard.
        """
        pattern = (error.details or {}).get("keyPattern") or {}
        for key in pattern:
            if key in _UNIQUE_FIELDS:
                return DuplicateError(_UNIQUE_FIELDS[key])
        for key in keys:
            value = doc.get(key)
            if isinstance(value, str) and collection.find_one(
                {key: value, "_id": {"$ne": doc["_id"]}}, {"_id": 1}
            ):
                return DuplicateError(_UNIQUE_FIELDS[key])
        return DuplicateError("id")

    # -- lifecycle -------------------------------------------------------
    @_guarded
    def migrate(self) -> list[int]:
        return migrations.migrate(self._db)

    def ping(self) -> None:
        try:
            self._db.command("ping")
        except PyMongoError as error:
            raise StoreError(str(error)) from error

    def backup(self, target: str) -> None:
        raise NotImplementedError(
            "back MongoDB up with its own tools (mongodump, or your provider's snapshots)"
        )

    def close(self) -> None:
        self._client.close()

    # -- users -----------------------------------------------------------
    @_guarded
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
        doc = {
            "_id": user.id,
            "username": username,
            "username_key": _key(username),
            "email": email,
            "email_key": _key(email),
            "password_hash": password_hash,
            "display_name": display_name,
            "display_key": _key(display_name),
            "avatar_url": None,
            "created_at": user.created_at,
            "last_seen": None,
            "deleted": False,
            "verified": bool(verified),
        }
        try:
            self._users.insert_one(doc)
        except DuplicateKeyError as error:
            raise self._duplicate(error, self._users, doc, ["username_key", "email_key"]) from error
        return user

    @_guarded
    def get_user(self, user_id: str) -> User | None:
        doc = self._users.find_one({"_id": _text(user_id)})
        return _user(doc) if doc else None

    @_guarded
    def get_user_by_login(self, login: str) -> User | None:
        key = _key(_text(login))
        doc = self._users.find_one({"deleted": False, "username_key": key}) or (
            self._users.find_one({"deleted": False, "email_key": _string_eq(key)})
        )
        return _user(doc) if doc else None

    @_guarded
    def get_users(self, user_ids: list[str]) -> dict[str, User]:
        ids = _texts(user_ids)
        if not ids:
            return {}
        return {doc["_id"]: _user(doc) for doc in self._users.find({"_id": {"$in": ids}})}

    # -- accounts (issue 6) ----------------------------------------------
    @_guarded
    def update_user(self, user_id: str, changes: Mapping[str, str | None]) -> User | None:
        update = _changes(
            changes, USER_FIELDS, {"username": "username_key", "display_name": "display_key"}
        )
        query = {"_id": _text(user_id), "deleted": False}
        try:
            doc = self._users.find_one_and_update(
                query, {"$set": update}, return_document=ReturnDocument.AFTER
            )
        except DuplicateKeyError as error:
            raise self._duplicate(
                error, self._users, {"_id": user_id, **update}, ["username_key"]
            ) from error
        return _user(doc) if doc else None

    @_guarded
    def set_password(self, user_id: str, password_hash: str) -> bool:
        result = self._users.update_one(
            {"_id": _text(user_id), "deleted": False},
            {"$set": {"password_hash": _text(password_hash)}},
        )
        return result.matched_count == 1

    @_guarded
    def set_verified(self, user_id: str) -> bool:
        result = self._users.update_one(
            {"_id": _text(user_id), "deleted": False}, {"$set": {"verified": True}}
        )
        self._codes.delete_one({"_id": user_id})
        return result.matched_count == 1

    @_guarded
    def anonymise_user(self, user_id: str, *, username: str, display_name: str) -> bool:
        user_id = _text(user_id)
        result = self._users.update_one(
            {"_id": user_id, "deleted": False},
            {
                "$set": {
                    "username": _text(username),
                    "username_key": DELETED_KEY + user_id,
                    "email": None,
                    "email_key": None,
                    "display_name": _text(display_name),
                    "display_key": None,
                    "avatar_url": None,
                    "password_hash": "",
                    "deleted": True,
                }
            },
        )
        self._codes.delete_one({"_id": user_id})
        return result.modified_count == 1

    @_guarded
    def discard_user(self, user_id: str) -> bool:
        user_id = _text(user_id)
        result = self._users.delete_one({"_id": user_id, "verified": False, "deleted": False})
        if result.deleted_count:
            self._codes.delete_one({"_id": user_id})
        return result.deleted_count == 1

    @_guarded
    def search_users(
        self, field: SearchField, prefix: str, after: tuple[str, str] | None, limit: int
    ) -> list[User]:
        column = {"username": "username_key", "display_name": "display_key"}[field]
        low = fold(_text(prefix))
        bounds: dict[str, Any] = {"$gte": low, "$lt": low + TOP}
        query: dict[str, Any] = {column: bounds, "deleted": False}
        order = [(column, ASCENDING)]
        if field == "display_name":
            order.append(("_id", ASCENDING))  # display names repeat; usernames do not
        if after is not None:
            # Start the range at the cursor, so page n reads no rows of the pages before.
            key, last_id = _text(after[0]), _text(after[1])
            bounds["$gte"] = max(low, key)
            query["$or"] = [{column: {"$gt": key}}, {"_id": {"$gt": last_id}}]
        cursor = self._users.find(query).sort(order).limit(max(_int(limit), 0))
        return [_user(doc) for doc in cursor]

    # -- sign-in sessions ------------------------------------------------
    @_guarded
    def create_session(self, user_id: str, expires_at: datetime) -> LoginSession:
        session = LoginSession(
            id=_new_id(),
            user_id=_text(user_id),
            created_at=now(),
            expires_at=to_millisecond(expires_at),
        )
        # The TTL index drops expired sessions too; this keeps mongomock's tidy as well.
        self._sessions.delete_many(
            {"user_id": session.user_id, "expires_at": {"$lt": session.created_at}}
        )
        self._sessions.insert_one(
            {
                "_id": session.id,
                "user_id": session.user_id,
                "created_at": session.created_at,
                "expires_at": session.expires_at,
                "ended_at": None,
            }
        )
        return session

    @_guarded
    def get_session(self, session_id: str) -> LoginSession | None:
        doc = self._sessions.find_one({"_id": _text(session_id)})
        return _session(doc) if doc else None

    @_guarded
    def end_session(self, session_id: str) -> bool:
        result = self._sessions.update_one(
            {"_id": _text(session_id), "ended_at": None}, {"$set": {"ended_at": now()}}
        )
        return result.modified_count == 1

    @_guarded
    def end_user_sessions(self, user_id: str) -> list[str]:
        live = {"user_id": _text(user_id), "ended_at": None}
        ids = [doc["_id"] for doc in self._sessions.find(live, {"_id": 1})]
        if ids:
            self._sessions.update_many(
                {"_id": {"$in": ids}, "ended_at": None}, {"$set": {"ended_at": now()}}
            )
        return ids

    # -- verification codes ----------------------------------------------
    @_guarded
    def put_verification_code(
        self, code: VerificationCode, resend_after: datetime
    ) -> datetime | None:
        fields = {
            "code_hash": _text(code.code_hash),
            "sent_at": _dt(code.sent_at),
            "expires_at": _dt(code.expires_at),
            "attempts": _int(code.attempts),
        }
        try:
            # Matches no code, or one sent before `resend_after`; a newer one makes the
            # upsert insert a second `_id`, which the primary key refuses: atomic.
            self._codes.update_one(
                {"_id": _text(code.user_id), "sent_at": {"$lte": _dt(resend_after)}},
                {"$set": fields},
                upsert=True,
            )
        except DuplicateKeyError:
            pending = self._codes.find_one({"_id": code.user_id}, {"sent_at": 1})
            if pending is not None:
                return _dt(pending["sent_at"])
            return self.put_verification_code(code, resend_after)  # it expired meanwhile
        return None

    @_guarded
    def use_verification_attempt(
        self, user_id: str, at: datetime, max_attempts: int
    ) -> VerificationCode | None:
        doc = self._codes.find_one_and_update(
            {
                "_id": _text(user_id),
                "attempts": {"$lt": _int(max_attempts)},
                "expires_at": {"$gt": _dt(at)},
            },
            {"$inc": {"attempts": 1}},
            return_document=ReturnDocument.AFTER,
        )
        return _code(doc) if doc else None

    @_guarded
    def delete_verification_code(self, user_id: str, code_hash: str | None = None) -> bool:
        query: dict[str, Any] = {"_id": _text(user_id)}
        if code_hash is not None:
            query["code_hash"] = _text(code_hash)
        return self._codes.delete_one(query).deleted_count == 1

    # -- rooms -----------------------------------------------------------
    @_guarded
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
        doc = _room_doc(room)
        try:
            self._rooms.insert_one(doc)
        except DuplicateKeyError as error:
            raise self._duplicate(error, self._rooms, doc, ["name_key", "direct_key"]) from error
        try:
            self._memberships.insert_one(
                {
                    "_id": _new_id(),
                    "room_id": room.id,
                    "user_id": owner_id,
                    "role": "owner",
                    "joined_at": room.created_at,
                    "last_read_seq": 0,
                }
            )
        except BaseException:
            # No transaction to roll back: undo the room, so none exists without its owner.
            self._rooms.delete_one({"_id": room.id})
            raise
        return room

    @_guarded
    def get_room(self, room_id: str) -> Room | None:
        doc = self._rooms.find_one({"_id": _text(room_id)})
        return _room(doc) if doc else None

    @_guarded
    def list_rooms(self, user_id: str, scope: str) -> list[Room]:
        def joined() -> dict[str, Any]:
            ids = self._memberships.find({"user_id": _text(user_id)}, {"room_id": 1})
            return {"_id": {"$in": [doc["room_id"] for doc in ids]}}

        public = {"kind": "group", "visibility": "public"}
        scopes = {
            "joined": joined,
            "public": lambda: public,
            "all": lambda: {"$or": [public, joined()]},
        }
        query = scopes[scope]()  # an unknown scope is a KeyError, as in the SQLite store
        cursor = self._rooms.find(query).sort([("created_at", ASCENDING), ("_id", ASCENDING)])
        return [_room(doc) for doc in cursor]

    @_guarded
    def member_counts(self, room_ids: list[str]) -> dict[str, int]:
        ids = _texts(room_ids)
        if not ids:
            return {}
        rows = self._memberships.aggregate(
            [
                {"$match": {"room_id": {"$in": ids}}},
                {"$group": {"_id": "$room_id", "n": {"$sum": 1}}},
            ]
        )
        return {row["_id"]: row["n"] for row in rows}

    @_guarded
    def add_member(self, room_id: str, user_id: str, role: str = "member") -> bool:
        try:
            self._memberships.insert_one(
                {
                    "_id": _new_id(),
                    "room_id": _text(room_id),
                    "user_id": _text(user_id),
                    "role": _text(role),
                    "joined_at": now(),
                    "last_read_seq": 0,
                }
            )
        except DuplicateKeyError:
            return False  # the (room_id, user_id) index: already a member
        return True

    @_guarded
    def set_role(self, room_id: str, user_id: str, role: Role) -> bool:
        if role not in ("admin", "member"):
            raise ValueError("ownership moves by transfer_ownership only")
        result = self._memberships.update_one(
            {"room_id": _text(room_id), "user_id": _text(user_id), "role": {"$ne": "owner"}},
            {"$set": {"role": role}},
        )
        return result.matched_count == 1  # matched, like SQLite's rowcount: same role is True

    # -- ownership and moderation (issue 6) -----------------------------
    def _settle_owner(self, room_id: str) -> str | None:
        """Give the room the one owner it must have, and return it.

        A standalone MongoDB has no multi-document transactions, so a leave cannot
        delete a membership and hand the room over in one step as SQLite does. Instead
        every write that can unsettle ownership (a join, a leave or removal, an invite,
        a transfer) makes its own change first and then calls this, which repeats
        read-and-fix rounds until one round observes a settled room:

        - no owner recorded: pick the heir (longest-standing admin, else member) and
          claim the room for them with `owner_id: None` as the update's condition, so
          of several processes settling at once exactly one claim wins;
        - an owner recorded who is no longer a member: free the seat, conditionally on
          it still being theirs, and pick again;
        - an owner who is a member: give them the role `owner` and demote any other
          `owner` (a former owner mid-transfer) to admin; settled if the room still
          names the same owner afterwards.

        Why that is enough: `owner_id` only ever changes by conditional updates (claim
        when empty, free when its holder left, transfer from its holder), and each
        writer settles after its own change. The race the first release lost — a
        leaver that found nobody to inherit while a joiner's insert landed and the
        joiner had read a non-null owner — now ends either way with one owner: if the
        joiner's membership is in place when the leaver settles, the leaver's round
        claims the room for it; if not, the owner seat was already freed, so the
        joiner's own settle claims it. A claim made for a member who leaves at that
        moment is undone by the next round (the "no longer a member" case) of
        whichever settle runs last. Readers between two writers' rounds may briefly
        see the room mid-handover; every writer returns only once settled.
        """
        for _ in range(SETTLE_ROUNDS):
            room = self._rooms.find_one({"_id": room_id}, {"owner_id": 1})
            if room is None:
                return None  # deleted
            owner = room.get("owner_id")
            if owner is None:
                heir = self._heir(room_id)
                if heir is None:
                    return None  # empty: the next joiner's settle adopts it
                self._rooms.update_one(
                    {"_id": room_id, "owner_id": None}, {"$set": {"owner_id": heir}}
                )
                continue
            crowned = self._memberships.update_one(
                {"room_id": room_id, "user_id": owner}, {"$set": {"role": "owner"}}
            )
            if crowned.matched_count == 0:
                self._rooms.update_one(
                    {"_id": room_id, "owner_id": owner}, {"$set": {"owner_id": None}}
                )
                continue
            self._memberships.update_many(
                {"room_id": room_id, "role": "owner", "user_id": {"$ne": owner}},
                {"$set": {"role": "admin"}},
            )
            again = self._rooms.find_one({"_id": room_id}, {"owner_id": 1})
            if again is None or again.get("owner_id") == owner:
                return owner
        raise StoreError(f"ownership of room {room_id} did not settle")

    def _heir(self, room_id: str) -> str | None:
        """The longest-standing admin, else the longest-standing member."""
        order = [("joined_at", ASCENDING), ("user_id", ASCENDING)]
        for query in ({"room_id": room_id, "role": "admin"}, {"room_id": room_id}):
            doc = self._memberships.find_one(query, {"user_id": 1}, sort=order)
            if doc:
                return doc["user_id"]
        return None

    def _banned(self, room_id: str, user_id: str) -> bool:
        return self._bans.find_one({"room_id": room_id, "user_id": user_id}, {"_id": 1}) is not None

    def _insert_member(self, room_id: str, user_id: str) -> bool:
        if self._rooms.find_one({"_id": room_id}, {"_id": 1}) is None:
            raise LookupError(f"no room {room_id}")
        try:
            self._memberships.insert_one(
                {
                    "_id": _new_id(),
                    "room_id": room_id,
                    "user_id": user_id,
                    "role": "member",
                    "joined_at": now(),
                    "last_read_seq": 0,
                }
            )
        except DuplicateKeyError:
            return False
        return True

    @_guarded
    def join_room(self, room_id: str, user_id: str) -> JoinResult:
        room_id, user_id = _text(room_id), _text(user_id)
        if self._banned(room_id, user_id):
            return JoinResult(joined=False, banned=True)
        if not self._insert_member(room_id, user_id):
            return JoinResult(joined=False)
        # A removal bans before it deletes the membership, and this looks for a ban after
        # inserting one: of a removal and a rejoin at the same moment, the ban wins.
        if self._banned(room_id, user_id):
            self._memberships.delete_one({"room_id": room_id, "user_id": user_id})
            self._settle_owner(room_id)
            return JoinResult(joined=False, banned=True)
        return JoinResult(joined=True, owner=self._settle_owner(room_id) == user_id)

    @_guarded
    def leave_room(
        self,
        room_id: str,
        user_id: str,
        *,
        ban: bool = False,
        roles: tuple[Role, ...] | None = None,
    ) -> LeaveResult:
        room_id, user_id = _text(room_id), _text(user_id)
        banned_now = False
        if ban:
            with contextlib.suppress(DuplicateKeyError):  # a ban at the same moment: banned
                result = self._bans.update_one(
                    {"room_id": room_id, "user_id": user_id},
                    {"$setOnInsert": {"_id": _new_id(), "created_at": now()}},
                    upsert=True,
                )
                banned_now = result.upserted_id is not None
        query: dict[str, Any] = {"room_id": room_id, "user_id": user_id}
        if roles is not None:
            query["role"] = {"$in": [_text(role) for role in roles]}
        gone = self._memberships.find_one_and_delete(query)
        if gone is None:
            if banned_now:  # not removed after all: no ban either
                self._bans.delete_one({"room_id": room_id, "user_id": user_id})
            return LeaveResult(left=False)
        owned = gone["role"] == "owner"
        owner = self._settle_owner(room_id)
        return LeaveResult(left=True, role=gone["role"], owner_id=owner, owner_changed=owned)

    @_guarded
    def invite_member(self, room_id: str, user_id: str) -> bool:
        room_id, user_id = _text(room_id), _text(user_id)
        self._bans.delete_one({"room_id": room_id, "user_id": user_id})
        joined = self._insert_member(room_id, user_id)
        if joined:
            self._settle_owner(room_id)
        return joined

    @_guarded
    def transfer_ownership(self, room_id: str, from_id: str, to_id: str) -> bool:
        room_id, from_id, to_id = _text(room_id), _text(from_id), _text(to_id)
        if (
            from_id == to_id
            or self._memberships.find_one({"room_id": room_id, "user_id": to_id}, {"_id": 1})
            is None
        ):
            return False
        moved = self._rooms.update_one(
            {"_id": room_id, "owner_id": from_id}, {"$set": {"owner_id": to_id}}
        )
        if moved.modified_count == 0:
            return False
        # The settle crowns the new owner and demotes the old one to admin.
        return self._settle_owner(room_id) == to_id

    @_guarded
    def is_banned(self, room_id: str, user_id: str) -> bool:
        return self._banned(_text(room_id), _text(user_id))

    @_guarded
    def update_room(self, room_id: str, changes: Mapping[str, str | None]) -> Room | None:
        room_id = _text(room_id)
        update = _changes(changes, ROOM_FIELDS, {})
        if "name" in update:
            room = self._rooms.find_one({"_id": room_id}, {"kind": 1})
            group = room is not None and room.get("kind") == "group"
            update["name_key"] = _key(update["name"]) if group else None
        try:
            doc = self._rooms.find_one_and_update(
                {"_id": room_id}, {"$set": update}, return_document=ReturnDocument.AFTER
            )
        except DuplicateKeyError as error:
            raise self._duplicate(
                error, self._rooms, {"_id": room_id, **update}, ["name_key"]
            ) from error
        return _room(doc) if doc else None

    @_guarded
    def delete_room(self, room_id: str) -> bool:
        room_id = _text(room_id)
        # The room first: a post or join racing the deletion then finds no room.
        gone = self._rooms.delete_one({"_id": room_id}).deleted_count == 1
        for collection in (self._messages, self._memberships, self._bans):
            collection.delete_many({"room_id": room_id})
        return gone

    @_guarded
    def get_membership(self, room_id: str, user_id: str) -> Membership | None:
        doc = self._memberships.find_one({"room_id": _text(room_id), "user_id": _text(user_id)})
        return _membership(doc) if doc else None

    @_guarded
    def get_memberships(self, user_id: str, room_ids: list[str]) -> dict[str, Membership]:
        ids = _texts(room_ids)
        if not ids:
            return {}
        cursor = self._memberships.find({"user_id": _text(user_id), "room_id": {"$in": ids}})
        return {doc["room_id"]: _membership(doc) for doc in cursor}

    @_guarded
    def list_members(self, room_id: str) -> list[Membership]:
        cursor = self._memberships.find({"room_id": _text(room_id)}).sort(
            [("joined_at", ASCENDING), ("user_id", ASCENDING)]
        )
        return [_membership(doc) for doc in cursor]

    @_guarded
    def mark_read(self, room_id: str, user_id: str, seq: int) -> int:
        # `$max` moves the marker forward only, atomically, whatever else is racing.
        doc = self._memberships.find_one_and_update(
            {"room_id": _text(room_id), "user_id": _text(user_id)},
            {"$max": {"last_read_seq": _int(seq)}},
            projection={"last_read_seq": 1},
            return_document=ReturnDocument.AFTER,
        )
        return doc["last_read_seq"] if doc else 0

    # -- messages --------------------------------------------------------
    @_guarded
    def add_messages(self, posts: Sequence[NewPost]) -> list[Posted]:
        """One after another (a standalone server has no transactions): each post is
        atomic on its own, which is what seqs and client_ids need."""
        return [self._add_one(post) for post in posts]

    def _add_one(self, post: NewPost) -> Posted:
        room_id, author_id, client_id = _text(post.room_id), post.author_id, post.client_id
        if client_id is not None:
            existing = self._find_by_client_id(room_id, author_id, client_id)
            if existing:
                return Posted(existing, False)
        created_at = now()
        room = self._rooms.find_one_and_update(
            {"_id": room_id},
            {"$inc": {"last_seq": 1}, "$set": {"last_activity_at": created_at}},
            projection={"last_seq": 1},
            return_document=ReturnDocument.AFTER,
        )
        if room is None:
            return Posted(None, False)
        message = Message(
            id=_new_id(),
            room_id=room_id,
            seq=room["last_seq"],
            author_id=author_id,
            content=post.content,
            created_at=created_at,
            type=post.type,
            reply_to=post.reply_to,
            client_id=client_id,
        )
        try:
            self._messages.insert_one(_message_doc(message))
        except DuplicateKeyError:
            # Only the client_id index can refuse this insert: the seq is ours alone.
            if client_id is None:
                raise
            first = self._find_by_client_id(room_id, author_id, client_id)
            if first is None:
                raise
            # A concurrent request with the same client_id got in between our look-up
            # and our insert. It wins, but our seq is already taken from the counter
            # and seqs must have no gaps (clients page and catch up by seq), so the
            # seq is filled with a tombstone, as if the message had been deleted.
            self._messages.insert_one(
                _message_doc(
                    Message(
                        id=_new_id(),
                        room_id=room_id,
                        seq=message.seq,
                        author_id=author_id,
                        content="",
                        created_at=message.created_at,
                        type="text",
                        deleted=True,
                    )
                )
            )
            return Posted(first, False)
        if post.read:
            self._memberships.update_one(
                {"room_id": room_id, "user_id": _text(author_id)},
                {"$max": {"last_read_seq": message.seq}},
            )
        return Posted(message, True)

    def _find_by_client_id(
        self, room_id: str, author_id: str | None, client_id: str
    ) -> Message | None:
        doc = self._messages.find_one(
            {
                "room_id": room_id,
                "author_id": None if author_id is None else _text(author_id),
                "client_id": _string_eq(client_id),
            }
        )
        return _message(doc) if doc else None

    @_guarded
    def get_message(self, room_id: str, message_id: str) -> Message | None:
        doc = self._messages.find_one({"_id": _text(message_id), "room_id": _text(room_id)})
        return _message(doc) if doc else None

    @_guarded
    def last_messages(self, rooms: list[Room]) -> dict[str, Message]:
        # The room's counter says which seq is newest: one exact index hit per room,
        # all in one query.
        wanted = [
            {"room_id": _text(room.id), "seq": _int(room.last_seq)}
            for room in rooms
            if room.last_seq
        ]
        if not wanted:
            return {}
        return {doc["room_id"]: _message(doc) for doc in self._messages.find({"$or": wanted})}

    @_guarded
    def list_messages(self, room_id, *, before=None, after=None, limit=50) -> Page:
        limit = max(_int(limit), 0)
        query: dict[str, Any] = {"room_id": _text(room_id)}
        seq: dict[str, int] = {}
        if after is not None:
            seq["$gt"] = _int(after)
        if before is not None:
            seq["$lt"] = _int(before)
        if seq:
            query["seq"] = seq
        # Catching up reads forward from `after`; otherwise the newest page, read back.
        order = ASCENDING if after is not None else DESCENDING
        # One more than asked says whether the range goes on past this page.
        docs = list(self._messages.find(query).sort("seq", order).limit(limit + 1))
        messages = [_message(doc) for doc in docs[:limit]]
        if order == DESCENDING:
            messages.reverse()
        return Page(messages=messages, has_more=len(docs) > limit)

    @_guarded
    def tombstone_message(self, room_id: str, message_id: str) -> Message | None:
        doc = self._messages.find_one_and_update(
            {"_id": _text(message_id), "room_id": _text(room_id)},
            {"$set": {"content": "", "deleted": True}},
            return_document=ReturnDocument.AFTER,
        )
        return _message(doc) if doc else None

    # -- messages: edits, search, read state -------------------------------
    @_guarded
    def edit_message(
        self, room_id: str, message_id: str, content: str, edited_at: datetime
    ) -> Message | None:
        doc = self._messages.find_one_and_update(
            {"_id": _text(message_id), "room_id": _text(room_id), "deleted": False},
            {"$set": {"content": _text(content), "edited_at": _dt(edited_at)}},
            return_document=ReturnDocument.AFTER,
        )
        return _message(doc) if doc else None

    @_guarded
    def search_messages(
        self, room_id: str, words: list[str], *, before: int | None = None, limit: int = 20
    ) -> Page:
        words = _texts(words)
        if not words:
            return Page(messages=[], has_more=False)
        query: dict[str, Any] = {"room_id": _text(room_id), "deleted": False}
        if self._mock:
            query["$and"] = [{"content": _word_regex(word)} for word in words]
        else:
            # The text index is compound on room_id, so the equality above picks the
            # room's part of it. Each word quoted is a phrase, and phrases are ANDed.
            phrases = (word.replace('"', " ").strip() for word in words)
            query["$text"] = {"$search": " ".join(f'"{p}"' for p in phrases if p)}
        if before is not None:
            query["seq"] = {"$lt": _int(before)}
        limit = max(_int(limit), 0)
        docs = list(self._messages.find(query).sort("seq", DESCENDING).limit(limit + 1))
        return Page(messages=[_message(d) for d in docs[:limit]], has_more=len(docs) > limit)

    @_guarded
    def count_deleted_after(self, markers: dict[str, int]) -> dict[str, int]:
        if not markers:
            return {}
        wanted = [
            {"room_id": _text(room_id), "seq": {"$gt": _int(marker)}}
            for room_id, marker in markers.items()
        ]
        rows = self._messages.aggregate(
            [
                # `deleted: True` lets the planner use the partial index of tombstones.
                {"$match": {"deleted": True, "$or": wanted}},
                {"$group": {"_id": "$room_id", "n": {"$sum": 1}}},
            ]
        )
        return {row["_id"]: row["n"] for row in rows}

    # -- direct conversations ----------------------------------------------
    @_guarded
    def open_direct_room(self, user_a: str, user_b: str) -> tuple[Room, bool]:
        key = direct_key(_text(user_a), _text(user_b))
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
        created = True
        try:
            self._rooms.insert_one(_room_doc(room))
        except DuplicateKeyError:
            # The unique direct_key index refused a second room for the pair.
            found = self._rooms.find_one({"direct_key": _string_eq(key)})
            if found is None:
                raise
            room, created = _room(found), False
        # The creator may not have added the memberships yet (or died before it did):
        # whoever gets here makes sure both exist; the unique index refuses repeats.
        for user_id in sorted({user_a, user_b}):
            with contextlib.suppress(DuplicateKeyError):
                self._memberships.insert_one(
                    {
                        "_id": _new_id(),
                        "room_id": room.id,
                        "user_id": user_id,
                        "role": "member",
                        "joined_at": room.created_at,
                        "last_read_seq": 0,
                    }
                )
        return room, created

    @_guarded
    def list_direct_rooms(
        self, user_id: str, *, before: tuple[datetime, str] | None = None, limit: int = 20
    ) -> tuple[list[Room], bool]:
        query: dict[str, Any] = {"participants": _text(user_id), "kind": "direct"}
        if before is not None:
            moment, room_id = _dt(before[0]), _text(before[1])
            query["$or"] = [
                {"last_activity_at": {"$lt": moment}},
                {"last_activity_at": moment, "_id": {"$lt": room_id}},
            ]
        limit = max(_int(limit), 0)
        cursor = (
            self._rooms.find(query)
            .sort([("last_activity_at", DESCENDING), ("_id", DESCENDING)])
            .limit(limit + 1)
        )
        rooms = [_room(doc) for doc in cursor]
        return rooms[:limit], len(rooms) > limit

    # -- presence ----------------------------------------------------------
    @_guarded
    def member_room_ids(self, user_id: str) -> list[str]:
        cursor = self._memberships.find({"user_id": _text(user_id)}, {"room_id": 1})
        return [doc["room_id"] for doc in cursor]

    @_guarded
    def set_last_seen(self, user_id: str, when: datetime) -> None:
        self._users.update_one({"_id": _text(user_id)}, {"$set": {"last_seen": _dt(when)}})
