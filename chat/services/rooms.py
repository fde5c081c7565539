"""Rooms and membership: who may see, join, leave and list a room, and moderation."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..domain.errors import Conflict, DuplicateError, Forbidden, NotFound
from ..domain.models import LeaveResult, Membership, Role, Room, Scope, User, Visibility
from ..domain.store import Store
from .events import Publisher
from .passwords import Hasher
from .presence import Presence

MANAGERS: tuple[Role, ...] = ("owner", "admin")


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
        """Fill the listing fields with a fixed number of queries, whatever the count.

        `last_message` is the room's newest seq, a tombstone if that one was deleted.
        `unread_count` is the room's counter less the marker less the tombstones past
        it, counted from the index of deletions: never from the room's history.
        """
        ids = [room.id for room in rooms]
        counts = self.store.member_counts(ids)
        mine = self.store.get_memberships(user.id, ids)
        last = self.store.last_messages(rooms)
        behind = {
            room.id: mine[room.id].last_read_seq
            for room in rooms
            if room.id in mine and mine[room.id].last_read_seq < room.last_seq
        }
        deleted = self.store.count_deleted_after(behind)
        peers = {room.id: room.peer_of(user.id) for room in rooms if room.kind == "direct"}
        wanted = [m.author_id for m in last.values() if m.author_id]
        people = self.store.get_users(wanted + [p for p in peers.values() if p])
        online = self.presence.online_among(p for p in peers.values() if p)
        for room in rooms:
            room.member_count = counts.get(room.id, 0)
            room.last_message = last.get(room.id)
            if room.last_message and room.last_message.author_id:
                room.last_message.author = people.get(room.last_message.author_id)
            membership = mine.get(room.id)
            room.last_read_seq = membership.last_read_seq if membership else None
            room.deleted_unread = deleted.get(room.id, 0)
            peer = peers.get(room.id)
            if peer and peer in people:
                room.participant = people[peer]
                room.participant.online = peer in online
        return rooms

    def members(self, user: User, room_id: str) -> list[Membership]:
        self.require_member(user, room_id)
        members = self.store.list_members(room_id)
        users = self.store.get_users([m.user_id for m in members])
        online = self.presence.online_among(users)
        for member in members:
            member.user = users.get(member.user_id)
            if member.user:
                member.user.online = member.user_id in online
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
        self.presence.member_added(room.id, user.id)  # the creator is its first member
        return self.describe(user, [room])[0]

    def join(self, user: User, room_id: str, password: str | None = None) -> tuple[Room, bool]:
        """Become a member; (room, True) when newly joined, (room, False) if already in.

        A room left empty keeps no owner and is adopted by whoever joins next; the store
        does the join and the adoption as one step, so no interleaving with a leave can
        leave a room with members and no owner (issue 6's race)."""
        # Only public rooms are visible to outsiders; private ones are joined by invite.
        room, membership = self._visible(user, room_id)
        if membership is None:
            if room.has_password and not (
                password and self.hasher.check(room.password_hash, password)
            ):
                raise Forbidden("Wrong room password.")
            try:
                joined = self.store.join_room(room.id, user.id)
            except LookupError as gone:
                raise NotFound("No such room.") from gone
            if joined.banned:
                raise Forbidden("You were removed from this room; an admin must invite you back.")
            if joined.joined:
                self.presence.member_added(room.id, user.id)
                if joined.owner:
                    room.owner_id = user.id
                self.publisher.member_joined(room, user)
                return self.describe(user, [room])[0], True
        return self.describe(user, [room])[0], False

    def leave(self, user: User, room_id: str) -> None:
        """Stop being a member; an owner's room passes to the longest-standing admin,
        else member, else nobody, in the same store step as the leave."""
        room, _ = self.require_member(user, room_id)
        if room.kind == "direct":
            raise Conflict("A direct conversation cannot be left.")
        self._announce_leave(room, user, self.store.leave_room(room.id, user.id))

    def leave_all(self, user: User) -> None:
        """Leave every group room (an account being deleted); direct conversations keep
        their history with the deleted account in them."""
        for room in self.store.list_rooms(user.id, "joined"):
            if room.kind == "group":
                self._announce_leave(room, user, self.store.leave_room(room.id, user.id))

    def _announce_leave(self, room: Room, user: User, result: LeaveResult) -> None:
        if not result.left:
            return
        self.presence.member_removed(room.id, user.id)
        self.publisher.member_left(room, user)
        if result.owner_changed:
            room.owner_id = result.owner_id
            self.publisher.room_updated(self._public(room))

    def _public(self, room: Room) -> Room:
        """The room as a broadcast shows it: counts and last message, nobody's marker."""
        fresh = self.store.get_room(room.id) or room
        fresh.member_count = self.store.member_counts([fresh.id]).get(fresh.id, 0)
        last = self.store.last_messages([fresh])
        fresh.last_message = last.get(fresh.id)
        if fresh.last_message and fresh.last_message.author_id:
            author = self.store.get_users([fresh.last_message.author_id])
            fresh.last_message.author = author.get(fresh.last_message.author_id)
        return fresh

    # -- moderation (issue 6) --------------------------------------------
    def _managed(
        self, user: User, room_id: str, roles: tuple[Role, ...]
    ) -> tuple[Room, Membership]:
        """A group room in which the user holds one of `roles`, with their membership."""
        room, membership = self.require_member(user, room_id)
        if room.kind == "direct":
            raise Conflict("A direct conversation has no settings, invites or roles.")
        if membership.role not in roles:
            who = "its owner" if roles == ("owner",) else "an owner or admin"
            raise Forbidden(f"Only {who} may do that in this room.")
        return room, membership

    def update(self, user: User, room_id: str, changes: Mapping[str, Any]) -> Room:
        """Owners and admins change the name, description, visibility or password (a
        null password removes it); names stay unique ignoring case (409)."""
        room, _ = self._managed(user, room_id, MANAGERS)
        stored = dict(changes)
        if "password" in stored:
            password = stored.pop("password")
            stored["password_hash"] = self.hasher.hash(password) if password else None
        if stored:
            try:
                updated = self.store.update_room(room.id, stored)
            except DuplicateError as clash:
                raise Conflict(
                    "A room with that name already exists.", errors={"name": ["Already taken."]}
                ) from clash
            if updated is None:
                raise NotFound("No such room.")
            room = updated
            self.publisher.room_updated(self._public(room))
        return self.describe(user, [room])[0]

    def delete(self, user: User, room_id: str) -> None:
        """The owner deletes the room, and its history with it."""
        room, _ = self._managed(user, room_id, ("owner",))
        if self.store.delete_room(room.id):
            self.publisher.room_deleted(room)

    def invite(self, user: User, room_id: str, invitee_id: str) -> tuple[Membership, bool]:
        """Admins add someone (the only way into a private room, and back into a room
        they were removed from); (membership, False) when already a member."""
        room, _ = self._managed(user, room_id, MANAGERS)
        invitee = self._live_user(invitee_id)
        try:
            added = self.store.invite_member(room.id, invitee.id)
        except LookupError as gone:
            raise NotFound("No such room.") from gone
        if added:
            self.presence.member_added(room.id, invitee.id)
            self.publisher.member_invited(room, invitee)
        return self._member(room.id, invitee), added

    def remove(self, user: User, room_id: str, member_id: str) -> None:
        """Admins remove members, the owner removes admins too; nobody removes the owner
        or an equal (yourself included: that is leaving). The removed user may not
        rejoin until invited, and their sockets stop receiving the room at once."""
        room, mine = self._managed(user, room_id, MANAGERS)
        target = self.store.get_membership(room.id, member_id)
        if target is None:
            raise NotFound("That user is not a member of this room.")
        below: tuple[Role, ...] = ("admin", "member") if mine.role == "owner" else ("member",)
        if target.user_id == user.id or target.role not in below:
            raise Forbidden("You may not remove the owner, an equal, or yourself (leave instead).")
        # The role is a condition of the store's step, so a promotion meanwhile wins.
        result = self.store.leave_room(room.id, member_id, ban=True, roles=below)
        if not result.left:
            raise Forbidden("That member's role changed meanwhile; you may not remove them.")
        self.presence.member_removed(room.id, member_id)
        removed = self.store.get_user(member_id)
        if removed is not None:
            self.publisher.member_removed(room, removed)

    def set_role(self, user: User, room_id: str, member_id: str, role: Role) -> Membership:
        """The owner makes a member an admin or a plain member, or hands ownership over
        (becoming an admin), in one store step."""
        room, _ = self._managed(user, room_id, ("owner",))
        target = self.store.get_membership(room.id, member_id)
        if target is None:
            raise NotFound("That user is not a member of this room.")
        if target.user_id == user.id:
            raise Conflict("Your role changes only by handing ownership to another member.")
        if role == "owner":
            if not self.store.transfer_ownership(room.id, user.id, member_id):
                raise Conflict("Ownership changed meanwhile; nothing was done.")
            room.owner_id = member_id
            self.publisher.room_updated(self._public(room))
        elif not self.store.set_role(room.id, member_id, role):
            raise NotFound("That user is not a member of this room.")
        member = self.store.get_user(member_id)
        if member is None:
            raise NotFound("No such user.")
        if role != "owner":
            self.publisher.member_updated(room, member, role)
        return self._member(room.id, member)

    def _live_user(self, user_id: str) -> User:
        found = self.store.get_user(user_id)
        if found is None or found.deleted:
            raise NotFound("No such user.")
        return found

    def _member(self, room_id: str, user: User) -> Membership:
        membership = self.store.get_membership(room_id, user.id)
        if membership is None:  # gone again at once: a concurrent removal
            raise NotFound("That user is not a member of this room.")
        user.online = self.presence.is_online(user.id)
        membership.user = user
        return membership

    def online(self, user: User, room_id: str) -> list[User]:
        """Members connected now and watching this room."""
        self.require_member(user, room_id)
        watching = self.presence.watchers(room_id)
        users = self.store.get_users(sorted(watching))
        for member in users.values():
            member.online = True
        return sorted(users.values(), key=lambda u: u.username.casefold())

    # -- the operator's (flask chat promote) -------------------------------
    def appoint_owner(self, room_id: str, user_id: str) -> Room:
        """Make a user the owner of a group room, whoever owns it now: invited first if
        they are not a member (which lifts a ban, and adopts a room nobody owns), then
        handed the room by its owner, who becomes an admin. No acting user: this is the
        operator's command, not a route."""
        room = self.store.get_room(room_id)
        if room is None:
            raise NotFound("No such room.")
        if room.kind == "direct":
            raise Conflict("A direct conversation has no owner.")
        user = self._live_user(user_id)
        outsider = self.store.get_membership(room.id, user.id) is None
        if outsider and self.store.invite_member(room.id, user.id):
            self.presence.member_added(room.id, user.id)
            self.publisher.member_invited(room, user)
        current = self.store.get_room(room.id)
        if current is None:
            raise NotFound("No such room.")
        if current.owner_id != user.id:
            if current.owner_id is None or not self.store.transfer_ownership(
                room.id, current.owner_id, user.id
            ):
                raise Conflict("The room's ownership changed meanwhile; try again.")
            current.owner_id = user.id
            self.publisher.room_updated(self._public(current))
        return current
