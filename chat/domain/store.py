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
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Literal

from .models import (
    JoinResult,
    LeaveResult,
    LoginSession,
    Membership,
    Message,
    MessageType,
    NewPost,
    Page,
    Posted,
    Role,
    Room,
    RoomKind,
    Scope,
    User,
    VerificationCode,
    Visibility,
)

# What `update_user` and `update_room` may change; a key present with None clears it.
USER_FIELDS = frozenset({"username", "display_name", "avatar_url"})
ROOM_FIELDS = frozenset({"name", "description", "visibility", "password_hash"})
SearchField = Literal["username", "display_name"]


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

    @abstractmethod
    def backup(self, target: str) -> None:
        """Copy the whole database to the file `target`, safely while serving; stores
        with a backup tool of their own (MongoDB: mongodump) raise NotImplementedError."""

    # -- users -----------------------------------------------------------
    @abstractmethod
    def create_user(
        self,
        username: str,
        password_hash: str,
        email: str | None = None,
        display_name: str | None = None,
        verified: bool = True,
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

    # -- accounts (issue 6) ----------------------------------------------
    @abstractmethod
    def update_user(self, user_id: str, changes: Mapping[str, str | None]) -> User | None:
        """Change the profile fields named in `changes` (keys from USER_FIELDS) of a live
        user; the user after, or None when there is none. DuplicateError('username')."""

    @abstractmethod
    def set_password(self, user_id: str, password_hash: str) -> bool: ...

    @abstractmethod
    def set_verified(self, user_id: str) -> bool:
        """Mark the account's email verified, and drop its pending code."""

    @abstractmethod
    def anonymise_user(self, user_id: str, *, username: str, display_name: str) -> bool:
        """Delete an account but keep its row, so its messages keep their author id: the
        name shown becomes `username`/`display_name`, the name and the email are free
        again, the password and avatar go, and it is marked deleted."""

    @abstractmethod
    def discard_user(self, user_id: str) -> bool:
        """Remove an unverified account outright (a registration whose mail failed);
        False for any other account."""

    @abstractmethod
    def search_users(
        self,
        field: SearchField,
        prefix: str,
        after: tuple[str, str] | None,
        limit: int,
    ) -> list[User]:
        """Live users whose folded `field` starts with the folded `prefix`, in (key, id)
        order past `after`, at most `limit`: a range on an index, never a scan."""

    # -- sign-in sessions ------------------------------------------------
    @abstractmethod
    def create_session(self, user_id: str, expires_at: datetime) -> LoginSession:
        """Start a session; the user's sessions past their expiry are swept meanwhile."""

    @abstractmethod
    def get_session(self, session_id: str) -> LoginSession | None: ...

    @abstractmethod
    def end_session(self, session_id: str) -> bool:
        """End a live session; False when it was already ended or never existed."""

    @abstractmethod
    def end_user_sessions(self, user_id: str) -> list[str]:
        """End every live session of the user; the ids of those ended."""

    # -- verification codes ----------------------------------------------
    @abstractmethod
    def put_verification_code(
        self, code: VerificationCode, resend_after: datetime
    ) -> datetime | None:
        """Store the user's code, replacing the pending one, unless that one was sent
        after `resend_after`: then store nothing and return when its sending was (so
        the caller can say when to retry). Atomic, so two resends at once send one."""

    @abstractmethod
    def use_verification_attempt(
        self, user_id: str, at: datetime, max_attempts: int
    ) -> VerificationCode | None:
        """Count one attempt against the user's pending code, atomically, and return the
        code; None when there is none, it expired by `at`, or its attempts are spent.
        Counting before comparing is what bounds guesses made at the same moment."""

    @abstractmethod
    def delete_verification_code(self, user_id: str, code_hash: str | None = None) -> bool:
        """Drop the user's code (only if it is still `code_hash`, when given)."""

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
    def set_role(self, room_id: str, user_id: str, role: Role) -> bool:
        """Make a member an admin or a plain member; False when the user is not a member
        or is the owner (ownership moves by `transfer_ownership` only)."""

    # -- ownership and moderation (issue 6) -----------------------------
    # Every room with members has exactly one owner, a member whose role is `owner`
    # and whom `rooms.owner_id` names; a room without members has none. These calls
    # keep that true as one atomic step each, whatever runs at the same time.
    @abstractmethod
    def join_room(self, room_id: str, user_id: str) -> JoinResult:
        """Add a plain membership, unless the user is banned from the room or already a
        member; a joiner of a room without an owner becomes its owner, in the same step."""

    @abstractmethod
    def leave_room(
        self,
        room_id: str,
        user_id: str,
        *,
        ban: bool = False,
        roles: tuple[Role, ...] | None = None,
    ) -> LeaveResult:
        """Remove a membership (only if its role is in `roles`, when given), banning the
        user from rejoining when `ban`; if the leaver owned the room, ownership passes to
        the longest-standing admin, else member, else nobody, in the same step."""

    @abstractmethod
    def invite_member(self, room_id: str, user_id: str) -> bool:
        """Add a plain membership and lift any ban; False when already a member."""

    @abstractmethod
    def transfer_ownership(self, room_id: str, from_id: str, to_id: str) -> bool:
        """Make member `to_id` the owner and owner `from_id` an admin, in one step;
        False (and nothing changed) unless `from_id` owns the room and `to_id` is in it."""

    @abstractmethod
    def is_banned(self, room_id: str, user_id: str) -> bool: ...

    @abstractmethod
    def update_room(self, room_id: str, changes: Mapping[str, str | None]) -> Room | None:
        """Change the fields named in `changes` (keys from ROOM_FIELDS); the room after,
        or None when it is gone. DuplicateError('name') on a clash ignoring case."""

    @abstractmethod
    def delete_room(self, room_id: str) -> bool:
        """Delete the room with its history, memberships and bans."""

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
    def add_messages(self, posts: Sequence[NewPost]) -> list[Posted]:
        """Store posts in order, each under its room's next seq, allocated atomically:
        one transaction for them all where the store has transactions, so a burst costs
        one commit (a group commit), and none is stored unless all are.

        A post whose `client_id` its author already used in that room gives back the
        first message, not created, and allocates no seq (a repeat within the same call
        too); a post to a room that is gone gives `Posted(None, False)`. With `read`,
        the author's read marker moves to their created message.
        """

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
        """One post (see `add_messages`); LookupError when the room is gone."""
        post = NewPost(room_id, author_id, content, type, reply_to, client_id, read=False)
        [posted] = self.add_messages([post])
        if posted.message is None:
            raise LookupError(f"no room {room_id}")
        return posted.message, posted.created

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

    # -- messages: edits, search, read state -------------------------------
    @abstractmethod
    def edit_message(
        self, room_id: str, message_id: str, content: str, edited_at: datetime
    ) -> Message | None:
        """Replace a live message's content and set `edited_at`; None when there is no
        such message in the room or it is a tombstone (checked in the same write)."""

    @abstractmethod
    def search_messages(
        self, room_id: str, words: list[str], *, before: int | None = None, limit: int = 20
    ) -> Page:
        """Live messages of the room containing every word, newest first, with seq below
        `before` if given. Served by a full-text index restricted to the room: never a
        scan of the room's messages. `words` are plain words (no syntax of any engine)."""

    @abstractmethod
    def count_deleted_after(self, markers: dict[str, int]) -> dict[str, int]:
        """For each room id, the tombstones with a seq past its marker (rooms with none
        are absent). Served by an index of deleted messages: bounded by deletions, never
        by a room's history."""

    # -- direct conversations ----------------------------------------------
    @abstractmethod
    def open_direct_room(self, user_a: str, user_b: str) -> tuple[Room, bool]:
        """The pair's one direct room, both of them members; (room, True) when this call
        created it. Atomic: two calls at once for one pair make one room."""

    @abstractmethod
    def list_direct_rooms(
        self, user_id: str, *, before: tuple[datetime, str] | None = None, limit: int = 20
    ) -> tuple[list[Room], bool]:
        """The user's direct rooms by last activity, newest first, starting after the
        (last_activity_at, id) cursor `before`; and whether more follow. Served by an
        index on (participant, last activity)."""

    # -- presence ----------------------------------------------------------
    @abstractmethod
    def member_room_ids(self, user_id: str) -> list[str]:
        """Every room the user is in: read once when they come online."""

    @abstractmethod
    def set_last_seen(self, user_id: str, when: datetime) -> None: ...
