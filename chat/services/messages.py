"""Messages: posting in seq order, history pages, deletion as tombstones, edits, search
and read markers."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

from ..concurrency import GroupCommit
from ..domain.errors import Conflict, Forbidden, Invalid, NotFound
from ..domain.models import Membership, Message, NewPost, Page, Posted, ReadState, User, now
from ..domain.store import Store
from .events import Publisher
from .limits import Budgets
from .presence import Presence
from .rooms import MANAGERS, RoomService

# A word, as the search indexes cut text: letters and digits, anything else separates.
_WORD = re.compile(r"[^\W_]+")
SEARCH_WORDS_MAX = 16


def search_words(query: str) -> list[str]:
    """The words of a search query, in order, each once. Quotes, `*`, `-`, `NEAR`,
    `AND`… are just text: punctuation separates words, and a word is only a word."""
    words = _WORD.findall(unicodedata.normalize("NFC", query).casefold())
    return list(dict.fromkeys(words))[:SEARCH_WORDS_MAX]


@dataclass(frozen=True)
class _Pending:
    post: NewPost
    author: User


class MessageService:
    def __init__(
        self,
        store: Store,
        rooms: RoomService,
        publisher: Publisher,
        presence: Presence,
        budgets: Budgets,
    ):
        self.store = store
        self.rooms = rooms
        self.publisher = publisher
        self.presence = presence
        self.budgets = budgets
        # Posts are stored in batches (one commit each) and announced by the batch's
        # leader in the order stored, so per room they go out in seq order.
        self._log: GroupCommit[_Pending, Posted] = GroupCommit(self._store_and_announce)

    def post(
        self,
        user: User,
        room_id: str,
        content: str,
        reply_to: str | None = None,
        client_id: str | None = None,
    ) -> tuple[Message, bool]:
        """Store and announce; (message, False) when `client_id` repeats an earlier post.

        Every post counts against the user's `messages` budget (RATELIMIT_MESSAGES),
        whichever way it came, REST, Socket.IO or an original route; so does a repeat,
        which the store only recognises later."""
        room, _ = self.rooms.require_member(user, room_id)
        self.budgets.spend("messages", user.id, "You are sending messages too fast.")
        if reply_to and self.store.get_message(room.id, reply_to) is None:
            raise Invalid(errors={"reply_to": ["No such message in this room."]})
        post = NewPost(room.id, user.id, content, reply_to=reply_to, client_id=client_id)
        posted = self._log.submit(_Pending(post, user))
        if posted.message is None:
            raise NotFound("No such room.")
        return posted.message, posted.created

    def _store_and_announce(self, pending: list[_Pending]) -> list[Posted]:
        """One batch: stored in one transaction (your own message is read by you in the
        same step), then each new message announced, in the order stored; all while
        holding the rooms' turn, so other processes do not announce between."""
        with self.presence.posting({p.post.room_id for p in pending}):
            results = self.store.add_messages([p.post for p in pending])
            for item, posted in zip(pending, results, strict=True):
                if posted.message is None:
                    continue
                posted.message.author = item.author  # a repeat's author is the same user
                if posted.created:
                    self._announce(posted.message)
        return results

    def _announce(self, message: Message) -> None:
        """To the room's watchers; as a `notification` to its online members who are
        not watching (the author aside). The live state has that set ready: one look-up
        per message, whatever the room's size."""
        fanout = self.presence.fanout(message.room_id)
        self.publisher.message_created(message, legacy=fanout.legacy)
        idle = fanout.idle - {message.author_id}
        if idle:
            self.publisher.notify(message, idle)

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

    def edit(self, user: User, room_id: str, message_id: str, content: str) -> Message:
        """The author only; a tombstone stays deleted (409)."""
        message, _ = self._find(user, room_id, message_id)
        if message.author_id != user.id:
            raise Forbidden("Only the author may edit this message.")
        if message.deleted:
            raise Conflict("The message was deleted; it cannot be edited.")
        edited = self.store.edit_message(message.room_id, message.id, content, now())
        if edited is None:  # deleted since the look-up
            raise Conflict("The message was deleted; it cannot be edited.")
        edited.author = user
        self.publisher.message_edited(edited)
        return edited

    def search(
        self, user: User, room_id: str, q: str, before: int | None = None, limit: int = 20
    ) -> Page:
        """Messages of the room with every word of `q`, newest first; members only."""
        room, _ = self.rooms.require_member(user, room_id)
        words = search_words(q)
        if not words:
            raise Invalid(errors={"q": ["Give at least one word (letters or digits)."]})
        page = self.store.search_messages(room.id, words, before=before, limit=limit)
        self._attach_authors(page.messages)
        return page

    def mark_read(self, user: User, room_id: str, seq: int) -> ReadState:
        """Move the marker forward, never back; a seq past the room's last is taken as
        the last. When it moved, the room (and the reader's other sockets) hear `read`."""
        room, membership = self.rooms.require_member(user, room_id)
        marker = self.store.mark_read(room.id, user.id, min(seq, room.last_seq))
        if marker > membership.last_read_seq:
            self.publisher.read_moved(room.id, user.id, marker)
        deleted = self.store.count_deleted_after({room.id: marker}).get(room.id, 0)
        return ReadState(room.id, marker, max(room.last_seq - marker - deleted, 0))

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
