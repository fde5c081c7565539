"""What services announce. Only the realtime publisher turns these into emits; the
services never see a socket, which is why REST and Socket.IO posts reach clients alike."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Protocol

from ..domain.models import Message, Role, Room, User


class Publisher(Protocol):
    def message_created(self, message: Message, legacy: bool = True) -> None:
        """To the room's watchers; `legacy`: to those on the original namespace too."""

    def message_deleted(self, message: Message) -> None: ...

    def member_joined(self, room: Room, user: User) -> None: ...

    def member_left(self, room: Room, user: User) -> None: ...

    # -- accounts and moderation (issue 6) -------------------------------
    def member_invited(self, room: Room, user: User) -> None: ...

    def member_removed(self, room: Room, user: User) -> None:
        """Also stops the removed user's sockets watching the room, on every process."""

    def room_updated(self, room: Room) -> None: ...

    def member_updated(self, room: Room, user: User, role: Role) -> None: ...

    def room_deleted(self, room: Room) -> None: ...

    def sessions_ended(self, user_id: str, session_ids: list[str]) -> None:
        """Close the sockets signed in with these sessions, on every process."""

    def account_closed(self, user_id: str) -> None:
        """Close every socket of the user, on every process."""

    # -- messages and read state -------------------------------------------
    def message_edited(self, message: Message) -> None: ...

    def notify(self, message: Message, user_ids: Iterable[str]) -> None:
        """A `notification` to these users' sockets: members not watching the room."""

    def read_moved(self, room_id: str, user_id: str, seq: int) -> None: ...

    # -- live --------------------------------------------------------------
    def typing(self, room_id: str, user: User, typing: bool, skip: Iterable[str]) -> None:
        """To the room's watchers but the sockets in `skip` (the typist's)."""

    def presence_changed(
        self, user_id: str, online: bool, last_seen: datetime | None, to: Iterable[str]
    ) -> None: ...
