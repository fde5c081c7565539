"""schemathesis over the whole OpenAPI document, in-process against the WSGI app.

Every operation gets 50 generated requests, valid and invalid ones, each with a fresh
token (of a new sign-in session) of a signed-up user; half of them aim at the real ids
of a seeded room, message and user, so that valid input reaches the services rather
than a 404. Hypothesis is derandomised, so a CI run repeats exactly. Checks: no 5xx,
the status is documented, the content type too, and the body matches its documented
schema.

(schemathesis's pytest plugin does not run under pytest 9 yet, so the operations are
driven through its Hypothesis strategies directly.)
"""

from __future__ import annotations

import pytest
import schemathesis
from flask_jwt_extended import create_access_token, create_refresh_token
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import Api, Auth, make_app

EXAMPLES = 50
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def _operation_labels() -> list[str]:
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        app = make_app(Path(tmp))
        try:
            paths = app.test_client().get("/openapi.json").json["paths"]
        finally:
            app.extensions["chat"].store.close()
    return [
        f"{method.upper()} {path}"
        for path, item in paths.items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    ]


@pytest.fixture
def world(client):
    """A user, a room of theirs with a message, and a second user: real ids to aim at."""
    auth, api = Auth(client), Api(client)
    owner = auth.user("fuzz_owner")
    other = auth.user("fuzz_other")
    room = api.create_room(owner, "fuzzing")
    message = api.post(owner, room["id"], "a message to aim at")
    return owner, {"room_id": room["id"], "message_id": message["id"], "user_id": other.id}


def _strategy(operation, real_ids: dict[str, str]) -> st.SearchStrategy:
    names = {p.name for p in operation.path_parameters}
    aimed = {name: value for name, value in real_ids.items() if name in names}
    strategies = [
        operation.as_strategy(generation_mode=mode, path_parameters=fixed)
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
        for fixed in ([aimed, None] if aimed else [None])
    ]
    return st.one_of(strategies)


@pytest.mark.parametrize("label", _operation_labels())
def test_the_api_holds_its_contract(app, world, label):
    owner, real_ids = world
    method, path = label.split(" ", 1)
    operation = schemathesis.openapi.from_wsgi("/openapi.json", app)[path][method]
    mint = create_refresh_token if path.endswith("/refresh") else create_access_token

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=_strategy(operation, real_ids))
    def run(case):
        with app.app_context():  # a fresh session each time: logout may end the last
            accounts = app.extensions["chat"].accounts
            session = accounts.start_session(accounts.get(owner.id))
            token = mint(identity=owner.id, additional_claims={"sid": session.id})
        case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)

    run()
