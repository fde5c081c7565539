"""Validating payloads against the generated documents, as a client would read them."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

ROOT = Path(__file__).resolve().parents[2]
ASYNCAPI_SPECS = ROOT / "node_modules" / "@asyncapi" / "specs" / "schemas"


class Document:
    """A generated document (OpenAPI or AsyncAPI) whose component schemas validate data."""

    URI = "urn:chat:document"

    def __init__(self, document: dict[str, Any]):
        self.document = document
        resource = Resource(contents=document, specification=DRAFT202012)
        self.registry = Registry().with_resource(self.URI, resource)

    def validator(self, pointer: str) -> Draft202012Validator:
        return Draft202012Validator(
            {"$ref": f"{self.URI}#{pointer}"},
            registry=self.registry,
            format_checker=FormatChecker(),
        )

    def errors(self, pointer: str, data: Any) -> list[str]:
        return [
            f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
            for e in self.validator(pointer).iter_errors(data)
        ]


def asyncapi_json_schema(version: str = "3.0.0") -> dict[str, Any]:
    """The official AsyncAPI JSON Schema, from the npm package `@asyncapi/specs`."""
    path = ASYNCAPI_SPECS / f"{version}-without-$id.json"
    if not path.exists():
        reason = f"{path} is missing: run `npm ci` (make test does when Node is present)"
        if os.environ.get("CI", "").strip().lower() == "true":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    return json.loads(path.read_text())
