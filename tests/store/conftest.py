"""Stores for the contract suite: every test taking `store` runs once per backend.

`sqlite` is a real file under tmp_path, `mongomock` an in-memory fake of MongoDB, and
`mongodb` a real server named by TEST_MONGODB_URI (each test in a database of its own,
dropped afterwards), skipped when that variable is unset.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator

import pytest

from chat.store.base import Store
from chat.store.mongo import MongoStore
from chat.store.sqlite import SQLiteStore

MONGODB_URI = os.environ.get("TEST_MONGODB_URI")

needs_mongodb = pytest.mark.skipif(
    not MONGODB_URI, reason="TEST_MONGODB_URI is unset: no MongoDB server to test against"
)

ALL_STORES = ["sqlite", "mongomock", pytest.param("mongodb", marks=needs_mongodb)]
MONGO_STORES = ["mongomock", pytest.param("mongodb", marks=needs_mongodb)]


def with_database(uri: str, name: str) -> str:
    """`uri` pointing at database `name`, keeping its hosts and options.

    A database already in the URI is also where credentials are checked unless
    authSource says otherwise, so it is kept as authSource.
    """
    scheme, _, rest = uri.partition("://")
    hosts, _, tail = rest.partition("/")
    database, _, options = tail.partition("?")
    if database and "authsource=" not in options.lower():
        options = "&".join(filter(None, [options, f"authSource={database}"]))
    return f"{scheme}://{hosts}/{name}" + (f"?{options}" if options else "")


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
            if not MONGODB_URI:
                pytest.skip("TEST_MONGODB_URI is unset: no MongoDB server to test against")
            name = f"chat_test_{uuid.uuid4().hex}"
            store = MongoStore(with_database(MONGODB_URI, name))

            def drop(store: MongoStore = store, name: str = name) -> None:
                store._client.drop_database(name)
                store.close()

            cleanups.append(drop)
        else:
            raise ValueError(kind)
        store.init_schema()
        return store

    yield make
    for cleanup in reversed(cleanups):
        cleanup()


@pytest.fixture(params=ALL_STORES)
def store(request, make_store) -> Store:
    return make_store(request.param)


@pytest.fixture(params=MONGO_STORES)
def mongo_store(request, make_store) -> MongoStore:
    return make_store(request.param)
