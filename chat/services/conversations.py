"""Direct conversations: one private room per pair of users.

The room is the pair's whatever its age and whoever opens it: the store keys it by the
sorted pair, atomically, so two people opening it at the same moment get one room. It
is a room of kind `direct` and uses every room rule: only its two members see, read or
post in it, and nobody can join, leave or be invited to it.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime

from ..domain.errors import Invalid, NotFound
from ..domain.models import Conversations, Room, User
from ..domain.store import Store
from .presence import Presence
from .rooms import RoomService


class ConversationService:
    def __init__(self, store: Store, rooms: RoomService, presence: Presence):
        self.store = store
        self.rooms = rooms
        self.presence = presence

    def open(
        self,
        user: User,
        username: str | None = None,
        email: str | None = None,
        user_id: str | None = None,
    ) -> tuple[Room, bool]:
        """The pair's room, (room, True) when this call made it. The other person is
        named by exactly one of username, email or id; a deleted or unverified account is
        not found (404), and nobody has a conversation with themself (422)."""
        other = self._find(username, email, user_id)
        if other.id == user.id:
            field = "user_id" if user_id else ("email" if email else "username")
            raise Invalid(errors={field: ["You cannot open a conversation with yourself."]})
        room, created = self.store.open_direct_room(user.id, other.id)
        if created:
            for member in (user.id, other.id):
                self.presence.member_added(room.id, member)
        return self.rooms.describe(user, [room])[0], created

    def _find(self, username: str | None, email: str | None, user_id: str | None) -> User:
        if user_id:
            found = self.store.get_user(user_id)
        else:
            found = self.store.get_user_by_login(username or email or "")
        # A deleted account, or one still waiting for its email code, is nobody to talk to.
        if found is None or found.deleted or not found.verified:
            raise NotFound("No such user.")
        return found

    def listing(self, user: User, limit: int = 20, cursor: str | None = None) -> Conversations:
        """Yours, most recent activity first; `next_cursor` continues the listing."""
        before = decode_cursor(cursor) if cursor else None
        rooms, more = self.store.list_direct_rooms(user.id, before=before, limit=limit)
        described = self.rooms.describe(user, rooms)
        last = described[-1] if more and described else None
        return Conversations(described, encode_cursor(last) if last else None)


def encode_cursor(room: Room) -> str:
    moment = room.last_activity_at or room.created_at
    raw = f"{moment.isoformat()}|{room.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The (last activity, room id) a cursor continues after; 422 if it is not one."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        moment, room_id = raw.split("|", 1)
        parsed = datetime.fromisoformat(moment)
    except (ValueError, binascii.Error, UnicodeDecodeError) as error:
        raise Invalid(errors={"cursor": ["Not a cursor of this listing."]}) from error
    if parsed.tzinfo is None or not room_id:
        raise Invalid(errors={"cursor": ["Not a cursor of this listing."]})
    return parsed, room_id
