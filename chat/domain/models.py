"""Plain records the store returns and the services pass around.

They carry no behaviour and know nothing of SQL, Mongo or Flask, so a service can be
read without knowing which store is behind it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

RoomKind = Literal["group", "direct"]
Visibility = Literal["public", "private"]
Role = Literal["owner", "admin", "member"]
MessageType = Literal["text"]
Scope = Literal["joined", "public", "all"]
TokenType = Literal["access", "refresh"]


@dataclass
class User:
    id: str
    username: str
    password_hash: str
    created_at: datetime
    email: str | None = None
    display_name: str | None = None
    avatar_url: str | None = None
    last_seen: datetime | None = None
    deleted: bool = False
    # False while an account registered under EMAIL_VERIFICATION awaits its code.
    verified: bool = True
    # Filled by services from live presence; never stored.
    online: bool = field(default=False, compare=False)


@dataclass
class Room:
    id: str
    name: str | None
    kind: RoomKind
    visibility: Visibility
    owner_id: str | None
    created_at: datetime
    description: str = ""
    password_hash: str | None = None
    last_seq: int = 0
    direct_key: str | None = None
    # When the room was created or last received a message: conversations are listed
    # by it, most recent first.
    last_activity_at: datetime | None = None
    # Filled by services for listings; never stored with the room.
    member_count: int | None = field(default=None, compare=False)
    last_message: Message | None = field(default=None, compare=False)
    last_read_seq: int | None = field(default=None, compare=False)
    # Tombstones past the viewer's marker: deleted messages are not unread.
    deleted_unread: int = field(default=0, compare=False)
    # A direct room's other participant, as the viewer sees it.
    participant: User | None = field(default=None, compare=False)

    @property
    def has_password(self) -> bool:
        return self.password_hash is not None

    @property
    def unread_count(self) -> int | None:
        """The seqs past the marker, less the tombstones among them: the room's counter
        and an index of deletions, so unread counts cost no query per message and never
        count a room's history."""
        if self.last_read_seq is None:
            return None
        return max(self.last_seq - self.last_read_seq - self.deleted_unread, 0)

    def peer_of(self, user_id: str) -> str | None:
        """In a direct room, the participant who is not `user_id`."""
        pair = direct_pair(self.direct_key) if self.kind == "direct" else None
        if pair is None or user_id not in pair:
            return None
        return pair[1] if pair[0] == user_id else pair[0]


@dataclass
class Membership:
    room_id: str
    user_id: str
    role: Role
    joined_at: datetime
    last_read_seq: int = 0
    # Filled by services for member listings; never stored with the membership.
    user: User | None = field(default=None, compare=False)


@dataclass
class Message:
    id: str
    room_id: str
    seq: int
    author_id: str | None
    content: str
    created_at: datetime
    type: MessageType = "text"
    reply_to: str | None = None
    client_id: str | None = None
    edited_at: datetime | None = None
    deleted: bool = False
    # Filled by services from the users table; never stored with the message.
    author: User | None = field(default=None, compare=False)


@dataclass
class LoginSession:
    """One sign-in: its access and refresh tokens carry its id (`sid`) and die with it."""

    id: str
    user_id: str
    created_at: datetime
    expires_at: datetime
    ended_at: datetime | None = None

    def live(self, at: datetime) -> bool:
        return self.ended_at is None and self.expires_at > at


@dataclass
class VerificationCode:
    """The one pending email code of an unverified account, stored as a keyed hash."""

    user_id: str
    code_hash: str
    sent_at: datetime
    expires_at: datetime
    attempts: int = 0


@dataclass(frozen=True)
class JoinResult:
    """What one atomic join did: `joined` a new membership (False: already a member, or
    `banned`), and whether the joiner adopted a room that had no owner."""

    joined: bool
    banned: bool = False
    owner: bool = False


@dataclass(frozen=True)
class LeaveResult:
    """What one atomic leave (or removal) did: whether a membership went, the role it had,
    and the room's owner afterwards (`owner_changed` when the leaver's ownership passed)."""

    left: bool
    role: Role | None = None
    owner_id: str | None = None
    owner_changed: bool = False


@dataclass(frozen=True)
class NewPost:
    """A message to store: what `Store.add_messages` takes, many at a time."""

    room_id: str
    author_id: str
    content: str
    type: MessageType = "text"
    reply_to: str | None = None
    client_id: str | None = None
    # Move the author's read marker to it too: your own message is read by you.
    read: bool = True


@dataclass(frozen=True)
class Posted:
    """What became of a `NewPost`: the message stored (`created`), the earlier one its
    `client_id` repeats (not `created`), or None when the room is gone."""

    message: Message | None
    created: bool


@dataclass
class Page:
    """A slice of a room's history, oldest first (search results: newest first)."""

    messages: list[Message]
    has_more: bool


@dataclass
class ReadState:
    """A member's read marker in a room, and what is left unread past it."""

    room_id: str
    last_read_seq: int
    unread_count: int


@dataclass
class Conversations:
    """A page of a user's direct rooms, most recent activity first."""

    rooms: list[Room]
    next_cursor: str | None


def direct_key(user_a: str, user_b: str) -> str:
    """The one key of a pair's direct room, whichever of the two opens it."""
    return ":".join(sorted((user_a, user_b)))


def direct_pair(key: str | None) -> tuple[str, str] | None:
    """The two user ids a direct key names (ids never contain ':')."""
    parts = (key or "").split(":")
    return (parts[0], parts[1]) if len(parts) == 2 and all(parts) else None


def fold(text: str) -> str:
    """The key names are compared and searched by, ignoring case: what both stores keep
    beside usernames, emails, room names and display names."""
    return text.casefold()


def now() -> datetime:
    """UTC, to the millisecond: the precision both stores keep, so they compare equal."""
    return to_millisecond(datetime.now(UTC))


def to_millisecond(moment: datetime) -> datetime:
    """A time as the stores keep it: UTC, whole milliseconds."""
    moment = moment.astimezone(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)
