"""Pick the store from a URL: SQLite unless it says MongoDB."""

from __future__ import annotations

import os

from .base import DuplicateError, Store, StoreError
from .models import Membership, Message, Page, Room, User

__all__ = [
    "DuplicateError",
    "Membership",
    "Message",
    "Page",
    "Room",
    "Store",
    "StoreError",
    "User",
    "open_store",
]


def open_store(url: str | None, instance_path: str) -> Store:
    """`mongodb://…`/`mongodb+srv://…` → MongoStore; `sqlite:///path` or None → SQLiteStore."""
    if url and url.startswith(("mongodb://", "mongodb+srv://", "mongomock://")):
        from .mongo import MongoStore

        return MongoStore(url)
    if url and not url.startswith("sqlite:///"):
        raise ValueError(f"DATABASE_URL must be sqlite:///… or mongodb://…, not {url!r}")
    path = url[len("sqlite:///") :] if url else os.path.join(instance_path, "chat.db")
    from .sqlite import SQLiteStore

    return SQLiteStore(path)
