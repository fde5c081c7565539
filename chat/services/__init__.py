"""The rules of the chat, free of Flask and sockets, wired together once per app."""

from __future__ import annotations

from dataclasses import dataclass

from ..store import Store
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
    accounts: AccountService
    rooms: RoomService
    messages: MessageService


def build_services(store: Store, publisher: Publisher, hash_method: str) -> Services:
    hasher = Hasher(hash_method)
    presence = Presence()
    rooms = RoomService(store, publisher, presence, hasher)
    return Services(
        store=store,
        presence=presence,
        accounts=AccountService(store, presence, hasher),
        rooms=rooms,
        messages=MessageService(store, rooms, publisher),
    )
