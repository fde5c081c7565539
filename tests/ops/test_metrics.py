"""/metrics: off by default, for the operator only when on, and counting what happens."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import Api, Auth, make_app


@pytest.fixture
def metrics_app(tmp_path):
    made = []

    def make(**settings):
        app = make_app(tmp_path / str(len(made)), METRICS_ENABLED=True, **settings)
        made.append(app)
        return app

    yield make
    for app in made:
        app.extensions["chat"].store.close()


def value(text: str, line_start: str) -> float:
    for line in text.splitlines():
        if line.startswith(line_start):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_metrics_are_off_by_default(client):
    assert client.get("/metrics").status_code == 404


def test_private_addresses_may_scrape_without_a_token(metrics_app):
    client = metrics_app().test_client()
    assert client.get("/metrics").status_code == 200  # the test client is 127.0.0.1
    public = client.get("/metrics", environ_base={"REMOTE_ADDR": "8.8.8.8"})
    assert public.status_code == 403
    assert public.json["code"] == "forbidden"


def test_with_a_token_only_its_bearer_may_scrape(metrics_app):
    client = metrics_app(METRICS_TOKEN="s3cret-metrics").test_client()
    assert client.get("/metrics").status_code == 403
    wrong = client.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 403
    right = client.get("/metrics", headers={"Authorization": "Bearer s3cret-metrics"})
    assert right.status_code == 200
    assert right.mimetype == "text/plain"


def test_requests_messages_and_store_calls_are_counted(metrics_app):
    app = metrics_app()
    client = app.test_client()
    before = client.get("/metrics").get_data(as_text=True)
    auth, api = Auth(client), Api(client)
    alice = auth.user("alice")
    room_id = api.create_room(alice, "counted")["id"]
    api.post(alice, room_id, "one")
    api.post(alice, room_id, "two")
    after = client.get("/metrics").get_data(as_text=True)
    stored = "chat_messages_stored_total "
    assert value(after, stored) - value(before, stored) == 2
    posts = (
        'chat_http_requests_total{method="POST",route="/api/rooms/<room_id>/messages",status="201"}'
    )
    assert value(after, posts) - value(before, posts) == 2
    # Posts are stored in batches (a group commit); one after the other, one each.
    calls = 'chat_store_call_seconds_count{method="add_messages"}'
    assert value(after, calls) - value(before, calls) == 2


def test_multi_process_mode_aggregates_the_processes_files(tmp_path):
    """With PROMETHEUS_MULTIPROC_DIR (read at import, hence a fresh interpreter), each
    process writes its own files and a scrape sums them."""
    import subprocess
    import sys

    probe = """
import sys
from tests.conftest import make_app, Auth, Api
from pathlib import Path
app = make_app(Path(sys.argv[1]), METRICS_ENABLED=True)
client = app.test_client()
alice = Auth(client).user("alice")
room = Api(client).create_room(alice, "r")["id"]
Api(client).post(alice, room, "hi")
print(client.get("/metrics").get_data(as_text=True))
"""
    (tmp_path / "prom").mkdir()
    env = {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prom"), "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-c", probe, str(tmp_path)],
        env=env,
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert value(result.stdout, "chat_messages_stored_total ") == 1
    assert list((tmp_path / "prom").glob("*.db"))
