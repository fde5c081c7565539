"""The Store contract: what every store must do, run against each (see conftest.py).

A test here states behaviour a service relies on, never how a store does it; the few
tests at the end that reach into one implementation say so in their names.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from pymongo.errors import AutoReconnect, DuplicateKeyError, ServerSelectionTimeoutError

from chat.domain.errors import DuplicateError, StoreError
from chat.domain.models import (
    JoinResult,
    LeaveResult,
    Membership,
    Message,
    NewPost,
    Room,
    User,
    VerificationCode,
)
from chat.domain.store import Store
from tests.support import THREAD_SAFE_STORES

GARBAGE_IDS = ["", "nope", "0" * 24, "ffffffffffffffffffffffff", "'; DROP TABLE users; --"]


# -- helpers ---------------------------------------------------------------------
def make_user(store: Store, username: str, email: str | None = None) -> User:
    return store.create_user(username, "hash:" + username, email=email)


def make_group(store: Store, owner: User, name: str, visibility: str = "public", **kwargs) -> Room:
    return store.create_room(
        name=name, kind="group", visibility=visibility, owner_id=owner.id, **kwargs
    )


def make_direct(store: Store, a: User, b: User) -> Room:
    room = store.create_room(
        name=None,
        kind="direct",
        visibility="private",
        owner_id=a.id,
        direct_key=":".join(sorted([a.id, b.id])),
    )
    store.add_member(room.id, b.id)
    return room


def post(
    store: Store, room: Room, author: User, content: str = "hi", **kwargs
) -> tuple[Message, bool]:
    return store.add_message(room_id=room.id, author_id=author.id, content=content, **kwargs)


def fill(store: Store, room: Room, author: User, count: int) -> list[Message]:
    return [post(store, room, author, f"m{n}")[0] for n in range(1, count + 1)]


def seqs(page_messages: list[Message]) -> list[int]:
    return [message.seq for message in page_messages]


def assert_utc(moment: datetime | None) -> None:
    assert moment is not None
    assert moment.tzinfo is not None, "datetimes must be timezone-aware"
    assert moment.utcoffset() == timedelta(0)


@pytest.fixture
def alice(store: Store) -> User:
    return make_user(store, "Alice", email="Alice@Example.com")


@pytest.fixture
def bob(store: Store) -> User:
    return make_user(store, "bob")


@pytest.fixture
def room(store: Store, alice: User) -> Room:
    return make_group(store, alice, "General")


# -- lifecycle -------------------------------------------------------------------
def test_ping_answers(store):
    assert store.ping() is None  # raising StoreError is how a store says it is down


def test_a_closed_sqlite_store_is_down(make_store):
    store = make_store("sqlite")
    store.close()
    with pytest.raises(StoreError):
        store.ping()
    with pytest.raises(StoreError):
        store.get_user("anyone")


def test_migrate_twice_is_harmless(store, alice, room):
    post(store, room, alice)
    store.migrate()
    store.migrate()
    assert store.get_user(alice.id) == alice
    assert store.get_room(room.id).last_seq == 1
    with pytest.raises(DuplicateError):
        make_user(store, "alice")
    assert post(store, room, alice)[0].seq == 2


# -- users -----------------------------------------------------------------------
def test_create_user_round_trips(store):
    user = store.create_user("Carol", "h", email="carol@example.com", display_name="C")
    assert isinstance(user.id, str) and user.id
    assert (user.username, user.password_hash, user.email, user.display_name) == (
        "Carol",
        "h",
        "carol@example.com",
        "C",
    )
    assert user.deleted is False and user.avatar_url is None and user.last_seen is None
    assert_utc(user.created_at)
    assert store.get_user(user.id) == user


def test_user_ids_are_distinct(store):
    ids = {make_user(store, f"user{n}").id for n in range(5)}
    assert len(ids) == 5


@pytest.mark.parametrize("clash", ["Alice", "alice", "ALICE", "aLiCe"])
def test_duplicate_username_ignoring_case_is_refused(store, alice, clash):
    with pytest.raises(DuplicateError) as caught:
        make_user(store, clash)
    assert caught.value.field == "username"


def test_duplicate_email_ignoring_case_is_refused(store, alice):
    with pytest.raises(DuplicateError) as caught:
        make_user(store, "someone", email="alice@EXAMPLE.com")
    assert caught.value.field == "email"


def test_a_refused_user_is_not_stored(store, alice):
    with pytest.raises(DuplicateError):
        make_user(store, "other", email="alice@example.com")
    assert store.get_user_by_login("other") is None


def test_users_without_email_do_not_clash(store):
    make_user(store, "one")
    make_user(store, "two")
    assert store.get_user_by_login("two").username == "two"


@pytest.mark.parametrize(
    "login",
    ["Alice", "alice", "ALICE", "alice@example.com", "ALICE@EXAMPLE.COM", "Alice@Example.com"],
)
def test_login_by_username_or_email_ignoring_case(store, alice, login):
    assert store.get_user_by_login(login) == alice


def test_login_unknown_is_none(store, alice):
    assert store.get_user_by_login("nobody") is None
    assert store.get_user_by_login("") is None


def test_get_users_is_a_batch_keyed_by_id(store, alice, bob):
    carol = make_user(store, "carol")
    found = store.get_users([alice.id, bob.id, alice.id, "missing"])
    assert found == {alice.id: alice, bob.id: bob}
    assert carol.id not in found
    assert store.get_users([]) == {}


@pytest.mark.parametrize("garbage", GARBAGE_IDS)
def test_garbage_ids_find_nothing(store, alice, room, garbage):
    message, _ = post(store, room, alice)
    assert store.get_user(garbage) is None
    assert store.get_users([garbage]) == {}
    assert store.get_room(garbage) is None
    assert store.get_membership(garbage, alice.id) is None
    assert store.get_membership(room.id, garbage) is None
    assert store.get_memberships(garbage, [room.id]) == {}
    assert store.member_counts([garbage]) == {}
    assert store.get_message(room.id, garbage) is None
    assert store.get_message(garbage, message.id) is None
    assert store.list_messages(garbage).messages == []
    assert store.tombstone_message(room.id, garbage) is None
    assert store.list_rooms(garbage, "joined") == []
    assert store.mark_read(garbage, alice.id, 3) == 0
    assert store.leave_room(garbage, alice.id).left is False
    assert store.get_session(garbage) is None
    assert store.end_session(garbage) is False
    assert store.is_banned(garbage, alice.id) is False
    assert store.update_room(garbage, {"description": "x"}) is None
    assert store.delete_room(garbage) is False
    assert store.update_user(garbage, {"display_name": "x"}) is None
    assert store.transfer_ownership(room.id, alice.id, garbage) is False
    with pytest.raises(LookupError):
        store.add_message(room_id=garbage, author_id=alice.id, content="x")


# -- sign-in sessions ------------------------------------------------------------
def test_a_session_round_trips_and_ends_once(store, alice):
    expires = datetime.now(UTC) + timedelta(hours=1)
    session = store.create_session(alice.id, expires)
    assert isinstance(session.id, str) and session.id
    assert (session.user_id, session.ended_at) == (alice.id, None)
    assert_utc(session.created_at)
    assert abs(session.expires_at - expires) < timedelta(milliseconds=1)
    assert store.get_session(session.id) == session
    assert session.live(datetime.now(UTC))
    assert store.end_session(session.id) is True
    ended = store.get_session(session.id)
    assert ended.ended_at is not None and not ended.live(datetime.now(UTC))
    assert store.end_session(session.id) is False  # ending twice changes nothing


def test_ending_a_users_sessions_ends_theirs_only(store, alice, bob):
    later = datetime.now(UTC) + timedelta(hours=1)
    mine = [store.create_session(alice.id, later) for _ in range(3)]
    theirs = store.create_session(bob.id, later)
    store.end_session(mine[0].id)
    assert sorted(store.end_user_sessions(alice.id)) == sorted(s.id for s in mine[1:])
    assert all(store.get_session(s.id).ended_at is not None for s in mine)
    assert store.get_session(theirs.id).ended_at is None
    assert store.end_user_sessions(alice.id) == []
    fresh = store.create_session(alice.id, later)  # signing in again works
    assert store.get_session(fresh.id).ended_at is None


def test_a_new_session_sweeps_the_users_expired_ones(store, alice):
    old = store.create_session(alice.id, datetime.now(UTC) - timedelta(seconds=1))
    live = store.create_session(alice.id, datetime.now(UTC) + timedelta(hours=1))
    assert store.get_session(old.id) is None
    assert store.get_session(live.id) == live


# -- verification codes ----------------------------------------------------------
def code_for(user: User, code_hash: str = "h1", ttl: int = 600, **kwargs) -> VerificationCode:
    sent = datetime.now(UTC)
    return VerificationCode(
        user_id=user.id,
        code_hash=code_hash,
        sent_at=sent,
        expires_at=sent + timedelta(seconds=ttl),
        **kwargs,
    )


def test_a_code_is_replaced_only_after_the_resend_interval(store, alice):
    first = code_for(alice, "h1")
    assert store.put_verification_code(first, first.sent_at - timedelta(minutes=1)) is None
    second = code_for(alice, "h2")
    too_soon = store.put_verification_code(second, second.sent_at - timedelta(minutes=1))
    assert too_soon is not None and abs(too_soon - first.sent_at) < timedelta(milliseconds=1)
    used = store.use_verification_attempt(alice.id, datetime.now(UTC), 5)
    assert used.code_hash == "h1" and used.attempts == 1
    assert store.put_verification_code(second, second.sent_at) is None  # interval over
    replaced = store.use_verification_attempt(alice.id, datetime.now(UTC), 5)
    assert replaced.code_hash == "h2" and replaced.attempts == 1  # a new code, new attempts


def test_attempts_are_counted_and_bounded(store, alice):
    code = code_for(alice)
    store.put_verification_code(code, code.sent_at)
    counts = [store.use_verification_attempt(alice.id, datetime.now(UTC), 3) for _ in range(4)]
    assert [c.attempts if c else None for c in counts] == [1, 2, 3, None]


def test_an_expired_code_is_not_usable(store, alice):
    code = code_for(alice, ttl=60)
    store.put_verification_code(code, code.sent_at)
    assert store.use_verification_attempt(alice.id, code.expires_at, 5) is None
    assert store.use_verification_attempt(alice.id, code.sent_at, 5) is not None
    assert store.use_verification_attempt(make_user(store, "nocode").id, code.sent_at, 5) is None


def test_a_code_is_deleted_only_if_it_is_still_the_same(store, alice):
    code = code_for(alice, "h1")
    store.put_verification_code(code, code.sent_at)
    assert store.delete_verification_code(alice.id, "other") is False
    assert store.delete_verification_code(alice.id, "h1") is True
    assert store.use_verification_attempt(alice.id, code.sent_at, 5) is None
    assert store.delete_verification_code(alice.id) is False


# -- accounts --------------------------------------------------------------------
def test_a_user_is_verified_unless_created_otherwise(store, alice):
    assert alice.verified is True
    pending = store.create_user("pending", "h", email="p@example.com", verified=False)
    assert pending.verified is False and store.get_user(pending.id).verified is False
    code = code_for(pending)
    store.put_verification_code(code, code.sent_at)
    assert store.set_verified(pending.id) is True
    assert store.get_user(pending.id).verified is True
    assert store.use_verification_attempt(pending.id, code.sent_at, 5) is None  # code gone


def test_update_user_changes_only_what_it_names(store, alice, bob):
    changed = store.update_user(alice.id, {"username": "Alicia", "avatar_url": "https://a/b.png"})
    assert (changed.username, changed.avatar_url) == ("Alicia", "https://a/b.png")
    assert (changed.email, changed.id) == (alice.email, alice.id)
    assert store.get_user(alice.id) == changed
    assert store.get_user_by_login("ALICIA") == changed
    assert store.get_user_by_login("alice") is None  # the old name is free
    make_user(store, "alice")
    cleared = store.update_user(alice.id, {"avatar_url": None, "display_name": "A"})
    assert (cleared.avatar_url, cleared.display_name, cleared.username) == (None, "A", "Alicia")


@pytest.mark.parametrize("clash", ["bob", "BOB"])
def test_update_user_refuses_a_taken_name_ignoring_case(store, alice, bob, clash):
    with pytest.raises(DuplicateError) as caught:
        store.update_user(alice.id, {"username": clash})
    assert caught.value.field == "username"
    assert store.get_user(alice.id).username == "Alice"
    assert store.update_user(bob.id, {"username": "BOB"}).username == "BOB"  # own name, new case


def test_update_user_takes_only_profile_fields(store, alice):
    with pytest.raises(ValueError):
        store.update_user(alice.id, {"password_hash": "x"})
    assert store.get_user(alice.id) == alice


def test_set_password(store, alice):
    assert store.set_password(alice.id, "new-hash") is True
    assert store.get_user(alice.id).password_hash == "new-hash"
    assert store.set_password("missing", "x") is False


def test_anonymise_keeps_the_row_and_frees_the_name_and_email(store, alice, room):
    message, _ = post(store, room, alice, "kept")
    assert store.anonymise_user(alice.id, username="deleted", display_name="Deleted") is True
    gone = store.get_user(alice.id)
    assert gone.deleted is True
    assert (gone.username, gone.display_name, gone.email, gone.avatar_url) == (
        "deleted",
        "Deleted",
        None,
        None,
    )
    assert gone.password_hash == ""
    assert store.get_user_by_login("alice") is None
    assert store.get_user_by_login("alice@example.com") is None
    assert store.get_user_by_login("deleted") is None
    again = store.create_user("alice", "h", email="alice@example.com")
    assert again.id != alice.id
    assert store.get_message(room.id, message.id).author_id == alice.id
    assert store.anonymise_user(alice.id, username="deleted", display_name="Deleted") is False
    assert store.update_user(alice.id, {"display_name": "back"}) is None
    assert store.set_password(alice.id, "h") is False


def test_two_deleted_accounts_do_not_clash(store, alice, bob):
    for user in (alice, bob):
        assert store.anonymise_user(user.id, username="deleted", display_name="Deleted")
    assert store.create_user("deleted", "h").username == "deleted"  # a real name stays free


def test_discard_removes_only_an_unverified_account(store, alice):
    pending = store.create_user("pending", "h", email="p@example.com", verified=False)
    assert store.discard_user(alice.id) is False
    assert store.discard_user(pending.id) is True
    assert store.get_user(pending.id) is None
    assert store.create_user("pending", "h", email="p@example.com").username == "pending"


# -- user search -----------------------------------------------------------------
def search_all(store: Store, field: str, prefix: str, page: int) -> list[str]:
    """Every page of a search, following the (key, id) cursor as the service does."""
    found: list[str] = []
    after = None
    while True:
        users = store.search_users(field, prefix, after, page)
        found += [u.id for u in users]
        if len(users) < page:
            return found
        last = users[-1]
        key = last.username if field == "username" else last.display_name
        after = (key.casefold(), last.id)


def test_search_by_username_prefix_ignoring_case(store, alice, bob):
    names = ["Albert", "alba", "ALF", "al", "bal", "xal"]
    made = {name: make_user(store, name) for name in names}
    found = store.search_users("username", "AL", None, 50)
    assert [u.username for u in found] == ["al", "alba", "Albert", "ALF", "Alice"]
    assert store.search_users("username", "alb", None, 50) == [made["alba"], made["Albert"]]
    assert store.search_users("username", "zz", None, 50) == []
    assert [u.username for u in store.search_users("username", "", None, 3)] == [
        "al",
        "alba",
        "Albert",
    ]


def test_search_by_display_name_prefix_ties_broken_by_id(store):
    same = [store.create_user(f"u{n}", "h", display_name="Jo Smith") for n in range(4)]
    other = store.create_user("v", "h", display_name="joanna")
    store.create_user("w", "h", display_name="Bob")
    store.create_user("nameless", "h")
    found = store.search_users("display_name", "jo", None, 50)
    assert found == [*sorted(same, key=lambda u: u.id), other]  # "jo smith" < "joanna"
    assert search_all(store, "display_name", "JO S", 1) == sorted(u.id for u in same)


def test_search_pages_stay_stable_while_users_are_added(store):
    first = [make_user(store, f"m{n:02d}") for n in range(0, 20, 2)]
    page = store.search_users("username", "m", None, 3)
    assert [u.username for u in page] == ["m00", "m02", "m04"]
    for n in range(1, 20, 2):  # newcomers before and after the cursor
        make_user(store, f"m{n:02d}")
    after = ("m04", page[-1].id)
    rest = store.search_users("username", "m", after, 50)
    assert [u.username for u in rest] == [f"m{n:02d}" for n in range(5, 20)]
    assert first[0].id not in {u.id for u in rest}


def test_search_never_lists_deleted_accounts(store, alice, bob):
    store.update_user(bob.id, {"display_name": "Bobby"})
    store.anonymise_user(bob.id, username="deleted", display_name="Deleted account")
    assert store.search_users("username", "", None, 50) == [alice]
    assert store.search_users("username", "del", None, 50) == []
    assert store.search_users("username", "~", None, 50) == []
    assert store.search_users("display_name", "", None, 50) == []


# -- rooms -----------------------------------------------------------------------
def test_create_room_round_trips_with_owner_as_member(store, alice):
    room = make_group(
        store, alice, "Lounge", visibility="private", description="d", password_hash="secret-hash"
    )
    assert isinstance(room.id, str) and room.id
    assert (room.name, room.kind, room.visibility, room.owner_id) == (
        "Lounge",
        "group",
        "private",
        alice.id,
    )
    assert (room.description, room.password_hash, room.last_seq) == ("d", "secret-hash", 0)
    assert room.has_password and room.direct_key is None
    assert_utc(room.created_at)
    assert store.get_room(room.id) == room

    owner = store.get_membership(room.id, alice.id)
    assert owner.role == "owner" and owner.last_read_seq == 0
    assert owner.joined_at == room.created_at
    assert store.list_members(room.id) == [owner]


@pytest.mark.parametrize("clash", ["General", "general", "GENERAL"])
def test_duplicate_group_name_ignoring_case_is_refused(store, alice, bob, room, clash):
    with pytest.raises(DuplicateError) as caught:
        make_group(store, bob, clash, visibility="private")
    assert caught.value.field == "name"
    assert store.list_rooms(bob.id, "joined") == []


def test_direct_rooms_do_not_clash_on_name(store, alice, bob, room):
    carol = make_user(store, "carol")
    ab = make_direct(store, alice, bob)
    ac = make_direct(store, alice, carol)
    assert ab.id != ac.id
    assert (ab.kind, ab.name) == ("direct", None)
    assert ab.direct_key == ":".join(sorted([alice.id, bob.id]))
    assert store.get_room(ab.id) == ab
    # A direct room's name is not a group name: it neither clashes nor blocks one.
    named = store.create_room(
        name="General",
        kind="direct",
        visibility="private",
        owner_id=bob.id,
        direct_key="bob:general",
    )
    assert store.get_room(named.id).name == "General"


def test_duplicate_direct_key_is_refused(store, alice, bob):
    make_direct(store, alice, bob)
    with pytest.raises(DuplicateError) as caught:
        make_direct(store, bob, alice)
    assert caught.value.field == "direct_key"


def test_list_rooms_scopes(store, alice, bob):
    carol = make_user(store, "carol")
    pub_a = make_group(store, alice, "pub-a")
    priv_a = make_group(store, alice, "priv-a", visibility="private")
    pub_b = make_group(store, bob, "pub-b")
    priv_b = make_group(store, bob, "priv-b", visibility="private")
    direct = make_direct(store, alice, bob)
    # A direct room is never public, whatever its visibility says.
    direct_bc = store.create_room(
        name=None, kind="direct", visibility="public", owner_id=bob.id, direct_key="b:c"
    )

    def ids(user: User, scope: str) -> set[str]:
        rooms = store.list_rooms(user.id, scope)
        assert rooms == sorted(rooms, key=lambda r: (r.created_at, r.id))
        assert len({r.id for r in rooms}) == len(rooms)
        return {r.id for r in rooms}

    assert ids(alice, "joined") == {pub_a.id, priv_a.id, direct.id}
    assert ids(alice, "public") == {pub_a.id, pub_b.id}
    assert ids(alice, "all") == {pub_a.id, priv_a.id, pub_b.id, direct.id}
    assert ids(bob, "joined") == {pub_b.id, priv_b.id, direct.id, direct_bc.id}
    assert ids(bob, "all") == {pub_a.id, pub_b.id, priv_b.id, direct.id, direct_bc.id}
    assert ids(carol, "joined") == set()
    assert ids(carol, "public") == {pub_a.id, pub_b.id}
    assert ids(carol, "all") == {pub_a.id, pub_b.id}

    store.add_member(priv_b.id, carol.id)
    assert ids(carol, "joined") == {priv_b.id}
    assert ids(carol, "all") == {pub_a.id, pub_b.id, priv_b.id}


def test_list_rooms_orders_by_creation(store, alice):
    made = []
    for n in range(4):
        made.append(make_group(store, alice, f"room-{n}"))
        time.sleep(0.002)  # distinct milliseconds, so creation order is the order
    assert [r.id for r in store.list_rooms(alice.id, "joined")] == [r.id for r in made]
    assert store.list_rooms(alice.id, "public") == made


def test_member_counts(store, alice, bob, room):
    other = make_group(store, bob, "other")
    empty = make_group(store, bob, "empty")
    store.add_member(room.id, bob.id)
    store.leave_room(empty.id, bob.id)
    assert store.member_counts([room.id, other.id, empty.id, "missing"]) == {
        room.id: 2,
        other.id: 1,
    }
    assert store.member_counts([]) == {}


def test_add_member_once(store, alice, bob, room):
    assert store.add_member(room.id, bob.id) is True
    assert store.add_member(room.id, bob.id, role="admin") is False
    membership = store.get_membership(room.id, bob.id)
    assert (membership.room_id, membership.user_id, membership.role) == (room.id, bob.id, "member")
    assert membership.last_read_seq == 0
    assert_utc(membership.joined_at)
    assert store.add_member(make_group(store, alice, "x").id, bob.id, role="admin") is True


def test_leave_room(store, alice, bob, room):
    store.add_member(room.id, bob.id)
    assert store.leave_room(room.id, bob.id) == LeaveResult(
        left=True, role="member", owner_id=alice.id
    )
    assert store.get_membership(room.id, bob.id) is None
    assert store.leave_room(room.id, bob.id).left is False
    assert store.get_membership(room.id, alice.id) is not None
    assert store.join_room(room.id, bob.id).joined is True  # may join again


def test_set_role(store, alice, bob, room):
    store.add_member(room.id, bob.id)
    assert store.set_role(room.id, bob.id, "admin") is True
    assert store.get_membership(room.id, bob.id).role == "admin"
    assert store.set_role(room.id, bob.id, "admin") is True  # unchanged still counts
    assert store.get_membership(room.id, alice.id).role == "owner"
    carol = make_user(store, "carol")
    assert store.set_role(room.id, carol.id, "admin") is False
    assert store.get_membership(room.id, carol.id) is None


def test_set_role_never_touches_ownership(store, alice, bob, room):
    store.add_member(room.id, bob.id)
    assert store.set_role(room.id, alice.id, "member") is False
    with pytest.raises(ValueError):
        store.set_role(room.id, bob.id, "owner")
    assert_owned_by(store, room, alice)


# -- ownership and moderation ----------------------------------------------------
def assert_owned_by(store: Store, room: Room, owner: User | None) -> None:
    """The invariant: one owner, a member with the owner's role, named by the room."""
    members = store.list_members(room.id)
    assert store.get_room(room.id).owner_id == (owner.id if owner else None)
    assert [m.user_id for m in members if m.role == "owner"] == ([owner.id] if owner else [])


