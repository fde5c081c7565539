"""Tokens are taken only as they were issued, and a sign-in for nobody costs a hash."""

from __future__ import annotations

import base64
import json

import jwt
import pytest

from chat.services import passwords


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def claims_of(app, token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def test_an_unsigned_alg_none_token_is_refused(app, client, auth, sio):
    alice = auth.user("alice")
    claims = claims_of(app, alice.token)
    forged = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."
    response = client.get("/api/users/me", headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401
    assert not sio(forged).is_connected("/chat")


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")  # the forger's
@pytest.mark.parametrize("algorithm", ["HS512", "HS384"])
def test_a_token_signed_with_the_right_key_but_another_algorithm_is_refused(
    app, client, auth, algorithm
):
    alice = auth.user("alice")
    claims = claims_of(app, alice.token)
    other = jwt.encode(claims, app.config["JWT_SECRET_KEY"], algorithm=algorithm)
    response = client.get("/api/users/me", headers={"Authorization": f"Bearer {other}"})
    assert response.status_code == 401
    same = jwt.encode(claims, app.config["JWT_SECRET_KEY"], algorithm="HS256")
    assert (
        client.get("/api/users/me", headers={"Authorization": f"Bearer {same}"}).status_code == 200
    )


def test_a_sign_in_for_nobody_checks_a_hash_like_a_wrong_password(client, auth, monkeypatch):
    """Costing the same is what hides which names exist: both check one hash of the
    configured method (timing itself is not asserted: tests measure no speed)."""
    auth.user("alice")
    checked: list[str] = []
    real = passwords.check_password_hash

    def counting(pwhash: str, password: str) -> bool:
        checked.append(pwhash.split("$", 1)[0])
        return real(pwhash, password)

    monkeypatch.setattr(passwords, "check_password_hash", counting)
    wrong = client.post("/api/auth/login", json={"username": "alice", "password": "nope-nope"})
    nobody = client.post("/api/auth/login", json={"username": "nobody", "password": "nope-nope"})
    assert wrong.status_code == nobody.status_code == 401
    assert wrong.json == nobody.json
    assert len(checked) == 2 and checked[0] == checked[1]
