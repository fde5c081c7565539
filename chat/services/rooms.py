"""Rooms and membership: who may see, join, leave and list a room."""

from __future__ import annotations

from ..domain.errors import Conflict, DuplicateError, Forbidden, NotFound
from ..domain.models import Membership, Room, Scope, User, Visibility
from ..domain.store import Store
from .events import Publisher
from .passwords import Hasher
from .presence import Presence

MANAGERS = ("owner", "admin")


class RoomService:
    def __init__(self, store: Store, publisher: Publisher, presence: Presence, hasher: Hasher):
        self.store = store
        self.publisher = publisher
        self.presence = presence
        self.hasher = hasher

    # -- reading ---------------------------------------------------------
    def _visible(self, user: User, room_id: str) -> tuple[Room, Membership | None]:
        """The room and the user's membership; 404 when the user may not know it exists."""
        room = self.store.get_room(room_id)
        membership = self.store.get_membership(room_id, user.id) if room else None
        if room is None or (membership is None and not self.is_public(room)):
            raise NotFound("No such room.")
        return room, membership

    @staticmethod
    def is_public(room: Room) -> bool:
        return room.kind == "group" and room.visibility == "public"

    def require_member(self, user: User, room_id: str) -> tuple[Room, Membership]:
        """Members only: a public room's outsider is told to join (403), others see 404."""
        room, membership = self._visible(user, room_id)
        if membership is None:
            raise Forbidden("Join the room first.")
        return room, membership

    def get(self, user: User, room_id: str) -> Room:
        room, _ = self._visible(user, room_id)
        return self.describe(user, [room])[0]

    def listing(self, user: User, scope: Scope = "joined") -> list[Room]:
        return self.describe(user, self.store.list_rooms(user.id, scope))

    def describe(self, user: User, rooms: list[Room]) -> list[Room]:
        """Fill the listing fields with a fixed number of queries, whatever the count."""
        ids = [room.id for room in rooms]
        counts = self.store.member_counts(ids)
        mine = self.store.get_memberships(user.id, ids)
        last = self.store.last_messages(rooms)
        authors = self.store.get_users([m.author_id for m in last.values() if m.author_id])
        for room in rooms:
            room.member_count = counts.get(room.id, 0)
            room.last_message = last.get(room.id)
            if room.last_message and room.last_message.author_id:
                room.last_message.author = authors.get(room.last_message.author_id)
            membership = mine.get(room.id)
            room.last_read_seq = membership.last_read_seq if membership else None
        return rooms

    def members(self, user: User, room_id: str) -> list[Membership]:
        self.require_member(user, room_id)
        members = self.store.list_members(room_id)
        users = self.store.get_users([m.user_id for m in members])
        for member in members:
            member.user = users.get(member.user_id)
            if member.user:
                member.user.online = self.presence.is_online(member.user_id)
        return [m for m in members if m.user is not None]

    # -- writing ---------------------------------------------------------
    def create(
        self,
        user: User,
        name: str,
        description: str = "",
        visibility: Visibility = "public",
        password: str | None = None,
    ) -> Room:
        password_hash = self.hasher.hash(password) if password else None
        try:
            room = self.store.create_room(
                name=name,
                kind="group",
                visibility=visibility,
                owner_id=user.id,
                description=description,
                password_hash=password_hash,
            )
        except DuplicateError as clash:
            raise Conflict(
                "A room with that name already exists.", errors={"name": ["Already taken."]}
            ) from clash
        return self.describe(user, [room])[0]

    def join(self, user: User, room_id: str, password: str | None = None) -> tuple[Room, bool]:
        """Become a member; (room, True) when newly joined, (room, False) if already in."""
        # Only public rooms are visible to outsiders; private ones are joined by invite.
        room, membership = self._visible(user, room_id)
        if membership is None:
            if room.has_password and not (
                password and self.hasher.check(room.password_hash, password)
            ):
                raise Forbidden("Wrong room password.")
            if self.store.add_member(room.id, user.id):
                # An ownerless room (its last owner left) is adopted by whoever comes
                # next; the store's claim is atomic, so two at once make one owner.
                if room.owner_id is None and self.store.claim_ownership(room.id, user.id):
                    self.store.set_role(room.id, user.id, "owner")
                    room.owner_id = user.id
                self.publisher.member_joined(room, user)
                return self.describe(user, [room])[0], True
        return self.describe(user, [room])[0], False

    def leave(self, user: User, room_id: str) -> None:
        room, membership = self.require_member(user, room_id)
        if room.kind == "direct":
            raise Conflict("A direct conversation cannot be left.")
        if not self.store.remove_member(room.id, user.id):
            return
        if membership.role == "owner":
            self._pass_ownership(room)
        self.publisher.member_left(room, user)

    def _pass_ownership(self, room: Room) -> None:
        """To the longest-standing admin, else the longest-standing member, else nobody."""
        remaining = self.store.list_members(room.id)
        heir = next((m for m in remaining if m.role == "admin"), None) or next(
            iter(remaining), None
        )
        if heir:
            self.store.set_role(room.id, heir.user_id, "owner")
        self.store.set_owner(room.id, heir.user_id if heir else None)

    def online(self, user: User, room_id: str) -> list[User]:
        """Members connected now and watching this room."""
        self.require_member(user, room_id)
        watching = self.presence.watchers(room_id)
        users = self.store.get_users(sorted(watching))
        for member in users.values():
            member.online = True
        return sorted(users.values(), key=lambda u: u.username.casefold())
