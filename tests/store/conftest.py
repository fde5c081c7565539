"""Stores for the contract suite: every test taking `store` runs once per backend.

`sqlite` is a real file under tmp_path, `mongomock` an in-memory fake of MongoDB, and
`mongodb` a real server named by TEST_MONGODB_URI (each test in a database of its own,
dropped afterwards), only when that variable is set.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest

from chat.domain.store import Store
from chat.store.mongo import MongoStore
from chat.store.sqlite import SQLiteStore
from tests.support import MONGO_STORES, MONGODB_URI, STORES, with_database


@pytest.fixture
def make_store(tmp_path) -> Iterator[Callable[[str], Store]]:
    """Open a schema-ready store of a kind; all of them are closed (and dropped) after.

    Two `sqlite` stores from one test share the same file, like two processes would.
    """
    cleanups: list[Callable[[], None]] = []

    def make(kind: str) -> Store:
        if kind == "sqlite":
            store: Store = SQLiteStore(str(tmp_path / "chat.db"))
            cleanups.append(store.close)
        elif kind == "mongomock":
            store = MongoStore(f"mongomock://localhost/chat_test_{uuid.uuid4().hex}")
            cleanups.append(store.close)
        elif kind == "mongodb":
            name = f"chat_test_{uuid.uuid4().hex}"
            store = MongoStore(with_database(MONGODB_URI, name))

            def drop(store: MongoStore = store, name: str = name) -> None:
                store._client.drop_database(name)
                store.close()

            cleanups.append(drop)
        else:
            raise ValueError(kind)
        store.migrate()
        return store

    yield make
    for cleanup in reversed(cleanups):
        cleanup()


@pytest.fixture(params=STORES)
def store(request, make_store) -> Store:
    return make_store(request.param)


@pytest.fixture(params=MONGO_STORES)
def mongo_store(request, make_store) -> MongoStore:
    return make_store(request.param)
