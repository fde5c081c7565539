"""The store implementations, picked from a URL: SQLite unless it says MongoDB.

Only the application factory imports this package; everything else names the store by
its interface, `chat.domain.store.Store`.
"""

from __future__ import annotations

import os

from ..domain.store import Store

__all__ = ["open_store"]


def open_store(url: str | None, instance_path: str, sqlite_synchronous: str = "NORMAL") -> Store:
    """`mongodb://…`/`mongodb+srv://…` → MongoStore; `sqlite:///path` or None → SQLiteStore."""
    if url and url.startswith(("mongodb://", "mongodb+srv://", "mongomock://")):
        from .mongo import MongoStore

        return MongoStore(url)
    if url and not url.startswith("sqlite:///"):
        raise ValueError(f"DATABASE_URL must be sqlite:///… or mongodb://…, not {url!r}")
    path = url[len("sqlite:///") :] if url else os.path.join(instance_path, "chat.db")
    from .sqlite import SQLiteStore

    return SQLiteStore(path, synchronous=sqlite_synchronous)
