"""The rules of the chat, free of Flask and sockets, wired together once per app."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from ..domain.store import Store
from .accounts import AccountService
from .conversations import ConversationService
from .events import Publisher
from .limits import Budgets
from .live import LiveService
from .messages import MessageService
from .passwords import Hasher
from .presence import Presence
from .rooms import RoomService
from .verification import Mailer, VerificationService, VerificationSettings


@dataclass
class Services:
    store: Store
    presence: Presence
    publisher: Publisher
    accounts: AccountService
    rooms: RoomService
    messages: MessageService
    verification: VerificationService
    conversations: ConversationService
    live: LiveService
    budgets: Budgets  # shared between processes when RATELIMIT_STORAGE_URI says so
    socket_budget: Budgets  # one socket's events: that socket's process alone


@dataclass(frozen=True)
class AccountSettings:
    """What accounts need from the configuration (see `create_app`)."""

    mailer: Mailer
    verification: VerificationSettings
    session_lifetime: timedelta  # JWT_REFRESH_TOKEN_EXPIRES: a session outlives no token


def build_services(
    store: Store,
    publisher: Publisher,
    presence: Presence,
    hash_method: str,
    accounts: AccountSettings,
    budgets: Budgets,
    socket_budget: Budgets,
    typing_timeout: float = 5.0,
) -> Services:
    """Wire the services around one store, publisher and presence registry."""
    hasher = Hasher(hash_method)
    rooms = RoomService(store, publisher, presence, hasher)
    verification = VerificationService(store, accounts.mailer, accounts.verification)
    return Services(
        store=store,
        presence=presence,
        publisher=publisher,
        accounts=AccountService(
            store, publisher, presence, hasher, verification, rooms, accounts.session_lifetime
        ),
        rooms=rooms,
        messages=MessageService(store, rooms, publisher, presence, budgets),
        verification=verification,
        conversations=ConversationService(store, rooms, presence),
        live=LiveService(store, rooms, presence, publisher, typing_timeout),
        budgets=budgets,
        socket_budget=socket_budget,
    )
