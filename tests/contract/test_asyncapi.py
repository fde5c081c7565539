"""/asyncapi.json: a valid AsyncAPI 3.0 document that covers every event the namespace
handles and the publisher sends, and that the README's event tables agree with."""

from __future__ import annotations

import re
from pathlib import Path

import jsonschema
import pytest

from chat.realtime.asyncapi import server_message
from chat.realtime.namespace import ChatNamespace, LegacyNamespace
from chat.schemas.events import (
    CLIENT_EVENTS,
    LEGACY_CLIENT_EVENTS,
    LEGACY_SERVER_EVENTS,
    SERVER_EVENTS,
)

from .documents import asyncapi_json_schema

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.fixture
def document(client):
    response = client.get("/asyncapi.json")
    assert response.status_code == 200
    return response.json


def test_it_is_a_valid_asyncapi_3_document(document):
    jsonschema.validate(document, asyncapi_json_schema("3.0.0"))
    assert document["asyncapi"] == "3.0.0"


def test_every_reference_resolves(document):
    def refs(node):
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                yield node["$ref"]
            for value in node.values():
                yield from refs(value)
        elif isinstance(node, list):
            for value in node:
                yield from refs(value)

    for ref in refs(document):
        assert ref.startswith("#/"), ref
        target = document
        for part in ref[2:].split("/"):
            assert part in target, f"{ref} does not resolve"
            target = target[part]


def _handlers(namespace: type) -> set[str]:
    """Every event the namespace answers (what python-socketio dispatches to)."""
    return {
        name.removeprefix("on_")
        for name in dir(namespace)
        if name.startswith("on_") and name not in ("on_connect", "on_disconnect")
    }


@pytest.mark.parametrize(
    "namespace, channel, address, client_events, server_events, prefix",
    [
        (ChatNamespace, "chat", "/chat", CLIENT_EVENTS, SERVER_EVENTS, ""),
        (LegacyNamespace, "legacy", "/", LEGACY_CLIENT_EVENTS, LEGACY_SERVER_EVENTS, "legacy_"),
    ],
    ids=["chat", "legacy"],
)
def test_every_handler_is_a_documented_client_event(
    document, namespace, channel, address, client_events, server_events, prefix
):
    assert _handlers(namespace) == set(client_events)
    assert document["channels"][channel]["address"] == address
    messages = document["channels"][channel]["messages"]
    operations = document["operations"]
    for name in client_events:
        assert operations[f"{prefix}send_{name}"]["action"] == "send"
        assert operations[f"{prefix}send_{name}"]["reply"]["messages"]
        assert messages[name]["name"] == name
    for name in server_events:
        assert operations[f"{prefix}receive_{name}"]["action"] == "receive"
        assert messages[server_message(name)]["name"] == name


def test_the_original_namespace_hears_every_chat_event():
    """SPEC 3.1: its watchers receive what /chat watchers receive, plus `message`."""
    assert set(LEGACY_SERVER_EVENTS) == set(SERVER_EVENTS) | {"message"}
    assert set(LEGACY_CLIENT_EVENTS) == {"join", "leave", "message", "delete_message"}


def _readme_table(heading: str) -> dict[str, tuple[str, str]]:
    """{event: (payload cell, third cell)} of the table under the README heading."""
    text = README.read_text()
    section = text.split(heading, 1)[1]
    rows = {}
    for line in section.splitlines()[1:]:
        if line.startswith("#"):
            break
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        match = re.fullmatch(r"`(\w+)`", cells[0]) if len(cells) >= 3 else None
        if match:
            rows[match.group(1)] = (cells[1], cells[2])
    assert rows, f"no event table under {heading!r} in the README"
    return rows


def _fields(cell: str) -> tuple[set[str], set[str]]:
    """`{a, b?}` -> ({a, b}, {a}): the fields named, and the required ones."""
    match = re.search(r"`\{([^}]*)\}`", cell)
    assert match, f"no `{{fields}}` in the README cell {cell!r}"
    names = [n.strip() for n in match.group(1).split(",") if n.strip()]
    return {n.rstrip("?") for n in names}, {n for n in names if not n.endswith("?")}


def _schema(document, message_name, channel="chat"):
    ref = document["channels"][channel]["messages"][message_name]["payload"]["$ref"]
    return document["components"]["schemas"][ref.rsplit("/", 1)[1]]


@pytest.mark.parametrize(
    "heading, channel, events",
    [
        ("#### Client → server", "chat", CLIENT_EVENTS),
        ("#### The original namespace: client → server", "legacy", LEGACY_CLIENT_EVENTS),
    ],
    ids=["chat", "legacy"],
)
def test_the_readme_client_event_tables_match_the_document(document, heading, channel, events):
    rows = _readme_table(heading)
    assert set(rows) == set(events)
    for name, (payload, ack) in rows.items():
        schema = _schema(document, name, channel)
        named, required = _fields(payload)
        assert named == set(schema["properties"]), name
        assert required == set(schema.get("required", [])), name
        ack_schema = _schema(document, f"{name}_ack", channel)
        assert _fields(ack)[0] == set(ack_schema["properties"]) - {"ok"}, f"{name} ack"


@pytest.mark.parametrize(
    "heading, channel, events",
    [
        ("#### Server → client", "chat", SERVER_EVENTS),
        (
            "#### The original namespace: server → client",
            "legacy",
            {k: v for k, v in LEGACY_SERVER_EVENTS.items() if k not in SERVER_EVENTS},
        ),
    ],
    ids=["chat", "legacy"],
)
def test_the_readme_server_event_tables_match_the_document(document, heading, channel, events):
    rows = _readme_table(heading)
    assert set(rows) == set(events)
    for name, (payload, _to) in rows.items():
        named, _required = _fields(payload)
        schema = _schema(document, server_message(name), channel)
        assert named == set(schema["properties"]), name
