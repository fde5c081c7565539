"""The AsyncAPI 3.0 document of the /chat namespace, generated from the event tables.

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
from ..schemas.events import CLIENT_EVENTS, SERVER_EVENTS, FailedAck
from . import NAMESPACE

CHANNEL = "chat"


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


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/channels/{CHANNEL}/messages/{name}"}


@functools.cache
def asyncapi_document() -> dict[str, Any]:
    messages: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    failed = "failed_ack"
    messages[failed] = _message(failed, FailedAck, "A client event failed.")
    for event in CLIENT_EVENTS.values():
        ack = f"{event.name}_ack"
        messages[event.name] = _message(event.name, event.payload, event.summary)
        messages[ack] = _message(ack, event.ack, f"The acknowledgement of `{event.name}`.")
        operations[f"send_{event.name}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{CHANNEL}"},
            "summary": event.summary,
            "messages": [_ref(event.name)],
            "reply": {
                "channel": {"$ref": f"#/channels/{CHANNEL}"},
                "messages": [_ref(ack), _ref(failed)],
            },
        }
    for told in SERVER_EVENTS.values():
        messages[told.name] = _message(told.name, told.payload, told.summary)
        operations[f"receive_{told.name}"] = {
            "action": "receive",
            "channel": {"$ref": f"#/channels/{CHANNEL}"},
            "summary": f"{told.summary} To {told.to}.",
            "messages": [_ref(told.name)],
        }
    schemas = [e.payload for e in CLIENT_EVENTS.values()]
    schemas += [e.ack for e in CLIENT_EVENTS.values()]
    schemas += [e.payload for e in SERVER_EVENTS.values()] + [FailedAck]
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Chat server: Socket.IO events",
            "version": VERSION,
            "description": (
                "The `/chat` namespace of the chat server's Socket.IO endpoint "
                "(`/socket.io/`, Engine.IO 4). Connect with `auth: {token}` (an access "
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
        "channels": {
            CHANNEL: {
                "address": NAMESPACE,
                "title": "The /chat namespace",
                "messages": messages,
            }
        },
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
