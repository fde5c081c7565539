"""The store interface: everything the services may ask of persistence.

It lives in the domain, not in `chat.store`, so services depend on this contract and
never on an implementation. Two implementations (`chat.store.sqlite.SQLiteStore`,
`chat.store.mongo.MongoStore`) pass one contract test-suite (tests/store/). Uniqueness
and sequence allocation are the store's job, done with unique indexes and atomic
updates, never check-then-insert in a service. Failures are `StoreError`; clashes on a
unique index are `DuplicateError` (both in `chat.domain.errors`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime

from .models import (
    Membership,
    Message,
    MessageType,
    Page,
    Role,
    Room,
    RoomKind,
    Scope,
    User,
    Visibility,
)


class Store(ABC):
    # -- lifecycle -------------------------------------------------------
    @abstractmethod
    def migrate(self) -> list[int]:
        """Bring the schema up to date, applying the pending versioned steps in order;
        return the versions applied. Safe on every start and from several processes."""

    @abstractmethod
    def ping(self) -> None:
        """Raise StoreError when the database cannot answer."""

    @abstractmethod
    def close(self) -> None: ...

    # -- users -----------------------------------------------------------
    @abstractmethod
    def create_user(
        self,
        username: str,
        password_hash: str,
        email: str | None = None,
        display_name: str | None = None,
    ) -> User:
        """Insert a user; DuplicateError('username'|'email') on a clash ignoring case."""

    @abstractmethod
    def get_user(self, user_id: str) -> User | None: ...

    @abstractmethod
    def get_user_by_login(self, login: str) -> User | None:
        """Find a live user by username or email, ignoring case."""

    @abstractmethod
    def get_users(self, user_ids: list[str]) -> dict[str, User]:
        """Batch lookup, so a page of messages costs one query for its authors."""

    # -- revoked tokens --------------------------------------------------
    @abstractmethod
    def revoke_token(self, jti: str, expires_at: datetime) -> None: ...

    @abstractmethod
    def is_token_revoked(self, jti: str) -> bool: ...

    # -- rooms -----------------------------------------------------------
    @abstractmethod
    def create_room(
        self,
        *,
        name: str | None,
        kind: RoomKind,
        visibility: Visibility,
        owner_id: str,
        description: str = "",
        password_hash: str | None = None,
        direct_key: str | None = None,
    ) -> Room:
        """Insert a room with its owner as first member; DuplicateError('name')."""

    @abstractmethod
    def get_room(self, room_id: str) -> Room | None: ...

    @abstractmethod
    def list_rooms(self, user_id: str, scope: Scope) -> list[Room]:
        """Rooms the user is in, direct ones included ('joined'), public group rooms
        ('public'), or both ('all'), oldest first."""

    @abstractmethod
    def member_counts(self, room_ids: list[str]) -> dict[str, int]: ...

    @abstractmethod
    def add_member(self, room_id: str, user_id: str, role: Role = "member") -> bool:
        """Add a membership; False when the user already was a member."""

    @abstractmethod
    def remove_member(self, room_id: str, user_id: str) -> bool: ...

    @abstractmethod
    def set_role(self, room_id: str, user_id: str, role: Role) -> bool:
        """Change a member's role; False when the user is not a member."""

    @abstractmethod
    def set_owner(self, room_id: str, owner_id: str | None) -> None:
        """Record the room's owner (None when nobody is left to inherit it)."""

    @abstractmethod
    def claim_ownership(self, room_id: str, user_id: str) -> bool:
        """Make `user_id` the owner only if the room has none; True when it did.

        Atomic, so of two people joining an ownerless room at once only one adopts it.
        """

    @abstractmethod
    def get_membership(self, room_id: str, user_id: str) -> Membership | None: ...

    @abstractmethod
    def get_memberships(self, user_id: str, room_ids: list[str]) -> dict[str, Membership]:
        """The user's memberships among `room_ids`, keyed by room id."""

    @abstractmethod
    def list_members(self, room_id: str) -> list[Membership]:
        """Members in the order they joined."""

    @abstractmethod
    def mark_read(self, room_id: str, user_id: str, seq: int) -> int:
        """Move the read marker forward (never back); return the marker now stored."""

    # -- messages --------------------------------------------------------
    @abstractmethod
    def add_message(
        self,
        *,
        room_id: str,
        author_id: str,
        content: str,
        type: MessageType = "text",
        reply_to: str | None = None,
        client_id: str | None = None,
    ) -> tuple[Message, bool]:
        """Store a message under the room's next seq, allocated atomically.

        Returns (message, created). With a `client_id` the same author already used
        in this room, returns the first message and False, and allocates no seq.
        """

    @abstractmethod
    def get_message(self, room_id: str, message_id: str) -> Message | None: ...

    @abstractmethod
    def last_messages(self, rooms: list[Room]) -> dict[str, Message]:
        """Each room's newest message, keyed by room id (rooms with none are absent)."""

    @abstractmethod
    def list_messages(
        self,
        room_id: str,
        *,
        before: int | None = None,
        after: int | None = None,
        limit: int = 50,
    ) -> Page:
        """A page served by the (room_id, seq) index.

        With `after`: the oldest `limit` messages past it (catching up). Otherwise the
        newest `limit` before `before` (or the end). `has_more` says whether the page
        stopped short of the range.
        """

    @abstractmethod
    def tombstone_message(self, room_id: str, message_id: str) -> Message | None:
        """Blank the content and mark deleted; the seq stays so history has no gaps."""
