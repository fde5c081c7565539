"""Messages: posting in seq order, history pages, deletion as tombstones."""

from __future__ import annotations

from collections.abc import Iterator

from ..concurrency import StripedLock
from ..domain.errors import Forbidden, Invalid, NotFound
from ..domain.models import Membership, Message, Page, User
from ..domain.store import Store
from .events import Publisher
from .rooms import MANAGERS, RoomService


class MessageService:
    def __init__(self, store: Store, rooms: RoomService, publisher: Publisher):
        self.store = store
        self.rooms = rooms
        self.publisher = publisher
        # Store-then-announce under a per-room lock: without it, two posts could be
        # announced in the opposite order to their seqs.
        self._ordering = StripedLock()

    def post(
        self,
        user: User,
        room_id: str,
        content: str,
        reply_to: str | None = None,
        client_id: str | None = None,
    ) -> tuple[Message, bool]:
        """Store and announce; (message, False) when `client_id` repeats an earlier post."""
        room, _ = self.rooms.require_member(user, room_id)
        if reply_to and self.store.get_message(room.id, reply_to) is None:
            raise Invalid(errors={"reply_to": ["No such message in this room."]})
        with self._ordering(room.id):
            try:
                message, created = self.store.add_message(
                    room_id=room.id,
                    author_id=user.id,
                    content=content,
                    reply_to=reply_to,
                    client_id=client_id,
                )
            except LookupError as gone:
                raise NotFound("No such room.") from gone
            message.author = user
            if created:
                self.publisher.message_created(message)
        if created:
            # Your own message is read: it must not count as unread for you.
            self.store.mark_read(room.id, user.id, message.seq)
        return message, created

    def history(
        self,
        user: User,
        room_id: str,
        before: int | None = None,
        after: int | None = None,
        limit: int = 50,
    ) -> Page:
        room, _ = self.rooms.require_member(user, room_id)
        page = self.store.list_messages(room.id, before=before, after=after, limit=limit)
        self._attach_authors(page.messages)
        return page

    def get(self, user: User, room_id: str, message_id: str) -> Message:
        return self._find(user, room_id, message_id)[0]

    def delete(self, user: User, room_id: str, message_id: str) -> Message:
        """The author or a room admin may delete; the seq stays, as a tombstone."""
        message, membership = self._find(user, room_id, message_id)
        if message.author_id != user.id and membership.role not in MANAGERS:
            raise Forbidden("Only the author or a room admin may delete this message.")
        if message.deleted:
            return message
        tombstone = self.store.tombstone_message(message.room_id, message.id)
        if tombstone is None:  # the room went, with its history, since the lookup
            raise NotFound("No such message.")
        self._attach_authors([tombstone])
        self.publisher.message_deleted(tombstone)
        return tombstone

    def _find(self, user: User, room_id: str, message_id: str) -> tuple[Message, Membership]:
        """A message of a room the user is in, with their membership; 404 if none."""
        room, membership = self.rooms.require_member(user, room_id)
        message = self.store.get_message(room.id, message_id)
        if message is None:
            raise NotFound("No such message.")
        self._attach_authors([message])
        return message, membership

    def _attach_authors(self, messages: list[Message]) -> None:
        """One query for all of a page's authors, not one per message."""
        authors = self.store.get_users([m.author_id for m in messages if m.author_id])
        for message in messages:
            message.author = authors.get(message.author_id) if message.author_id else None

    # -- the operator's (flask chat export-room) ----------------------------
    def export(self, room_id: str, page_size: int = 500) -> Iterator[Message]:
        """A room's whole history, oldest first, a page at a time (never all in memory),
        with authors; no acting user: this is the operator's command, not a route."""
        if self.store.get_room(room_id) is None:
            raise NotFound("No such room.")
        after = 0
        while True:
            page = self.store.list_messages(room_id, after=after, limit=page_size)
            self._attach_authors(page.messages)
            yield from page.messages
            if not page.has_more or not page.messages:
                return
            after = page.messages[-1].seq
