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
from chat.domain.models import Membership, Message, Room, User
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
    assert store.remove_member(garbage, alice.id) is False
    with pytest.raises(LookupError):
        store.add_message(room_id=garbage, author_id=alice.id, content="x")


# -- revoked tokens --------------------------------------------------------------
def test_revoke_token(store):
    expires = datetime.now(UTC) + timedelta(hours=1)
    assert store.is_token_revoked("jti-1") is False
    store.revoke_token("jti-1", expires)
    assert store.is_token_revoked("jti-1") is True
    assert store.is_token_revoked("jti-2") is False
    store.revoke_token("jti-1", expires)  # revoking again is harmless
    assert store.is_token_revoked("jti-1") is True


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
    store.remove_member(empty.id, bob.id)
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


def test_remove_member(store, alice, bob, room):
    store.add_member(room.id, bob.id)
    assert store.remove_member(room.id, bob.id) is True
    assert store.get_membership(room.id, bob.id) is None
    assert store.remove_member(room.id, bob.id) is False
    assert store.get_membership(room.id, alice.id) is not None
    assert store.add_member(room.id, bob.id) is True  # may join again


def test_set_role(store, alice, bob, room):
    store.add_member(room.id, bob.id)
    assert store.set_role(room.id, bob.id, "admin") is True
    assert store.get_membership(room.id, bob.id).role == "admin"
    assert store.set_role(room.id, bob.id, "admin") is True  # unchanged still counts
    assert store.get_membership(room.id, alice.id).role == "owner"
    carol = make_user(store, "carol")
    assert store.set_role(room.id, carol.id, "admin") is False
    assert store.get_membership(room.id, carol.id) is None


def test_set_owner(store, alice, bob, room):
    store.set_owner(room.id, bob.id)
    assert store.get_room(room.id).owner_id == bob.id
    store.set_owner(room.id, None)
    assert store.get_room(room.id).owner_id is None
    assert store.get_room(room.id).name == "General"
    store.set_owner("missing", bob.id)  # nothing to update is not an error
    assert store.get_room("missing") is None


def test_claim_ownership_only_of_an_ownerless_room(store, alice, bob, room):
    assert store.claim_ownership(room.id, bob.id) is False
    assert store.get_room(room.id).owner_id == alice.id
    store.set_owner(room.id, None)
    assert store.claim_ownership(room.id, bob.id) is True
    assert store.claim_ownership(room.id, alice.id) is False
    assert store.get_room(room.id).owner_id == bob.id
    assert store.claim_ownership("missing", bob.id) is False


@pytest.mark.parametrize("kind", THREAD_SAFE_STORES)
def test_concurrent_claims_make_one_owner(make_store, kind):
    store = make_store(kind)
    founder = make_user(store, "founder")
    room = make_group(store, founder, "orphan")
    store.set_owner(room.id, None)
    claimants = [make_user(store, f"claimant{n}") for n in range(8)]
    results: list[bool] = []
    threads = [
        threading.Thread(target=lambda u=u: results.append(store.claim_ownership(room.id, u.id)))
        for u in claimants
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results) == [False] * 7 + [True]
    assert store.get_room(room.id).owner_id in {u.id for u in claimants}


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
    store.revoke_token("jti", datetime.now(UTC) + timedelta(minutes=5))
    user = store.get_user(alice.id)
    stored_room = store.get_room(room.id)
    membership = store.get_membership(room.id, alice.id)
    stored_message = store.get_message(room.id, message.id)
    for moment in (
        user.created_at,
        stored_room.created_at,
        membership.joined_at,
        stored_message.created_at,
    ):
        assert_utc(moment)
    assert user.created_at == alice.created_at
    assert stored_room.created_at == room.created_at
    assert stored_message.created_at == message.created_at
    assert store.list_messages(room.id).messages[0].created_at == message.created_at
    assert store.list_rooms(alice.id, "joined")[0].created_at == room.created_at


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
