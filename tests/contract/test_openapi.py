"""/openapi.json covers every route with its errors, and /docs serves Swagger UI from
this server alone."""

from __future__ import annotations

import re

import pytest

METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}
# Pages and documents that are not part of the API itself (and the web client's
# blueprint, `web.*`: its page and files).
NOT_API = {"/docs", "/openapi.json", "/asyncapi.json"}


@pytest.fixture
def document(client):
    response = client.get("/openapi.json")
    assert response.status_code == 200
    return response.json


def _documented_path(rule: str) -> str:
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule)


def test_every_route_is_documented_with_its_methods(app, document):
    routes = {}
    for rule in app.url_map.iter_rules():
        path = _documented_path(rule.rule)
        if rule.endpoint.endswith("static") or path in NOT_API or "/swagger-ui/" in path:
            continue
        if rule.endpoint.startswith("web."):
            continue
        routes.setdefault(path, set()).update(rule.methods & METHODS)
    documented = {
        path: {method.upper() for method in item if method.upper() in METHODS}
        for path, item in document["paths"].items()
    }
    assert documented == routes


def test_it_is_openapi_3_1_with_bearer_security(document):
    assert document["openapi"] == "3.1.0"
    scheme = document["components"]["securitySchemes"]["bearerAuth"]
    assert scheme == {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}


def _operations(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method.upper() in METHODS:
                yield f"{method.upper()} {path}", path, operation


def test_every_operation_documents_the_errors_it_can_give(document):
    for label, path, operation in _operations(document):
        statuses = set(operation["responses"])
        assert {"429", "503"} <= statuses, label
        if "requestBody" in operation:
            assert {"400", "413", "422"} <= statuses, label
        if operation.get("security"):
            assert "401" in statuses, label
        if "{" in path:
            assert "404" in statuses, label


def test_every_error_response_has_the_error_body(document):
    components = document["components"]["responses"]
    for label, _path, operation in _operations(document):
        for status, response in operation["responses"].items():
            if status == "default" or int(status) >= 400:
                if "$ref" in response:
                    response = components[response["$ref"].rsplit("/", 1)[1]]
                schema = response["content"]["application/json"]["schema"]
                if status == "503" and "Health" in schema.get("$ref", ""):
                    continue  # /health answers 503 with its own body
                assert schema == {"$ref": "#/components/schemas/ErrorOut"}, (label, status)


def test_the_routes_behind_a_token_are_the_ones_documented_so(client, document):
    for label, path, operation in _operations(document):
        if "{" in path:
            continue
        method, _ = label.split(" ", 1)
        response = client.open(path, method=method, json={})
        secured = bool(operation.get("security"))
        assert (response.status_code == 401) == secured, (label, response.status_code)


def test_docs_serves_swagger_ui_from_this_server(client):
    page = client.get("/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<script>" not in html and "onload=" not in html  # no inline script
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert urls, html
    for url in urls:
        assert url.startswith("/"), f"{url} is not served by this server"
        with client.get(url) as asset:
            assert asset.status_code == 200, url
            assert asset.data
    assert re.search(r'data-spec-url="/openapi.json"', html)
