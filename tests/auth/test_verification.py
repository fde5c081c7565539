"""Email verification against a real SMTP server (aiosmtpd on a free port): the code is
read out of the mail the server received, as a user would read it."""

from __future__ import annotations

import logging
import time
from datetime import timedelta

import pytest

from chat.domain.models import VerificationCode, now
from config import ConfigError
from tests.conftest import make_app
from tests.mail_server import MailServer, SilentServer, free_port
from tests.support import STORES

PASSWORD = "password123"


@pytest.fixture
def smtp():
    with MailServer() as server:
        yield server


def verifying_app(tmp_path, kind, port, **settings):
    return make_app(
        tmp_path,
        kind,
        EMAIL_VERIFICATION=True,
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=port,
        MAIL_FROM="chat@example.org",
        **settings,
    )


@pytest.fixture(params=STORES)
def app(request, tmp_path, smtp):
    app = verifying_app(tmp_path, request.param, smtp.port)
    yield app
    app.extensions["chat"].store.close()


def register(client, username="alice", email="alice@example.com", **extra):
    body = {"username": username, "password": PASSWORD, **extra}
    if email is not None:
        body["email"] = email
    return client.post("/api/auth/register", json=body)


def login(client, username="alice"):
    return client.post("/api/auth/login", json={"username": username, "password": PASSWORD})


def verify(client, code, email="alice@example.com"):
    return client.post("/api/auth/verify", json={"email": email, "code": code})


def resend(client, email="alice@example.com"):
    return client.post("/api/auth/verify/resend", json={"email": email})


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


# -- the happy path ---------------------------------------------------------------


def test_register_mails_a_code_and_login_waits_for_it(client, smtp):
    response = register(client)
    assert response.status_code == 201, response.json
    assert response.json["email"] == "alice@example.com"
    mail = smtp.inbox.to("alice@example.com")
    assert len(mail) == 1
    assert mail[0]["From"] == "chat@example.org"
    code = smtp.inbox.code_for("alice@example.com")

    refused = login(client)
    assert refused.status_code == 403
    assert refused.json["code"] == "unverified"
    assert "access_token" not in refused.json

    verified = verify(client, code, "ALICE@example.com")  # any case
    assert verified.status_code == 200, verified.json
    assert verified.json["id"] == response.json["id"]
    assert login(client).status_code == 200


def test_an_unverified_login_with_a_wrong_password_says_nothing_of_verification(client, smtp):
    register(client)
    response = client.post("/api/auth/login", json={"username": "alice", "password": "x" * 9})
    assert response.status_code == 401
    assert response.json["code"] == "unauthorized"


@pytest.mark.parametrize("email", [None, ""])
def test_registration_requires_an_email(client, smtp, email):
    response = register(client, email=email)
    assert response.status_code == 422
    assert "email" in response.json["errors"]
    assert smtp.inbox.messages == []
    assert register(client).status_code == 201  # the name was not taken


def test_the_original_register_route_requires_it_too(client, smtp):
    response = client.post("/register", json={"username": "bob", "password": PASSWORD})
    assert response.status_code == 422
    assert "email" in response.json["errors"]


def test_verifying_twice_is_a_conflict(client, smtp):
    register(client)
    code = smtp.inbox.code_for("alice@example.com")
    assert verify(client, code).status_code == 200
    again = verify(client, code)
    assert again.status_code == 409
    assert again.json["code"] == "conflict"


# -- codes: hashed, attempt-limited, expiring, replaced ----------------------------


def test_the_code_is_stored_hashed(app, client, smtp):
    register(client)
    code = smtp.inbox.code_for("alice@example.com")
    store = app.extensions["chat"].store
    user = store.get_user_by_login("alice")
    pending = store.use_verification_attempt(user.id, user.created_at, 5)
    assert pending is not None and code not in pending.code_hash
    assert len(pending.code_hash) == 64  # HMAC-SHA256, hex


def test_a_wrong_code_is_422_and_counts(client, smtp):
    register(client)
    code = smtp.inbox.code_for("alice@example.com")
    response = verify(client, wrong(code))
    assert response.status_code == 422
    assert response.json["code"] == "invalid"
    assert "4 attempts left" in response.json["errors"]["code"][0]
    assert login(client).status_code == 403
    assert verify(client, code).status_code == 200


def test_five_wrong_codes_spend_the_code(client, smtp):
    register(client)
    code = smtp.inbox.code_for("alice@example.com")
    for _ in range(5):
        assert verify(client, wrong(code)).status_code == 422
    spent = verify(client, code)
    assert spent.status_code == 422
    assert "ask for a new one" in spent.json["message"]
    assert login(client).status_code == 403


def test_an_expired_code_is_refused(tmp_path, smtp):
    app = verifying_app(tmp_path, "sqlite", smtp.port, VERIFICATION_CODE_TTL=1)
    try:
        client = app.test_client()
        register(client)
        code = smtp.inbox.code_for("alice@example.com")
        time.sleep(1.1)  # past the one-second lifetime: a deadline, not a speed measure
        response = verify(client, code)
        assert response.status_code == 422
        assert login(client).status_code == 403
    finally:
        app.extensions["chat"].store.close()


def test_an_unknown_address_is_refused_like_a_wrong_code(client, smtp):
    register(client)
    response = verify(client, "123456", "nobody@example.com")
    assert response.status_code == 422
    assert "code" in response.json["errors"]


