"""The AsyncAPI 3.0 document of the Socket.IO namespaces, generated from the event tables:
`/chat` (channel `chat`) and the original events on `/` (channel `legacy`, SPEC 3.1).

Schemas are converted by apispec's marshmallow plugin (as JSON Schema, the OpenAPI 3.1
dialect), so the REST and Socket.IO documents describe a shared shape identically. A
client event is a `send` operation whose `reply` is its acknowledgement (`{ok: true,
…}` or the failed ack); a server event is a `receive` operation.
"""

from __future__ import annotations

import functools
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import Schema

from .. import __version__ as VERSION
from ..schemas.events import (
    CLIENT_EVENTS,
    LEGACY_CLIENT_EVENTS,
    LEGACY_SERVER_EVENTS,
    SERVER_EVENTS,
    ClientEvent,
    FailedAck,
    ServerEvent,
)
from . import LEGACY_NAMESPACE, NAMESPACE

CHANNEL = "chat"
LEGACY_CHANNEL = "legacy"
# (channel, namespace, title, client events, server events, operation id prefix)
CHANNELS = [
    (CHANNEL, NAMESPACE, "The /chat namespace", CLIENT_EVENTS, SERVER_EVENTS, ""),
    (
        LEGACY_CHANNEL,
        LEGACY_NAMESPACE,
        "The original events on the default namespace / (SPEC 3.1)",
        LEGACY_CLIENT_EVENTS,
        LEGACY_SERVER_EVENTS,
        "legacy_",
    ),
]


def _schema_name(schema: type[Schema] | Schema) -> str:
    cls = schema if isinstance(schema, type) else type(schema)
    return cls.__name__


def _components(schemas: list[type[Schema]]) -> dict[str, Any]:
    """JSON Schemas of `schemas` and everything they nest, keyed by class name."""
    spec = APISpec(
        "events",
        VERSION,
        "3.1.0",
        plugins=[MarshmallowPlugin(schema_name_resolver=_schema_name)],
    )
    for schema in schemas:
        name = _schema_name(schema)
        if name not in spec.components.schemas:
            spec.components.schema(name, schema=schema)
    return dict(spec.to_dict()["components"]["schemas"])


def server_message(event: str) -> str:
    """The key of a server event's message in its channel. Client events are keyed by
    their name (and `<name>_ack`); some names are both (`typing`, `read`, `message` on
    `/`), so server events are keyed apart. The message's `name` is the event's."""
    return f"{event}_event"


def _ref(channel: str, name: str) -> dict[str, str]:
    return {"$ref": f"#/channels/{channel}/messages/{name}"}


def _channel(
    channel: str,
    client_events: dict[str, ClientEvent],
    server_events: dict[str, ServerEvent],
    prefix: str,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The messages of one namespace's channel, and its operations."""
    messages: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    failed = "failed_ack"
    messages[failed] = _message(failed, FailedAck, "A client event failed.")
    for event in client_events.values():
        ack = f"{event.name}_ack"
        messages[event.name] = _message(event.name, event.payload, event.summary)
        messages[ack] = _message(ack, event.ack, f"The acknowledgement of `{event.name}`.")
        operations[f"{prefix}send_{event.name}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{channel}"},
            "summary": event.summary,
            "messages": [_ref(channel, event.name)],
            "reply": {
                "channel": {"$ref": f"#/channels/{channel}"},
                "messages": [_ref(channel, ack), _ref(channel, failed)],
            },
        }
    for told in server_events.values():
        key = server_message(told.name)
        messages[key] = _message(told.name, told.payload, told.summary)
        operations[f"{prefix}receive_{told.name}"] = {
            "action": "receive",
            "channel": {"$ref": f"#/channels/{channel}"},
            "summary": f"{told.summary} To {told.to}.",
            "messages": [_ref(channel, key)],
        }
    return messages, operations


@functools.cache
def asyncapi_document() -> dict[str, Any]:
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    schemas: list[type[Schema]] = [FailedAck]
    for channel, address, title, client_events, server_events, prefix in CHANNELS:
        messages, ops = _channel(channel, client_events, server_events, prefix)
        channels[channel] = {"address": address, "title": title, "messages": messages}
        operations.update(ops)
        schemas += [e.payload for e in client_events.values()]
        schemas += [e.ack for e in client_events.values()]
        schemas += [e.payload for e in server_events.values()]
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Chat server: Socket.IO events",
            "version": VERSION,
            "description": (
                "The `/chat` namespace of the chat server's Socket.IO endpoint "
                "(`/socket.io/`, Engine.IO 4), and the original events on the default "
                "namespace `/` for clients of the first backend. Connect to either "
                "with `auth: {token}` (an access "
                "token; a `Bearer ` prefix is fine) or `?token=`; a bad, expired or "
                "revoked token is refused with `connect_error` `unauthorized`. Every "
                "client event is acknowledged `{ok: true, …}` or `{ok: false, error}`. "
                "The REST API is described at /openapi.json."
            ),
        },
        "defaultContentType": "application/json",
        "servers": {
            "this": {
                "host": "127.0.0.1:5000",
                "protocol": "ws",
                "pathname": "/socket.io/",
                "description": "The server that serves this document (any host).",
                "security": [{"$ref": "#/components/securitySchemes/token"}],
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {
            "schemas": _components(schemas),
            "securitySchemes": {
                "token": {
                    "type": "httpApiKey",
                    "in": "query",
                    "name": "token",
                    "description": "An access token; `auth: {token}` works as well.",
                }
            },
        },
    }


def _message(name: str, schema: type[Schema], summary: str) -> dict[str, Any]:
    return {
        "name": name,
        "summary": summary,
        "contentType": "application/json",
        "payload": {"$ref": f"#/components/schemas/{_schema_name(schema)}"},
    }
