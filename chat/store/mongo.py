"""The MongoDB store: PyMongo, one collection per table of the SQLite store.

Ids are `str(ObjectId())`, so ids are plain strings to every caller, and an id that
is not a valid ObjectId simply finds nothing. Uniqueness is enforced by unique
indexes on stored case-folded keys, and a refused write becomes `DuplicateError`;
nothing here checks-then-inserts. A room's seq counter lives on its document and is
advanced with one atomic `$inc`, which is what keeps seqs unique and gap-free across
processes without transactions (a standalone server has none).

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
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

import pymongo
from bson import ObjectId
from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError, PyMongoError

from ..domain.errors import DuplicateError, StoreError
from ..domain.models import Membership, Message, Page, Room, User, now
from ..domain.store import Store
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


# -- values in, values out ------------------------------------------------------
def _new_id() -> str:
    return str(ObjectId())


def _key(value: str | None) -> str | None:
    """The stored form unique indexes compare: case-folded, as the SQLite store does."""
    return None if value is None else value.casefold()


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
        if url.startswith("mongomock://"):
            import mongomock  # a test dependency: only needed for this scheme

            # mongomock parses only mongodb:// URLs; the rest (host, database) is the same.
            self._client = mongomock.MongoClient(
                "mongodb://" + url[len("mongomock://") :], tz_aware=True
            )
        else:
            self._client = pymongo.MongoClient(url, tz_aware=True, serverSelectionTimeoutMS=5000)
        self._db = self._client.get_default_database(default="chat")
        self._users = self._db["users"]
        self._revoked = self._db["revoked_tokens"]
        self._rooms = self._db["rooms"]
        self._memberships = self._db["memberships"]
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

    def close(self) -> None:
        self._client.close()

    # -- users -----------------------------------------------------------
    @_guarded
    def create_user(self, username, password_hash, email=None, display_name=None) -> User:
        user = User(
            id=_new_id(),
            username=username,
            password_hash=password_hash,
            created_at=now(),
            email=email,
            display_name=display_name,
        )
        doc = {
            "_id": user.id,
            "username": username,
            "username_key": _key(username),
            "email": email,
            "email_key": _key(email),
            "password_hash": password_hash,
            "display_name": display_name,
            "avatar_url": None,
            "created_at": user.created_at,
            "last_seen": None,
            "deleted": False,
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

    # -- revoked tokens --------------------------------------------------
    @_guarded
    def revoke_token(self, jti: str, expires_at: datetime) -> None:
        # A concurrent revoke of the same token may win the upsert: revoked either way.
        with contextlib.suppress(DuplicateKeyError):
            self._revoked.update_one(
                {"jti": _text(jti)},
                {"$setOnInsert": {"_id": _new_id(), "expires_at": _dt(expires_at)}},
                upsert=True,
            )

    @_guarded
    def is_token_revoked(self, jti: str) -> bool:
        return self._revoked.find_one({"jti": _text(jti)}, {"_id": 1}) is not None

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
        doc = {
            "_id": room.id,
            "name": name,
            "name_key": _key(name) if kind == "group" else None,
            "kind": kind,
            "visibility": visibility,
            "owner_id": owner_id,
            "description": description,
            "password_hash": password_hash,
            "created_at": room.created_at,
            "last_seq": 0,
            "direct_key": direct_key,
        }
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
    def remove_member(self, room_id: str, user_id: str) -> bool:
        result = self._memberships.delete_one(
            {"room_id": _text(room_id), "user_id": _text(user_id)}
        )
        return result.deleted_count == 1

    @_guarded
    def set_role(self, room_id: str, user_id: str, role: str) -> bool:
        result = self._memberships.update_one(
            {"room_id": _text(room_id), "user_id": _text(user_id)},
            {"$set": {"role": _text(role)}},
        )
        return result.matched_count == 1  # matched, like SQLite's rowcount: same role is True

    @_guarded
    def set_owner(self, room_id: str, owner_id: str | None) -> None:
        owner = None if owner_id is None else _text(owner_id)
        self._rooms.update_one({"_id": _text(room_id)}, {"$set": {"owner_id": owner}})

    @_guarded
    def claim_ownership(self, room_id: str, user_id: str) -> bool:
        result = self._rooms.update_one(
            {"_id": _text(room_id), "owner_id": None}, {"$set": {"owner_id": _text(user_id)}}
        )
        return result.modified_count == 1

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
    def add_message(
        self, *, room_id, author_id, content, type="text", reply_to=None, client_id=None
    ) -> tuple[Message, bool]:
        room_id = _text(room_id)
        if client_id is not None:
            existing = self._find_by_client_id(room_id, author_id, client_id)
            if existing:
                return existing, False
        room = self._rooms.find_one_and_update(
            {"_id": room_id},
            {"$inc": {"last_seq": 1}},
            projection={"last_seq": 1},
            return_document=ReturnDocument.AFTER,
        )
        if room is None:
            raise LookupError(f"no room {room_id}")
        message = Message(
            id=_new_id(),
            room_id=room_id,
            seq=room["last_seq"],
            author_id=author_id,
            content=content,
            created_at=now(),
            type=type,
            reply_to=reply_to,
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
            return first, False
        return message, True

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