@pytest.mark.parametrize("code", ["12345", "1234567", "abcdef", "", 123456])
def test_a_code_must_be_six_digits(client, smtp, code):
    register(client)
    response = client.post("/api/auth/verify", json={"email": "alice@example.com", "code": code})
    assert response.status_code == 422
    assert "code" in response.json["errors"]


def test_resend_replaces_the_code_at_most_once_a_minute(app, client, smtp):
    register(client)
    first = smtp.inbox.code_for("alice@example.com")
    too_soon = resend(client)
    assert too_soon.status_code == 429
    assert too_soon.json["code"] == "rate_limited"
    assert 1 <= int(too_soon.headers["Retry-After"]) <= 60
    assert len(smtp.inbox.to("alice@example.com")) == 1

    # A minute later (moved back in the store, rather than waited for):
    store = app.extensions["chat"].store
    user = store.get_user_by_login("alice")
    _age_code(store, user.id)
    assert resend(client).status_code == 204
    second = smtp.inbox.code_for("alice@example.com")
    assert len(smtp.inbox.to("alice@example.com")) == 2
    if second != first:  # one chance in a million that they are equal
        assert verify(client, first).status_code == 422
    assert verify(client, second).status_code == 200


def _age_code(store, user_id):
    """Send the pending code 61 seconds into the past, keeping the code itself."""
    pending = store.use_verification_attempt(user_id, now(), 99)
    sent = now() - timedelta(seconds=61)
    aged = VerificationCode(user_id, pending.code_hash, sent, pending.expires_at)
    store.delete_verification_code(user_id)
    assert store.put_verification_code(aged, sent) is None


@pytest.mark.parametrize("email", ["nobody@example.com", "verified@example.com"])
def test_resend_to_an_address_without_a_pending_account_sends_nothing(client, smtp, email):
    register(client, "verified", "verified@example.com")
    code = smtp.inbox.code_for("verified@example.com")
    assert verify(client, code, "verified@example.com").status_code == 200
    before = len(smtp.inbox.messages)
    response = resend(client, email)
    assert response.status_code == 204
    assert len(smtp.inbox.messages) == before


# -- the mail server down: a clear 503, never a hang -------------------------------


@pytest.mark.parametrize("kind", ["refused", "silent"])
def test_a_mail_server_that_is_down_is_a_503_and_keeps_no_account(tmp_path, kind):
    with SilentServer() as silent:
        port = silent.port if kind == "silent" else free_port()
        app = verifying_app(tmp_path, "sqlite", port, SMTP_TIMEOUT=1)
        try:
            client = app.test_client()
            response = register(client)
            assert response.status_code == 503
            assert response.json["code"] == "mail_unavailable"
            assert "mail server" in response.json["message"]
            assert login(client).status_code == 401  # no such account was kept
            assert app.extensions["chat"].store.get_user_by_login("alice") is None
        finally:
            app.extensions["chat"].store.close()


def test_a_failed_resend_is_a_503_and_may_be_retried_at_once(tmp_path, smtp):
    app = verifying_app(tmp_path, "sqlite", smtp.port)
    try:
        client = app.test_client()
        register(client)
        code = smtp.inbox.code_for("alice@example.com")
        user = app.extensions["chat"].store.get_user_by_login("alice")
        _age_code(app.extensions["chat"].store, user.id)
        smtp.stop()  # the mail server goes down
        response = resend(client)
        assert response.status_code == 503
        assert response.json["code"] == "mail_unavailable"
        smtp.start()
        assert resend(client).status_code == 204  # no minute to wait: nothing was sent
        fresh = smtp.inbox.code_for("alice@example.com")
        assert len(smtp.inbox.to("alice@example.com")) == 2
        if fresh != code:
            assert verify(client, code).status_code == 422  # the first code was replaced
        assert verify(client, fresh).status_code == 200
    finally:
        app.extensions["chat"].store.close()


# -- settings ---------------------------------------------------------------------


def test_without_smtp_host_development_logs_the_code(tmp_path, caplog):
    app = make_app(tmp_path, "sqlite", EMAIL_VERIFICATION=True, SMTP_HOST=None)
    try:
        client = app.test_client()
        with caplog.at_level(logging.WARNING, logger="chat.mail"):
            assert register(client).status_code == 201
        records = [r for r in caplog.records if r.name == "chat.mail"]
        assert len(records) == 1 and records[0].levelno == logging.WARNING
        line = records[0].getMessage()
        assert "\n" not in line and "alice@example.com" in line
        code = next(word for word in line.replace(".", " ").split() if word.isdigit())
        assert verify(client, code).status_code == 200
    finally:
        app.extensions["chat"].store.close()


def test_production_without_smtp_host_refuses_to_start(tmp_path):
    with pytest.raises(ConfigError, match="SMTP_HOST is not set"):
        make_app(tmp_path, "sqlite", APP_ENV="production", EMAIL_VERIFICATION=True, SMTP_HOST=None)


def test_with_verification_off_nobody_is_asked_for_a_code(tmp_path, smtp):
    app = make_app(tmp_path, "sqlite", SMTP_HOST="127.0.0.1", SMTP_PORT=smtp.port)
    try:
        client = app.test_client()
        assert register(client).status_code == 201
        assert login(client).status_code == 200
        assert smtp.inbox.messages == []
        assert verify(client, "123456").status_code == 409  # nothing to verify
        assert resend(client).status_code == 204
        assert smtp.inbox.messages == []
    finally:
        app.extensions["chat"].store.close()
