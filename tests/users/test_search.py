"""GET /api/users?q=&limit=&cursor=: prefix search on usernames and display names."""

from __future__ import annotations

import pytest


def search(client, who, **query):
    response = client.get("/api/users", query_string=query, headers=who.headers)
    assert response.status_code == 200, response.json
    return response.json


def names(page):
    return [u["username"] for u in page["users"]]


def every_page(client, who, **query):
    """Follow next_cursor to the end; the usernames in order."""
    found, cursor = [], None
    while True:
        page = search(client, who, **query, **({"cursor": cursor} if cursor else {}))
        found += names(page)
        cursor = page["next_cursor"]
        if cursor is None:
            return found


@pytest.fixture
def people(auth):
    made = {}
    for username, display in [
        ("alice", "Alice Liddell"),
        ("Alfred", None),
        ("bob", "Alfie B."),
        ("carol", "carol"),
        ("dave", "Alan D."),
    ]:
        made[username] = auth.user(username, **({"display_name": display} if display else {}))
    return made


def test_a_prefix_of_the_username_or_the_display_name_ignoring_case(client, people):
    me = people["carol"]
    page = search(client, me, q="AL")
    # Ordered by the name that matched: "alan d." (dave), "alfie b." (bob), "alfred", "alice".
    assert names(page) == ["dave", "bob", "Alfred", "alice"]
    assert page["next_cursor"] is None
    assert names(search(client, me, q="alice l")) == ["alice"]
    assert names(search(client, me, q="zz")) == []


def test_a_user_matching_by_both_names_is_listed_once(client, people):
    assert names(search(client, people["alice"], q="carol")) == ["carol"]
    assert names(search(client, people["alice"], q="c")) == ["carol"]


def test_no_query_lists_everyone(client, people):
    assert sorted(names(search(client, people["bob"]))) == sorted(
        ["alice", "Alfred", "bob", "carol", "dave"]
    )


def test_pages_follow_the_cursor_without_repeats_or_gaps(client, people):
    me = people["bob"]
    whole = names(search(client, me, q="", limit=50))
    for limit in (1, 2, 3):
        assert every_page(client, me, q="", limit=limit) == whole
        assert every_page(client, me, q="al", limit=limit) == ["dave", "bob", "Alfred", "alice"]


def test_paging_stays_stable_while_users_sign_up(client, auth, people):
    me = people["bob"]
    first = search(client, me, q="a", limit=2)
    assert names(first) == ["dave", "bob"]  # "alan d.", "alfie b."
    auth.user("aaron")  # sorts before the cursor: not on later pages
    auth.user("algernon")  # sorts after it: on a later page, once
    rest, cursor = [], first["next_cursor"]
    while cursor:
        page = search(client, me, q="a", limit=2, cursor=cursor)
        rest += names(page)
        cursor = page["next_cursor"]
    assert rest == ["Alfred", "algernon", "alice"]


def test_deleted_accounts_are_never_listed(client, people):
    dave = people["dave"]
    assert (
        client.delete(
            "/api/users/me", json={"password": "password123"}, headers=dave.headers
        ).status_code
        == 204
    )
    me = people["bob"]
    assert "dave" not in names(search(client, me, limit=50))
    assert names(search(client, me, q="deleted")) == []
    assert names(search(client, me, q="alan")) == []


def test_online_is_shown(client, sio, people):
    sio(people["alice"].token)
    found = search(client, people["bob"], q="ali")["users"]
    assert [(u["username"], u["online"]) for u in found] == [("alice", True)]


@pytest.mark.parametrize(
    "query, field",
    [
        ({"limit": 0}, "limit"),
        ({"limit": 51}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"q": "x" * 65}, "q"),
        ({"cursor": "not-a-cursor!"}, "cursor"),
        ({"cursor": "W10"}, "cursor"),  # base64 of "[]"
        ({"sort": "name"}, "sort"),
    ],
)
def test_bad_queries_are_422_naming_the_field(client, people, query, field):
    response = client.get("/api/users", query_string=query, headers=people["bob"].headers)
    assert response.status_code == 422
    assert field in response.json["errors"]
