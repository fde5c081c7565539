"""What services announce. Only the realtime publisher turns these into emits; the
services never see a socket, which is why REST and Socket.IO posts reach clients alike."""

from __future__ import annotations

from typing import Protocol

from ..domain.models import Message, Room, User


class Publisher(Protocol):
    def message_created(self, message: Message) -> None: ...

    def message_deleted(self, message: Message) -> None: ...

    def member_joined(self, room: Room, user: User) -> None: ...

    def member_left(self, room: Room, user: User) -> None: ...

    def tokens_revoked(self, user_id: str, jtis: list[str]) -> None: ...
