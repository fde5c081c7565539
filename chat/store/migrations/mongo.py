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

from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

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


def _indexes(specs: list[tuple[str, list[tuple[str, int]], dict[str, Any]]]) -> Callable:
    def run(db: Any) -> None:
        for collection, keys, options in specs:
            db[collection].create_index(keys, **options)

    return run


STEPS: list[Step] = [
    Step(1, "the first release's indexes", _indexes(CORE_INDEXES)),
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
