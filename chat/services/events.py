"""What services announce. Only the realtime publisher turns these into emits; the
services never see a socket, which is why REST and Socket.IO posts reach clients alike."""

from __future__ import annotations

from typing import Protocol

from ..store import Message, Room, User


class Publisher(Protocol):
    def message_created(self, message: Message) -> None: ...

    def message_deleted(self, message: Message) -> None: ...

    def member_joined(self, room: Room, user: User) -> None: ...

    def member_left(self, room: Room, user: User) -> None: ...

    def tokens_revoked(self, user_id: str, jtis: list[str]) -> None: ...


class RecordingPublisher:
    """Keeps what was announced: for CLI use and for service tests that assert on it."""

    def __init__(self) -> None:
        self.events: list[tuple[str, object]] = []

    def message_created(self, message: Message) -> None:
        self.events.append(("new_message", message))

    def message_deleted(self, message: Message) -> None:
        self.events.append(("message_deleted", message))

    def member_joined(self, room: Room, user: User) -> None:
        self.events.append(("user_joined", (room, user)))

    def member_left(self, room: Room, user: User) -> None:
        self.events.append(("user_left", (room, user)))

    def tokens_revoked(self, user_id: str, jtis: list[str]) -> None:
        self.events.append(("tokens_revoked", (user_id, jtis)))
