"""SQLITE_SYNCHRONOUS reaches the connection: what a commit survives is the operator's."""

from __future__ import annotations

import pytest

from chat.store.sqlite import SQLiteStore


@pytest.mark.parametrize("setting, level", [("NORMAL", 1), ("full", 2), ("EXTRA", 3)])
def test_the_setting_is_applied(tmp_path, setting, level):
    store = SQLiteStore(str(tmp_path / "chat.db"), synchronous=setting)
    try:
        assert store._conn.execute("PRAGMA synchronous").fetchone()[0] == level
        assert store._conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        store.close()


@pytest.mark.parametrize("setting", ["OFF", "fast", ""])
def test_anything_weaker_or_unknown_is_refused(tmp_path, setting):
    with pytest.raises(ValueError, match="SQLITE_SYNCHRONOUS"):
        SQLiteStore(str(tmp_path / "chat.db"), synchronous=setting)
