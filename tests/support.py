"""Which stores the suite runs on, shared by the app-level and store-level fixtures.

MongoDB runs on mongomock always, and on a real server only when TEST_MONGODB_URI is
set (no MongoDB server can be installed on the CI machine); no test is generated for
a server that is not there, so nothing is skipped silently.
"""

from __future__ import annotations

import os

MONGODB_URI = os.environ.get("TEST_MONGODB_URI")
STORES = ["sqlite", "mongomock"] + (["mongodb"] if MONGODB_URI else [])
MONGO_STORES = [kind for kind in STORES if kind != "sqlite"]
# mongomock is not thread-safe (its find-and-modify is a find then an update), so
# concurrency is only meaningful against SQLite and a real MongoDB.
THREAD_SAFE_STORES = [kind for kind in STORES if kind != "mongomock"]


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