def joined_later(store: Store, room: Room, user: User, role: str = "member") -> None:
    time.sleep(0.002)  # distinct milliseconds, so join order is the order
    assert store.join_room(room.id, user.id).joined
    if role != "member":
        store.set_role(room.id, user.id, role)


def test_join_room(store, alice, bob, room):
    assert store.join_room(room.id, bob.id) == JoinResult(joined=True)
    assert store.get_membership(room.id, bob.id).role == "member"
    assert store.join_room(room.id, bob.id) == JoinResult(joined=False)
    assert_owned_by(store, room, alice)
    with pytest.raises(LookupError):
        store.join_room("missing", bob.id)


def test_the_first_joiner_of_an_empty_room_owns_it(store, alice, bob, room):
    store.leave_room(room.id, alice.id)
    assert_owned_by(store, room, None)
    assert store.join_room(room.id, bob.id) == JoinResult(joined=True, owner=True)
    assert_owned_by(store, room, bob)
    assert store.join_room(room.id, alice.id) == JoinResult(joined=True, owner=False)
    assert_owned_by(store, room, bob)


def test_an_owner_leaving_passes_the_room_to_the_oldest_admin(store, alice, bob, room):
    carol, dave = make_user(store, "carol"), make_user(store, "dave")
    joined_later(store, room, bob)
    joined_later(store, room, carol, "admin")
    joined_later(store, room, dave, "admin")
    result = store.leave_room(room.id, alice.id)
    assert result == LeaveResult(left=True, role="owner", owner_id=carol.id, owner_changed=True)
    assert_owned_by(store, room, carol)
    assert store.get_membership(room.id, dave.id).role == "admin"


