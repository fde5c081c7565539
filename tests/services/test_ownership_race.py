"""Ownership under concurrency: whatever the interleaving of leaves, joins, removals and
account deletions, every room with members ends with exactly one owner, who is a member
with the role `owner` (issue 6: an owner leaving while someone joined left rooms with a
member and no owner, about 7 in 100).

The services run on real SQLite stores from many threads, half of them through a
second store on the same file, standing for a second process.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from chat.domain.models import User
from chat.domain.store import Store
from chat.mail import LogMailer
from chat.services import AccountSettings, Services, build_services
from chat.services.limits import Budgets
from chat.services.passwords import Hasher
from chat.services.presence import Presence
from chat.services.rooms import RoomService
from chat.services.verification import VerificationSettings

ROOMS = 60


class Silent:
    """A publisher that announces nothing: these tests look at the store only."""

    def __getattr__(self, name: str) -> Callable[..., None]:
        return lambda *args, **kwargs: None


def services(store: Store) -> Services:
    settings = AccountSettings(LogMailer(), VerificationSettings(), timedelta(hours=1))
    off = Budgets("memory://", {}, enabled=False)
    return build_services(store, Silent(), Presence(), "pbkdf2:sha256:1", settings, off, off)  # type: ignore[arg-type]


def room_service(store: Store) -> RoomService:
    return RoomService(store, Silent(), Presence(), Hasher("pbkdf2:sha256:1"))  # type: ignore[arg-type]


def run_at_once(jobs: list[Callable[[], Any]]) -> list[BaseException]:
    """Start every job on its own thread behind one barrier; return what they raised."""
    start = threading.Barrier(len(jobs))
    errors: list[BaseException] = []

    def run(job: Callable[[], Any]) -> None:
        start.wait()
        try:
            job()
        except BaseException as error:  # reported by the test, not lost in a thread
            errors.append(error)

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return errors


def assert_one_owner_each(store: Store, room_ids: list[str]) -> None:
    broken = []
    for room_id in room_ids:
        room = store.get_room(room_id)
        assert room is not None
        members = store.list_members(room_id)
        owners = [m.user_id for m in members if m.role == "owner"]
        ok = owners == [room.owner_id] if members else room.owner_id is None
        if not ok:
            broken.append((room.owner_id, [(m.user_id, m.role) for m in members]))
    assert broken == [], f"{len(broken)} of {len(room_ids)} rooms broken: {broken[:5]}"


@pytest.fixture
def two_processes(make_store) -> tuple[Store, Store]:
    return make_store("sqlite"), make_store("sqlite")


def users(store: Store, prefix: str, count: int) -> list[User]:
    return [store.create_user(f"{prefix}{n}", "hash") for n in range(count)]


def test_an_owner_leaving_while_someone_joins_leaves_one_owner(two_processes):
    first, second = two_processes
    owners, joiners = users(first, "owner", ROOMS), users(first, "joiner", ROOMS)
    rooms = [room_service(first).create(owner, f"room{n}") for n, owner in enumerate(owners)]
    here, there = room_service(first), room_service(second)
    jobs: list[Callable[[], Any]] = []
    for room, owner, joiner in zip(rooms, owners, joiners, strict=True):
        jobs.append(lambda room=room, owner=owner: here.leave(owner, room.id))
        jobs.append(lambda room=room, joiner=joiner: there.join(joiner, room.id))
    assert run_at_once(jobs) == []
    assert_one_owner_each(first, [room.id for room in rooms])
    for room, joiner in zip(rooms, joiners, strict=True):
        assert [m.user_id for m in first.list_members(room.id)] == [joiner.id]


def test_an_owner_deleting_their_account_while_someone_joins_leaves_one_owner(two_processes):
    first, second = two_processes
    here, there = services(first), services(second)
    owners = [here.accounts.register(f"owner{n}", "password") for n in range(ROOMS)]
    joiners = users(first, "joiner", ROOMS)
    rooms = [here.rooms.create(owner, f"room{n}") for n, owner in enumerate(owners)]
    jobs: list[Callable[[], Any]] = []
    for room, owner, joiner in zip(rooms, owners, joiners, strict=True):
        jobs.append(lambda owner=owner: here.accounts.delete_account(owner, owner.id, "password"))
        jobs.append(lambda room=room, joiner=joiner: there.rooms.join(joiner, room.id))
    assert run_at_once(jobs) == []
    assert_one_owner_each(first, [room.id for room in rooms])
    assert all(first.get_user(owner.id).deleted for owner in owners)


def test_removals_leaves_and_joins_at_once_leave_one_owner(two_processes):
    """Per room: the owner leaves, an admin removes a member, another member leaves and
    a newcomer joins, all at once, through two stores on one file."""
    first, second = two_processes
    here, there = room_service(first), room_service(second)
    rooms, jobs = [], []
    for n in range(ROOMS // 2):
        owner, admin, member, other, newcomer = users(first, f"r{n}u", 5)
        room = here.create(owner, f"room{n}")
        for user in (admin, member, other):
            here.join(user, room.id)
        first.set_role(room.id, admin.id, "admin")
        rooms.append(room)
        jobs += [
            lambda room=room, owner=owner: here.leave(owner, room.id),
            lambda room=room, a=admin, m=member: there.remove(a, room.id, m.id),
            lambda room=room, o=other: there.leave(o, room.id),
            lambda room=room, u=newcomer: here.join(u, room.id),
        ]
    # The admin may inherit the room mid-way (admins come first): removing is still theirs.
    assert run_at_once(jobs) == []
    assert_one_owner_each(first, [room.id for room in rooms])
