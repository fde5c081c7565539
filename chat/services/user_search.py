"""User search: a prefix of the username or of the display name, ignoring case.

The store answers two index ranges (folded usernames, folded display names), each in
(key, id) order. A user can sit in both; the results are both ranges merged, each user
listed once, at their smaller position. The cursor is that position of the last user
of the page, so the next page is both ranges read past it: users added meanwhile land
in their place (before the cursor: not shown; after it: shown once), and nobody is
listed twice or skipped.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass

from ..domain.errors import Invalid
from ..domain.models import User, fold
from ..domain.store import SearchField, Store

Position = tuple[str, str]  # (folded key, user id)


@dataclass
class SearchPage:
    users: list[User]
    next_cursor: str | None


def encode_cursor(position: Position) -> str:
    raw = json.dumps(list(position), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> Position:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key, user_id = json.loads(raw)
        if isinstance(key, str) and isinstance(user_id, str):
            return key, user_id
    except (binascii.Error, ValueError, TypeError):
        pass
    raise Invalid(errors={"cursor": ["Not a cursor this server gave out."]})


FIELDS: tuple[SearchField, ...] = ("username", "display_name")


def _key(user: User, field: SearchField) -> str:
    return fold(user.username if field == "username" else user.display_name or "")


def _home(user: User, prefix: str) -> Position:
    """Where the user is listed: the smaller of their positions that match the prefix."""
    keys = [_key(user, field) for field in FIELDS]
    return min((key, user.id) for key in keys if key and key.startswith(prefix))


def search_users(store: Store, query: str, limit: int, cursor: str | None) -> SearchPage:
    prefix = fold(query.strip())
    after = decode_cursor(cursor) if cursor else None
    fetch = 2 * limit + 1  # room for users found in both ranges
    found: list[tuple[Position, User]] = []
    # How far the merged order is known: a range that filled its fetch may go on, and
    # nothing past its last row can be placed until it is read further.
    horizon: Position | None = None
    for field in FIELDS:
        rows = store.search_users(field, prefix, after, fetch)
        found += [((_key(user, field), user.id), user) for user in rows]
        if len(rows) == fetch:
            end = (_key(rows[-1], field), rows[-1].id)
            horizon = end if horizon is None else min(horizon, end)

    page: list[User] = []
    listed: set[str] = set()
    for position, user in sorted(found, key=lambda item: item[0]):
        if horizon is not None and position > horizon:
            break
        if user.id in listed or position != _home(user, prefix):
            continue  # listed at its other, smaller position: here or on an earlier page
        if len(page) == limit:  # one more exists: the next page starts after this one
            return SearchPage(page, encode_cursor(_home(page[-1], prefix)))
        page.append(user)
        listed.add(user.id)
    # Everything up to the horizon is placed; a range cut at its fetch reads on from it.
    return SearchPage(page, encode_cursor(horizon) if horizon else None)