def test_else_to_the_oldest_member_else_to_nobody(store, alice, bob, room):
    carol = make_user(store, "carol")
    joined_later(store, room, bob)
    joined_later(store, room, carol)
    assert store.leave_room(room.id, alice.id).owner_id == bob.id
    assert_owned_by(store, room, bob)
    assert store.leave_room(room.id, bob.id).owner_id == carol.id
    last = store.leave_room(room.id, carol.id)
    assert last == LeaveResult(left=True, role="owner", owner_id=None, owner_changed=True)
    assert_owned_by(store, room, None)
    assert store.member_counts([room.id]) == {}


def test_leave_only_of_the_roles_named(store, alice, bob, room):
    joined_later(store, room, bob, "admin")
    assert store.leave_room(room.id, bob.id, roles=("member",)).left is False
    assert store.get_membership(room.id, bob.id).role == "admin"
    assert store.leave_room(room.id, alice.id, roles=("admin", "member")).left is False
    assert store.leave_room(room.id, bob.id, roles=("admin", "member")).left is True


def test_a_ban_keeps_a_removed_user_out_until_invited(store, alice, bob, room):
    joined_later(store, room, bob)
    assert store.leave_room(room.id, bob.id, ban=True).left is True
    assert store.is_banned(room.id, bob.id) is True
    assert store.join_room(room.id, bob.id) == JoinResult(joined=False, banned=True)
    assert store.get_membership(room.id, bob.id) is None
    assert store.invite_member(room.id, bob.id) is True
    assert store.is_banned(room.id, bob.id) is False
    assert store.get_membership(room.id, bob.id).role == "member"
    assert store.invite_member(room.id, bob.id) is False  # already in


