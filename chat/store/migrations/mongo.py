"""The MongoDB store's schema: indexes and field changes, as ordered, versioned steps.

MongoDB has no DDL, so its "schema" is the indexes (uniqueness, TTL, the orders history
is read in) and the fields documents are expected to carry. `schema_migrations`
records each step applied; pending steps run in order at start. Every step is
idempotent (`create_index` with an explicit name, `update_many` with a filter that
matches only what still needs changing), so two processes starting at once, or a step
interrupted half-way, are safe: the next start finishes it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, TEXT
from pymongo.errors import DuplicateKeyError

from ...domain.models import fold

_IS_STRING = {"$type": "string"}


# (collection, keys, options) of every index of the first release. Names are explicit,
# so creating one again finds the same index and is a no-op.
CORE_INDEXES: list[tuple[str, list[tuple[str, int]], dict[str, Any]]] = [
    ("users", [("username_key", ASCENDING)], {"name": "users_username", "unique": True}),
    (
        "users",
        [("email_key", ASCENDING)],
        {
            "name": "users_email",
            "unique": True,
            "partialFilterExpression": {"email_key": _IS_STRING},
        },
    ),
    ("revoked_tokens", [("jti", ASCENDING)], {"name": "revoked_jti", "unique": True}),
    # TTL: the server drops an entry once its token has expired and can never be
    # presented again, which is what the SQLite store's sweep does by hand.
    (
        "revoked_tokens",
        [("expires_at", ASCENDING)],
        {
            "name": "revoked_expiry",
            "expireAfterSeconds": 0,
        },
    ),
    (
        "rooms",
        [("name_key", ASCENDING)],
        {
            "name": "rooms_name",
            "unique": True,
            "partialFilterExpression": {"kind": "group", "name_key": _IS_STRING},
        },
    ),
    (
        "rooms",
        [("direct_key", ASCENDING)],
        {
            "name": "rooms_direct",
            "unique": True,
            "partialFilterExpression": {"direct_key": _IS_STRING},
        },
    ),
    (
        "rooms",
        [("kind", ASCENDING), ("visibility", ASCENDING), ("created_at", ASCENDING)],
        {"name": "rooms_listing"},
    ),
    (
        "memberships",
        [("room_id", ASCENDING), ("user_id", ASCENDING)],
        {"name": "memberships_room_user", "unique": True},
    ),
    ("memberships", [("user_id", ASCENDING), ("room_id", ASCENDING)], {"name": "memberships_user"}),
    (
        "messages",
        [("room_id", ASCENDING), ("seq", ASCENDING)],
        {"name": "messages_room_seq", "unique": True},
    ),
    (
        "messages",
        [("room_id", ASCENDING), ("author_id", ASCENDING), ("client_id", ASCENDING)],
        {
            "name": "messages_client",
            "unique": True,
            "partialFilterExpression": {"client_id": _IS_STRING},
        },
    ),
]


@dataclass(frozen=True)
class Step:
    version: int
    name: str
    apply: Callable[[Any], None]


def _indexes(specs: list[tuple[str, list[tuple[str, Any]], dict[str, Any]]]) -> Callable:
    def run(db: Any) -> None:
        for collection, keys, options in specs:
            db[collection].create_index(keys, **options)

    return run


# -- version 2: accounts and moderation (issue 6) -----------------------------------
ACCOUNT_INDEXES: list[tuple[str, list[tuple[str, int]], dict[str, Any]]] = [
    ("sessions", [("user_id", ASCENDING)], {"name": "sessions_user"}),
    # TTL: a session past its refresh token's expiry can never be presented again.
    ("sessions", [("expires_at", ASCENDING)], {"name": "sessions_expiry", "expireAfterSeconds": 0}),
    (
        "verification_codes",
        [("expires_at", ASCENDING)],
        {"name": "verification_codes_expiry", "expireAfterSeconds": 0},
    ),
    (
        "room_bans",
        [("room_id", ASCENDING), ("user_id", ASCENDING)],
        {"name": "room_bans_room_user", "unique": True},
    ),
    ("users", [("display_key", ASCENDING), ("_id", ASCENDING)], {"name": "users_display"}),
    # The heir of a room: its longest-standing admin, else member.
    (
        "memberships",
        [
            ("room_id", ASCENDING),
            ("role", ASCENDING),
            ("joined_at", ASCENDING),
            ("user_id", ASCENDING),
        ],
        {"name": "memberships_room_role"},
    ),
    (
        "memberships",
        [("room_id", ASCENDING), ("joined_at", ASCENDING), ("user_id", ASCENDING)],
        {"name": "memberships_room_joined"},
    ),
]


# -- version 3: search, tombstones, conversations ------------------------------------

SEARCH_INDEXES: list[tuple[str, list[tuple[str, Any]], dict[str, Any]]] = [
    # Compound on room_id: a search names its room, and reads only that room's part of
    # the index. No stemming or stop words ("none"), as SQLite's unicode61 tokenizer.
    (
        "messages",
        [("room_id", ASCENDING), ("content", TEXT)],
        {"name": "messages_search", "default_language": "none"},
    ),
    # Tombstones past a read marker, counted without reading a room's history.
    (
        "messages",
        [("room_id", ASCENDING), ("seq", ASCENDING)],
        {"name": "messages_deleted", "partialFilterExpression": {"deleted": True}},
    ),
    # A user's direct rooms by last activity ("participants" is the pair: multikey).
    (
        "rooms",
        [("participants", ASCENDING), ("last_activity_at", DESCENDING), ("_id", DESCENDING)],
        {"name": "rooms_conversations", "partialFilterExpression": {"kind": "direct"}},
    ),
]


def _accounts(db: Any) -> None:
    """Sessions replace revoked tokens (whose collection goes); users gain `verified`
    (true for every account made before) and `display_key`, the folded display name
    user search ranges over; rooms the leave/join race left ownerless get an owner."""
    _indexes(ACCOUNT_INDEXES)(db)
    db.users.update_many({"verified": {"$exists": False}}, {"$set": {"verified": True}})
    named = {"display_name": _IS_STRING, "display_key": {"$exists": False}}
    for doc in db.users.find(named, {"display_name": 1}):
        db.users.update_one(
            {"_id": doc["_id"]}, {"$set": {"display_key": fold(doc["display_name"])}}
        )
    db.users.update_many({"display_key": {"$exists": False}}, {"$set": {"display_key": None}})
    _repair_owners(db)
    db.drop_collection("revoked_tokens")


def _repair_owners(db: Any) -> None:
    order = [("joined_at", ASCENDING), ("user_id", ASCENDING)]
    for room in db.rooms.find({"owner_id": None}, {"_id": 1}):
        members = {"room_id": room["_id"]}
        heir = db.memberships.find_one({**members, "role": "admin"}, sort=order)
        heir = heir or db.memberships.find_one(members, sort=order)
        if heir is None:
            continue
        db.memberships.update_many({**members, "role": "owner"}, {"$set": {"role": "admin"}})
        db.memberships.update_one({"_id": heir["_id"]}, {"$set": {"role": "owner"}})
        db.rooms.update_one(
            {"_id": room["_id"], "owner_id": None}, {"$set": {"owner_id": heir["user_id"]}}
        )


def _room_activity(db: Any) -> None:
    """Rooms of the first release get their last activity and, if direct, their pair."""
    for room in db.rooms.find({"last_activity_at": {"$exists": False}}):
        newest = db.messages.find_one(
            {"room_id": room["_id"], "seq": room.get("last_seq", 0)}, {"created_at": 1}
        )
        moment = newest["created_at"] if newest else room["created_at"]
        db.rooms.update_one(
            {"_id": room["_id"], "last_activity_at": {"$exists": False}},
            {"$set": {"last_activity_at": moment}},
        )
    for room in db.rooms.find({"kind": "direct", "participants": {"$exists": False}}):
        parts = str(room.get("direct_key") or "").split(":")
        pair = parts if len(parts) == 2 and all(parts) else None
        db.rooms.update_one({"_id": room["_id"]}, {"$set": {"participants": pair}})


def _search_and_conversations(db: Any) -> None:
    _indexes(SEARCH_INDEXES)(db)
    _room_activity(db)


STEPS: list[Step] = [
    Step(1, "the first release's indexes", _indexes(CORE_INDEXES)),
    Step(2, "sessions, verification codes, room bans, display-name search", _accounts),
    Step(3, "search, tombstones, rooms' activity and direct pairs", _search_and_conversations),
]


def migrate(db: Any) -> list[int]:
    """Apply the pending steps; return the versions applied (none when up to date)."""
    done = {doc["_id"] for doc in db.schema_migrations.find({}, {"_id": 1})}
    applied = []
    for step in STEPS:
        if step.version in done:
            continue
        step.apply(db)
        # Another process may have finished the same (idempotent) step first.
        with contextlib.suppress(DuplicateKeyError):
            db.schema_migrations.insert_one(
                {"_id": step.version, "name": step.name, "applied_at": datetime.now(UTC)}
            )
        applied.append(step.version)
    return applied


def version(db: Any) -> int:
    latest = db.schema_migrations.find_one(sort=[("_id", -1)])
    return int(latest["_id"]) if latest else 0
