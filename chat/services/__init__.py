"""The rules of the chat, free of Flask and sockets, wired together once per app."""

from __future__ import annotations

from dataclasses import dataclass

from ..domain.store import Store
from .accounts import AccountService
from .events import Publisher
from .messages import MessageService
from .passwords import Hasher
from .presence import Presence
from .rooms import RoomService


@dataclass
class Services:
    store: Store
    presence: Presence
    publisher: Publisher
    accounts: AccountService
    rooms: RoomService
    messages: MessageService


def build_services(
    store: Store, publisher: Publisher, presence: Presence, hash_method: str
) -> Services:
    """Wire the services around one store, publisher and presence registry."""
    hasher = Hasher(hash_method)
    rooms = RoomService(store, publisher, presence, hasher)
    return Services(
        store=store,
        presence=presence,
        publisher=publisher,
        accounts=AccountService(store, publisher, presence, hasher),
        rooms=rooms,
        messages=MessageService(store, rooms, publisher),
    )