def test_a_refused_removal_bans_nobody(store, alice, bob, room):
    joined_later(store, room, bob, "admin")
    assert store.leave_room(room.id, bob.id, ban=True, roles=("member",)).left is False
    assert store.is_banned(room.id, bob.id) is False
    carol = make_user(store, "carol")
    assert store.leave_room(room.id, carol.id, ban=True).left is False  # not a member
    assert store.is_banned(room.id, carol.id) is False


def test_a_plain_leave_bans_nobody(store, alice, bob, room):
    joined_later(store, room, bob)
    store.leave_room(room.id, bob.id)
    assert store.is_banned(room.id, bob.id) is False
    assert store.join_room(room.id, bob.id).joined is True


def test_transfer_ownership(store, alice, bob, room):
    carol = make_user(store, "carol")
    joined_later(store, room, bob)
    assert store.transfer_ownership(room.id, alice.id, carol.id) is False  # not a member
    assert store.transfer_ownership(room.id, bob.id, alice.id) is False  # not the owner
    assert store.transfer_ownership(room.id, alice.id, alice.id) is False
    assert_owned_by(store, room, alice)
    assert store.transfer_ownership(room.id, alice.id, bob.id) is True
    assert_owned_by(store, room, bob)
    assert store.get_membership(room.id, alice.id).role == "admin"
    assert store.transfer_ownership(room.id, alice.id, bob.id) is False


def test_update_room(store, alice, room):
    changed = store.update_room(
        room.id,
        {"name": "Lobby", "description": "d", "visibility": "private", "password_hash": "ph"},
    )
    assert (changed.name, changed.description, changed.visibility) == ("Lobby", "d", "private")
    assert changed.has_password and changed.owner_id == alice.id
    assert store.get_room(room.id) == changed
    assert store.update_room(room.id, {"password_hash": None}).has_password is False
    make_group(store, alice, "General")  # the old name is free
    with pytest.raises(DuplicateError) as caught:
        store.update_room(room.id, {"name": "GENERAL"})
    assert caught.value.field == "name"
    assert store.get_room(room.id).name == "Lobby"
    with pytest.raises(ValueError):
        store.update_room(room.id, {"owner_id": "x"})


def test_a_direct_rooms_name_is_never_unique(store, alice, bob, room):
    direct = make_direct(store, alice, bob)
    assert store.update_room(direct.id, {"name": "General"}).name == "General"
    make_group(store, bob, "another")


def test_delete_room_takes_its_history_memberships_and_bans(store, alice, bob, room):
    other = make_group(store, bob, "other")
    carol = make_user(store, "carol")
    joined_later(store, room, bob)
    joined_later(store, room, carol)
    store.leave_room(room.id, carol.id, ban=True)
    fill(store, room, alice, 3)
    kept = fill(store, other, bob, 2)
    assert store.delete_room(room.id) is True
    assert store.get_room(room.id) is None
    assert store.list_messages(room.id).messages == []
    assert store.list_members(room.id) == []
    assert store.is_banned(room.id, carol.id) is False
    assert store.list_rooms(bob.id, "joined") == [store.get_room(other.id)]
    assert store.list_messages(other.id).messages == kept
    assert store.delete_room(room.id) is False
    with pytest.raises(LookupError):
        post(store, room, alice)
    make_group(store, alice, "general")  # its name is free


