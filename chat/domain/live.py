"""The live-state interface: what describes connected sockets, shared by every process.

Who is connected, which sockets watch which room, and which online users are members of
which rooms. It answers "is she online?", "who watches this room?" and, once per posted
message, "which online members are not watching?" (they get a `notification`) without a
store query per member. One process keeps it in memory (`chat.live.memory`); several
keep it in Redis (`chat.live.redis`), where a crashed process's sockets vanish once its
heartbeat stops. Socket ids are opaque strings here: nothing in this module touches a
socket, and both implementations pass one contract suite (tests/live/).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Collection, Iterable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field


@dataclass
class Fanout:
    """Who must hear of a new message besides the room's watchers."""

    idle: set[str]  # online members with no socket watching the room
    legacy: bool  # a socket on the original namespace watches the room


@dataclass
class Heartbeat:
    """What a heartbeat found: users whose last socket died with a dead process, and
    whether this process's own registration had been lost (its state must be re-sent)."""

    offline: list[str] = field(default_factory=list)
    rejoined: bool = False


class LiveState(ABC):
    # -- sockets ---------------------------------------------------------
    @abstractmethod
    def socket_opened(self, sid: str, user_id: str) -> bool:
        """Record a socket; True when it is the user's first anywhere (came online)."""

    @abstractmethod
    def socket_closed(self, sid: str, user_id: str) -> bool:
        """Forget a socket; True when it was the user's last anywhere (went offline)."""

    @abstractmethod
    def is_online(self, user_id: str) -> bool: ...

    @abstractmethod
    def online_among(self, user_ids: Iterable[str]) -> set[str]: ...

    @abstractmethod
    def sockets_of(self, user_id: str) -> set[str]:
        """The user's sockets on every process."""

    # -- the rooms of online users ------------------------------------------
    @abstractmethod
    def came_online(self, user_id: str, room_ids: Iterable[str]) -> None:
        """Record the rooms of a user who came online (nothing if they went offline
        meanwhile: the check and the change are one atomic step)."""

    @abstractmethod
    def went_offline(self, user_id: str) -> None:
        """Forget the rooms of a user who went offline (nothing if they came back)."""

    @abstractmethod
    def member_added(self, room_id: str, user_id: str) -> None:
        """A user joined a room: counted among its online members if online."""

    @abstractmethod
    def member_removed(self, room_id: str, user_id: str) -> None: ...

    @abstractmethod
    def forget_room(self, room_id: str) -> None:
        """A deleted room: it has no online members, idle members or watchers any more
        (each process unwatches its own sockets first)."""

    @abstractmethod
    def co_members(self, user_id: str) -> set[str]:
        """Online users who share a room with this one (whose presence they see)."""

    # -- watching ----------------------------------------------------------
    @abstractmethod
    def watch(self, room_id: str, user_id: str, sid: str, legacy: bool = False) -> None:
        """A socket watches a room (once per socket and room, however often asked)."""

    @abstractmethod
    def unwatch(self, room_id: str, sid: str) -> None: ...

    @abstractmethod
    def watchers(self, room_id: str) -> set[str]:
        """Users with a socket watching the room."""

    @abstractmethod
    def fanout(self, room_id: str) -> Fanout:
        """Asked once per message: the online members not watching, and whether the
        original namespace needs the message. Costs what its answer holds, not the
        room's size."""

    def posting(self, room_ids: Collection[str]) -> AbstractContextManager[None]:
        """Held while posts to these rooms are stored and announced, so that processes
        sharing a queue announce each room's messages in seq order. One process needs
        nothing: it stores and announces its posts one batch at a time."""
        return nullcontext()

    # -- liveness ----------------------------------------------------------
    @abstractmethod
    def heartbeat(self) -> Heartbeat:
        """Say this process is alive; reap processes that stopped saying so."""

    @abstractmethod
    def close(self) -> None: ...