@pytest.mark.parametrize("kind", THREAD_SAFE_STORES)
def test_concurrent_joins_of_an_empty_room_make_one_owner(make_store, kind):
    store = make_store(kind)
    founder = make_user(store, "founder")
    room = make_group(store, founder, "orphan")
    store.leave_room(room.id, founder.id)
    joiners = [make_user(store, f"joiner{n}") for n in range(8)]
    results: list[JoinResult] = []
    start = threading.Barrier(len(joiners))

    def join(user: User) -> None:
        start.wait()
        results.append(store.join_room(room.id, user.id))

    threads = [threading.Thread(target=join, args=(u,)) for u in joiners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(r.owner for r in results) == [False] * 7 + [True]
    owner = next(u for u, r in zip(joiners, results, strict=True) if r.owner)
    assert store.get_room(room.id).owner_id in {u.id for u in joiners}
    assert len([m for m in store.list_members(room.id) if m.role == "owner"]) == 1
    del owner


def test_get_memberships(store, alice, bob, room):
    mine = make_group(store, bob, "mine")
    theirs = make_group(store, alice, "theirs")
    found = store.get_memberships(bob.id, [room.id, mine.id, theirs.id, "missing"])
    assert set(found) == {mine.id}
    assert found[mine.id] == store.get_membership(mine.id, bob.id)
    assert isinstance(found[mine.id], Membership)
    assert store.get_memberships(bob.id, []) == {}


def test_list_members_in_join_order(store, alice, bob, room):
    carol = make_user(store, "carol")
    for user in (carol, bob):
        time.sleep(0.002)  # distinct milliseconds, so join order is the order
        store.add_member(room.id, user.id, role="admin" if user is carol else "member")
    members = store.list_members(room.id)
    assert [(m.user_id, m.role) for m in members] == [
        (alice.id, "owner"),
        (carol.id, "admin"),
        (bob.id, "member"),
    ]
    assert store.list_members("missing") == []


def test_mark_read_never_goes_back(store, alice, bob, room):
    assert store.mark_read(room.id, alice.id, 5) == 5
    assert store.mark_read(room.id, alice.id, 3) == 5
    assert store.get_membership(room.id, alice.id).last_read_seq == 5
    assert store.mark_read(room.id, alice.id, 7) == 7
    assert store.get_membership(room.id, alice.id).last_read_seq == 7
    assert store.mark_read(room.id, bob.id, 4) == 0  # not a member: nothing stored
    assert store.get_membership(room.id, bob.id) is None


# -- messages --------------------------------------------------------------------
def test_add_message_round_trips(store, alice, room):
    first, _ = post(store, room, alice, "first")
    message, created = post(
        store, room, alice, "hello", type="system", reply_to=first.id, client_id="c-1"
    )
    assert created is True
    assert isinstance(message.id, str) and message.id
    assert (message.room_id, message.seq, message.author_id, message.content) == (
        room.id,
        2,
        alice.id,
        "hello",
    )
    assert (message.type, message.reply_to, message.client_id) == ("system", first.id, "c-1")
    assert message.deleted is False and message.edited_at is None
    assert_utc(message.created_at)
    assert store.get_message(room.id, message.id) == message
    assert first.type == "text" and first.reply_to is None and first.client_id is None


def test_seqs_count_per_room(store, alice, bob, room):
    other = make_group(store, bob, "other")
    assert [post(store, room, alice)[0].seq for _ in range(3)] == [1, 2, 3]
    assert [post(store, other, bob)[0].seq for _ in range(2)] == [1, 2]
    assert post(store, room, bob)[0].seq == 4
    assert store.get_room(room.id).last_seq == 4
    assert store.get_room(other.id).last_seq == 2


def test_add_message_to_a_missing_room_is_a_lookup_error(store, alice):
    with pytest.raises(LookupError):
        store.add_message(room_id="missing", author_id=alice.id, content="x")


def test_client_id_returns_the_first_message_and_allocates_no_seq(store, alice, room):
    first, created = post(store, room, alice, "once", client_id="abc")
    again, created_again = post(store, room, alice, "twice", client_id="abc")
    assert created is True and created_again is False
    assert again == first and again.content == "once"
    assert store.get_room(room.id).last_seq == 1
    assert post(store, room, alice, "next")[0].seq == 2
    assert seqs(store.list_messages(room.id).messages) == [1, 2]


def test_same_client_id_from_another_author_or_room_is_new(store, alice, bob, room):
    other = make_group(store, alice, "other")
    store.add_member(room.id, bob.id)
    first, _ = post(store, room, alice, client_id="abc")
    by_bob, created_bob = post(store, room, bob, client_id="abc")
    elsewhere, created_elsewhere = post(store, other, alice, client_id="abc")
    assert created_bob is True and created_elsewhere is True
    assert len({first.id, by_bob.id, elsewhere.id}) == 3
    assert (by_bob.seq, elsewhere.seq) == (2, 1)


def test_list_messages_default_is_the_newest_page(store, alice, room):
    fill(store, room, alice, 10)
    page = store.list_messages(room.id)
    assert seqs(page.messages) == list(range(1, 11)) and page.has_more is False
    page = store.list_messages(room.id, limit=3)
    assert seqs(page.messages) == [8, 9, 10] and page.has_more is True
    page = store.list_messages(room.id, limit=10)
    assert seqs(page.messages) == list(range(1, 11)) and page.has_more is False
    page = store.list_messages(room.id, limit=9)
    assert seqs(page.messages) == list(range(2, 11)) and page.has_more is True
    assert page.messages[-1].content == "m10"


def test_list_messages_before(store, alice, room):
    fill(store, room, alice, 10)
    page = store.list_messages(room.id, before=8, limit=3)
    assert seqs(page.messages) == [5, 6, 7] and page.has_more is True
    page = store.list_messages(room.id, before=4, limit=3)
    assert seqs(page.messages) == [1, 2, 3] and page.has_more is False
    page = store.list_messages(room.id, before=5, limit=3)
    assert seqs(page.messages) == [2, 3, 4] and page.has_more is True
    page = store.list_messages(room.id, before=1)
    assert page.messages == [] and page.has_more is False
    page = store.list_messages(room.id, before=99, limit=2)
    assert seqs(page.messages) == [9, 10] and page.has_more is True


def test_list_messages_after(store, alice, room):
    fill(store, room, alice, 10)
    page = store.list_messages(room.id, after=0, limit=3)
    assert seqs(page.messages) == [1, 2, 3] and page.has_more is True
    page = store.list_messages(room.id, after=6, limit=3)
    assert seqs(page.messages) == [7, 8, 9] and page.has_more is True
    page = store.list_messages(room.id, after=7, limit=3)
    assert seqs(page.messages) == [8, 9, 10] and page.has_more is False
    page = store.list_messages(room.id, after=10)
    assert page.messages == [] and page.has_more is False


def test_list_messages_between(store, alice, room):
    fill(store, room, alice, 10)
    page = store.list_messages(room.id, after=2, before=9, limit=3)
    assert seqs(page.messages) == [3, 4, 5] and page.has_more is True  # oldest first
    page = store.list_messages(room.id, after=2, before=6, limit=3)
    assert seqs(page.messages) == [3, 4, 5] and page.has_more is False
    page = store.list_messages(room.id, after=4, before=5)
    assert page.messages == [] and page.has_more is False


def test_list_messages_stays_in_its_room(store, alice, bob, room):
    other = make_group(store, bob, "other")
    fill(store, other, bob, 3)
    assert store.list_messages(room.id).messages == []
    assert store.list_messages(room.id).has_more is False
    fill(store, room, alice, 2)
    page = store.list_messages(room.id)
    assert {m.room_id for m in page.messages} == {room.id}
    assert [m.content for m in page.messages] == ["m1", "m2"]


def test_last_messages(store, alice, bob, room):
    other = make_group(store, bob, "other")
    quiet = make_group(store, bob, "quiet")
    fill(store, room, alice, 3)
    newest_other = fill(store, other, bob, 2)[-1]
    rooms = [store.get_room(r.id) for r in (room, other, quiet)]
    found = store.last_messages(rooms)
    assert set(found) == {room.id, other.id}
    assert found[room.id].seq == 3 and found[room.id].content == "m3"
    assert found[other.id] == newest_other
    assert store.last_messages([]) == {}


def test_tombstone_keeps_the_seq_and_blanks_the_content(store, alice, room):
    made = fill(store, room, alice, 3)
    gone = store.tombstone_message(room.id, made[1].id)
    assert (gone.id, gone.seq, gone.room_id, gone.author_id) == (made[1].id, 2, room.id, alice.id)
    assert gone.deleted is True and gone.content == ""
    assert gone.created_at == made[1].created_at
    assert store.get_message(room.id, made[1].id) == gone
    page = store.list_messages(room.id)
    assert seqs(page.messages) == [1, 2, 3]
    assert [m.deleted for m in page.messages] == [False, True, False]
    assert store.tombstone_message(room.id, made[1].id) == gone  # twice is harmless
    assert post(store, room, alice)[0].seq == 4


def test_message_lookups_need_the_right_room(store, alice, bob, room):
    other = make_group(store, bob, "other")
    message, _ = post(store, room, alice, "kept")
    assert store.get_message(other.id, message.id) is None
    assert store.tombstone_message(other.id, message.id) is None
    assert store.get_message(room.id, message.id).content == "kept"


def test_datetimes_round_trip_as_aware_utc(store, alice, room):
    message, _ = post(store, room, alice)
    session = store.create_session(alice.id, datetime.now(UTC) + timedelta(minutes=5))
    user = store.get_user(alice.id)
    stored_room = store.get_room(room.id)
    membership = store.get_membership(room.id, alice.id)
    stored_message = store.get_message(room.id, message.id)
    stored_session = store.get_session(session.id)
    for moment in (
        user.created_at,
        stored_room.created_at,
        membership.joined_at,
        stored_message.created_at,
        stored_session.created_at,
        stored_session.expires_at,
    ):
        assert_utc(moment)
    assert user.created_at == alice.created_at
    assert stored_room.created_at == room.created_at
    assert stored_message.created_at == message.created_at
    assert store.list_messages(room.id).messages[0].created_at == message.created_at
    assert store.list_rooms(alice.id, "joined")[0].created_at == room.created_at


# -- edits -----------------------------------------------------------------------
def test_edit_message_replaces_content_and_sets_edited_at(store, alice, room):
    made = fill(store, room, alice, 2)
    moment = datetime.now(UTC).replace(microsecond=123000)
    edited = store.edit_message(room.id, made[0].id, "changed", moment)
    assert (edited.id, edited.seq, edited.content) == (made[0].id, 1, "changed")
    assert edited.edited_at == moment
    assert_utc(edited.edited_at)
    assert edited.created_at == made[0].created_at and edited.deleted is False
    assert store.get_message(room.id, made[0].id) == edited
    assert [m.content for m in store.list_messages(room.id).messages] == ["changed", "m2"]


def test_a_tombstone_or_a_missing_message_is_not_edited(store, alice, bob, room):
    made = fill(store, room, alice, 2)
    other = make_group(store, bob, "other")
    store.tombstone_message(room.id, made[0].id)
    moment = datetime.now(UTC)
    assert store.edit_message(room.id, made[0].id, "revived?", moment) is None
    assert store.get_message(room.id, made[0].id).content == ""
    assert store.edit_message(room.id, "missing", "x", moment) is None
    assert store.edit_message(other.id, made[1].id, "x", moment) is None  # wrong room
    assert store.get_message(room.id, made[1].id).edited_at is None


# -- search ----------------------------------------------------------------------
def search_contents(store, room, words, **kwargs) -> list[str]:
    return [m.content for m in store.search_messages(room.id, words, **kwargs).messages]


def test_search_finds_whole_words_newest_first_ignoring_case(store, alice, room):
    for text in ["The quick brown fox", "a slow brown dog", "Quick thinking", "quickly"]:
        post(store, room, alice, text)
    assert search_contents(store, room, ["quick"]) == ["Quick thinking", "The quick brown fox"]
    assert search_contents(store, room, ["BROWN"]) == ["a slow brown dog", "The quick brown fox"]
    assert search_contents(store, room, ["cat"]) == []
    assert store.search_messages(room.id, []).messages == []


def test_search_needs_every_word(store, alice, room):
    for text in ["red apple", "green apple", "red car"]:
        post(store, room, alice, text)
    assert search_contents(store, room, ["red", "apple"]) == ["red apple"]
    assert search_contents(store, room, ["apple", "red"]) == ["red apple"]
    assert search_contents(store, room, ["red", "banana"]) == []


def test_search_stays_in_its_room(store, alice, bob, room):
    other = make_group(store, bob, "other")
    post(store, other, bob, "secret plans")
    post(store, room, alice, "public plans")
    found = store.search_messages(room.id, ["plans"]).messages
    assert [(m.room_id, m.content) for m in found] == [(room.id, "public plans")]
    assert store.search_messages("missing", ["plans"]).messages == []


def test_search_pages_back_by_seq(store, alice, room):
    for n in range(1, 8):
        post(store, room, alice, f"note {n}" if n != 4 else "something else")
    page = store.search_messages(room.id, ["note"], limit=2)
    assert seqs(page.messages) == [7, 6] and page.has_more is True
    page = store.search_messages(room.id, ["note"], before=6, limit=2)
    assert seqs(page.messages) == [5, 3] and page.has_more is True
    page = store.search_messages(room.id, ["note"], before=3, limit=2)
    assert seqs(page.messages) == [2, 1] and page.has_more is False
    page = store.search_messages(room.id, ["note"], before=99, limit=10)
    assert seqs(page.messages) == [7, 6, 5, 3, 2, 1] and page.has_more is False
    assert store.search_messages(room.id, ["note"], before=1).messages == []


def test_search_follows_edits_and_skips_tombstones(store, alice, room):
    first, _ = post(store, room, alice, "original wording")
    second, _ = post(store, room, alice, "doomed wording")
    store.edit_message(room.id, first.id, "revised text", datetime.now(UTC))
    store.tombstone_message(room.id, second.id)
    assert search_contents(store, room, ["original"]) == []
    assert search_contents(store, room, ["doomed"]) == []
    assert search_contents(store, room, ["wording"]) == []
    assert search_contents(store, room, ["revised"]) == ["revised text"]


@pytest.mark.parametrize(
    "word", ['"', 'a"b', "NEAR", "AND", "OR", "NOT", "*", "-x", "content:x", "room_id", "^x"]
)
def test_search_takes_words_as_text_never_as_syntax(store, alice, room, word):
    post(store, room, alice, "NEAR AND OR NOT plain words")
    found = search_contents(store, room, [word])
    assert found in ([], ["NEAR AND OR NOT plain words"])
    if word in ("NEAR", "AND", "OR", "NOT"):
        assert found == ["NEAR AND OR NOT plain words"]


# -- read state ------------------------------------------------------------------
def test_count_deleted_after_counts_tombstones_past_each_marker(store, alice, bob, room):
    other = make_group(store, bob, "other")
    made = fill(store, room, alice, 6)
    theirs = fill(store, other, bob, 3)
    for index in (1, 3, 4):  # seqs 2, 4, 5
        store.tombstone_message(room.id, made[index].id)
    store.tombstone_message(other.id, theirs[0].id)
    assert store.count_deleted_after({room.id: 0, other.id: 0}) == {room.id: 3, other.id: 1}
    assert store.count_deleted_after({room.id: 3, other.id: 1}) == {room.id: 2}
    assert store.count_deleted_after({room.id: 5}) == {}
    assert store.count_deleted_after({}) == {}
    assert store.count_deleted_after({"missing": 0}) == {}


# -- activity and direct conversations ---------------------------------------------
def test_a_room_records_its_last_activity(store, alice, room):
    assert room.last_activity_at == room.created_at
    assert store.get_room(room.id).last_activity_at == room.created_at
    time.sleep(0.002)
    message, _ = post(store, room, alice)
    assert store.get_room(room.id).last_activity_at == message.created_at
    assert_utc(store.get_room(room.id).last_activity_at)


def test_open_direct_room_makes_one_room_per_pair(store, alice, bob):
    room, created = store.open_direct_room(alice.id, bob.id)
    assert created is True
    assert (room.kind, room.visibility, room.name, room.owner_id) == (
        "direct",
        "private",
        None,
        None,
    )
    assert room.direct_key == ":".join(sorted([alice.id, bob.id]))
    assert room.last_activity_at == room.created_at
    again, created_again = store.open_direct_room(bob.id, alice.id)
    assert created_again is False and again == room
    assert store.get_room(room.id) == room
    members = {m.user_id: m.role for m in store.list_members(room.id)}
    assert members == {alice.id: "member", bob.id: "member"}
    carol = make_user(store, "carol")
    other, created_other = store.open_direct_room(alice.id, carol.id)
    assert created_other is True and other.id != room.id


def test_list_direct_rooms_by_last_activity(store, alice, bob, room):
    peers = [make_user(store, f"peer{n}") for n in range(5)]
    made = []
    for peer in peers:
        made.append(store.open_direct_room(alice.id, peer.id)[0])
        time.sleep(0.002)
    bobs = store.open_direct_room(bob.id, peers[0].id)[0]  # not alice's
    post(store, made[1], peers[1], "news")  # peer1's room is now the most recent

    rooms, more = store.list_direct_rooms(alice.id, limit=10)
    expected = [made[1].id, made[4].id, made[3].id, made[2].id, made[0].id]
    assert [r.id for r in rooms] == expected and more is False
    assert room.id not in {r.id for r in rooms}
    assert all(r.kind == "direct" for r in rooms)

    first, more = store.list_direct_rooms(alice.id, limit=2)
    assert [r.id for r in first] == expected[:2] and more is True
    cursor = (first[-1].last_activity_at, first[-1].id)
    second, more = store.list_direct_rooms(alice.id, before=cursor, limit=2)
    assert [r.id for r in second] == expected[2:4] and more is True
    cursor = (second[-1].last_activity_at, second[-1].id)
    third, more = store.list_direct_rooms(alice.id, before=cursor, limit=2)
    assert [r.id for r in third] == expected[4:] and more is False
    assert [r.id for r in store.list_direct_rooms(peers[0].id)[0]] == [bobs.id, made[0].id]
    assert store.list_direct_rooms(make_user(store, "loner").id) == ([], False)


@pytest.mark.parametrize("kind", THREAD_SAFE_STORES)
def test_concurrent_opens_of_one_pair_make_one_room(make_store, kind):
    store = make_store(kind)
    one, two = make_user(store, "one"), make_user(store, "two")
    results: list[tuple[Room, bool]] = []
    start = threading.Barrier(THREADS)

    def worker(n: int) -> None:
        start.wait()
        pair = (one.id, two.id) if n % 2 else (two.id, one.id)
        results.append(store.open_direct_room(*pair))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(created for _, created in results) == [False] * (THREADS - 1) + [True]
    assert len({room.id for room, _ in results}) == 1
    assert len(store.list_direct_rooms(one.id)[0]) == 1
    assert {m.user_id for m in store.list_members(results[0][0].id)} == {one.id, two.id}


# -- presence --------------------------------------------------------------------
def test_member_room_ids(store, alice, bob, room):
    other = make_group(store, bob, "other")
    direct = make_direct(store, alice, bob)
    assert sorted(store.member_room_ids(alice.id)) == sorted([room.id, direct.id])
    assert sorted(store.member_room_ids(bob.id)) == sorted([other.id, direct.id])
    assert store.member_room_ids("missing") == []


def test_set_last_seen(store, alice, bob):
    moment = datetime.now(UTC).replace(microsecond=456000)
    store.set_last_seen(alice.id, moment)
    assert store.get_user(alice.id).last_seen == moment
    assert_utc(store.get_user(alice.id).last_seen)
    assert store.get_user(bob.id).last_seen is None
    store.set_last_seen("missing", moment)  # nobody to update is not an error


# -- concurrency -----------------------------------------------------------------
THREADS, POSTS = 8, 25


def post_concurrently(stores: list[Store], room: Room, author: User) -> list[int]:
    """THREADS threads, spread over `stores`, each posting POSTS messages at once."""
    start = threading.Barrier(THREADS)
    errors: list[BaseException] = []
    got: list[int] = []
    got_lock = threading.Lock()

    def worker(n: int) -> None:
        store = stores[n % len(stores)]
        try:
            start.wait()
            for i in range(POSTS):
                message, created = store.add_message(
                    room_id=room.id, author_id=author.id, content=f"{n}-{i}"
                )
                assert created
                with got_lock:
                    got.append(message.seq)
        except BaseException as error:  # reported below, not lost in the thread
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return got


@pytest.mark.parametrize("kind", THREAD_SAFE_STORES)
def test_concurrent_posts_get_distinct_gap_free_seqs(make_store, kind):
    store = make_store(kind)
    author = make_user(store, "author")
    room = make_group(store, author, "busy")
    got = post_concurrently([store], room, author)
    expected = list(range(1, THREADS * POSTS + 1))
    assert sorted(got) == expected
    assert seqs(store.list_messages(room.id, limit=THREADS * POSTS).messages) == expected
    assert store.get_room(room.id).last_seq == THREADS * POSTS


def test_sqlite_two_stores_on_one_file_share_seqs(make_store):
    """Two SQLiteStore objects on one file stand for two processes sharing it."""
    first, second = make_store("sqlite"), make_store("sqlite")
    author = make_user(first, "author")
    room = make_group(first, author, "shared")
    got = post_concurrently([first, second], room, author)
    expected = list(range(1, THREADS * POSTS + 1))
    assert sorted(got) == expected
    assert seqs(second.list_messages(room.id, limit=THREADS * POSTS).messages) == expected


def test_sqlite_concurrent_same_client_id_stores_once(make_store):
    store = make_store("sqlite")
    author = make_user(store, "author")
    room = make_group(store, author, "retry")
    results: list[tuple[Message, bool]] = []
    start = threading.Barrier(THREADS)

    def worker() -> None:
        start.wait()
        results.append(
            store.add_message(room_id=room.id, author_id=author.id, content="x", client_id="same")
        )

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sum(created for _, created in results) == 1
    assert len({message.id for message, _ in results}) == 1
    assert store.get_room(room.id).last_seq == 1


# -- MongoStore specifics --------------------------------------------------------
def test_mongo_client_id_race_fills_the_seq_with_a_tombstone(mongo_store, monkeypatch):
    """Another request with the same client_id lands between look-up and insert."""
    store = mongo_store
    author = make_user(store, "author")
    room = make_group(store, author, "race")
    first, _ = post(store, room, author, "first", client_id="dup")
    real_lookup = store._find_by_client_id
    misses = [True]  # the first look-up misses, as if the rival were not there yet

    def lookup(*args):
        return None if misses and misses.pop() else real_lookup(*args)

    monkeypatch.setattr(store, "_find_by_client_id", lookup)
    again, created = post(store, room, author, "second", client_id="dup")
    assert created is False and again == first
    filler = store.list_messages(room.id, after=1, limit=1).messages[0]
    assert filler.deleted is True and filler.content == "" and filler.client_id is None
    assert post(store, room, author, "next")[0].seq == 3
    assert seqs(store.list_messages(room.id).messages) == [1, 2, 3]


def test_mongo_filters_take_no_operators(mongo_store):
    """A dict where an id belongs must not become a query (`{"$ne": None}` matches all)."""
    make_user(mongo_store, "victim")
    with pytest.raises(TypeError):
        mongo_store.get_user({"$ne": None})
    with pytest.raises(TypeError):
        mongo_store.get_user_by_login({"$ne": ""})
    with pytest.raises(TypeError):
        mongo_store.get_users([{"$ne": None}])


def test_mongo_ids_are_plain_strings(mongo_store):
    user = make_user(mongo_store, "someone")
    assert type(user.id) is str and len(user.id) == 24
    assert mongo_store.get_user(user.id.upper()) is None


def test_mongo_driver_failures_are_store_errors(mongo_store, monkeypatch):
    """/health and the services see StoreError, never a PyMongo exception."""

    def down(*args, **kwargs):
        raise ServerSelectionTimeoutError("no server")

    monkeypatch.setattr(mongo_store._db, "command", down)
    with pytest.raises(StoreError):
        mongo_store.ping()

    def reset(*args, **kwargs):
        raise AutoReconnect("connection reset")

    monkeypatch.setattr(mongo_store._users, "find_one", reset)
    with pytest.raises(StoreError):
        mongo_store.get_user("someone")


@pytest.mark.parametrize(
    "key, field",
    [
        ("username_key", "username"),
        ("email_key", "email"),
        ("name_key", "name"),
        ("direct_key", "direct_key"),
    ],
)
def test_mongo_names_the_clash_from_a_servers_key_pattern(mongo_store, key, field):
    """A real server names the index in keyPattern; mongomock never does, so test it here."""
    error = DuplicateKeyError(
        "E11000 duplicate key error", 11000, {"keyPattern": {key: 1}, "keyValue": {key: "x"}}
    )
    clash = mongo_store._duplicate(error, mongo_store._users, {"_id": "1"}, [])
    assert clash.field == field


# -- MongoStore: ownership without transactions, interleaving by interleaving ---------
# mongomock is not thread-safe, so instead of racing threads these tests stop one
# operation at a chosen point, run the other one whole there, and let the first go on:
# the interleavings that broke the first release, and the ones the settle argument
# (`MongoStore._settle_owner`) has to survive.


def _once(store, name: str, before=None, after=None):
    """Make `store.<name>` run `before()` ahead of its first call, or `after(result)`."""
    real = getattr(store, name)
    fired = []

    def hooked(*args, **kwargs):
        if not fired and before:
            fired.append(True)
            before()
        result = real(*args, **kwargs)
        if not fired and after:
            fired.append(True)
            after(result)
        return result

    setattr(store, name, hooked)


def test_mongo_a_join_before_the_leaver_settles(mongo_store):
    store = mongo_store
    owner, joiner = make_user(store, "owner"), make_user(store, "joiner")
    room = make_group(store, owner, "race")
    _once(store, "_settle_owner", before=lambda: store.join_room(room.id, joiner.id))
    store.leave_room(room.id, owner.id)
    assert_owned_by(store, room, joiner)


def test_mongo_a_join_after_the_leaver_found_no_heir(mongo_store):
    """The first release's race: the leaver looked for an heir before the joiner's
    membership landed, and the joiner had seen an owner."""
    store = mongo_store
    owner, joiner = make_user(store, "owner"), make_user(store, "joiner")
    room = make_group(store, owner, "race")
    _once(store, "_heir", after=lambda heir: store.join_room(room.id, joiner.id))
    store.leave_room(room.id, owner.id)
    assert_owned_by(store, room, joiner)


def test_mongo_the_owner_leaves_between_a_joiners_insert_and_settle(mongo_store):
    store = mongo_store
    owner, joiner = make_user(store, "owner"), make_user(store, "joiner")
    room = make_group(store, owner, "race")
    _once(store, "_settle_owner", before=lambda: store.leave_room(room.id, owner.id))
    result = store.join_room(room.id, joiner.id)
    assert result.joined and result.owner
    assert_owned_by(store, room, joiner)


def test_mongo_the_heir_leaves_as_it_is_crowned(mongo_store):
    store = mongo_store
    owner, heir, last = (make_user(store, n) for n in ("owner", "heir", "last"))
    room = make_group(store, owner, "race")
    joined_later(store, room, heir, "admin")
    joined_later(store, room, last)
    # The leaver picks `heir`; `heir` leaves before the leaver can crown them.
    _once(store, "_heir", after=lambda found: store.leave_room(room.id, heir.id))
    store.leave_room(room.id, owner.id)
    assert_owned_by(store, room, last)


def test_mongo_a_transfer_to_a_member_who_leaves_meanwhile(mongo_store):
    store = mongo_store
    owner, heir, other = (make_user(store, n) for n in ("owner", "heir", "other"))
    room = make_group(store, owner, "race")
    joined_later(store, room, heir)
    joined_later(store, room, other)
    _once(store, "_settle_owner", before=lambda: store.leave_room(room.id, heir.id))
    assert store.transfer_ownership(room.id, owner.id, heir.id) is False
    owner_id = store.get_room(room.id).owner_id
    assert owner_id in {owner.id, other.id}
    assert_owned_by(store, room, owner if owner_id == owner.id else other)


def test_mongo_a_rejoin_racing_a_removal_stays_out(mongo_store):
    """A removal bans before it deletes; a join checks for a ban after it inserts."""
    store = mongo_store
    owner, bob = make_user(store, "owner"), make_user(store, "bob")
    room = make_group(store, owner, "race")
    # bob's rejoin inserts, then the removal's ban lands before bob looks for one.
    _once(
        store,
        "_insert_member",
        after=lambda inserted: store.leave_room(room.id, bob.id, ban=True),
    )
    assert store.join_room(room.id, bob.id) == JoinResult(joined=False, banned=True)
    assert store.get_membership(room.id, bob.id) is None
    assert store.is_banned(room.id, bob.id)
    assert_owned_by(store, room, owner)


# -- add_messages: many posts, one commit --------------------------------------------


def test_add_messages_stores_a_batch_in_order_with_consecutive_seqs(store, alice, bob, room):
    store.add_member(room.id, bob.id)
    other = store.create_room(name="other", kind="group", visibility="public", owner_id=bob.id)
    posts = [
        NewPost(room.id, alice.id, "a1"),
        NewPost(other.id, bob.id, "b1"),
        NewPost(room.id, bob.id, "a2"),
        NewPost(room.id, alice.id, "a3", client_id="c-1"),
    ]
    results = store.add_messages(posts)
    assert [r.created for r in results] == [True, True, True, True]
    assert [(r.message.room_id, r.message.seq) for r in results] == [
        (room.id, 1),
        (other.id, 1),
        (room.id, 2),
        (room.id, 3),
    ]
    assert [m.content for m in store.list_messages(room.id).messages] == ["a1", "a2", "a3"]


def test_add_messages_repeats_a_client_id_even_within_one_batch(store, alice, room):
    first, again = store.add_messages(
        [
            NewPost(room.id, alice.id, "once", client_id="same"),
            NewPost(room.id, alice.id, "twice", client_id="same"),
        ]
    )
    assert first.created and not again.created
    assert again.message.id == first.message.id
    assert store.get_room(room.id).last_seq == 1  # the repeat allocated no seq


def test_add_messages_reports_a_gone_room_and_stores_the_rest(store, alice, room):
    gone, kept = store.add_messages(
        [NewPost("no-such-room", alice.id, "lost"), NewPost(room.id, alice.id, "kept")]
    )
    assert gone.message is None and gone.created is False
    assert kept.created and kept.message.seq == 1


def test_add_messages_moves_the_authors_read_marker_only_when_asked(store, alice, bob, room):
    store.add_member(room.id, bob.id)
    store.add_messages([NewPost(room.id, bob.id, "read by bob", read=True)])
    store.add_messages([NewPost(room.id, alice.id, "not marked", read=False)])
    assert store.get_membership(room.id, bob.id).last_read_seq == 1
    assert store.get_membership(room.id, alice.id).last_read_seq == 0
