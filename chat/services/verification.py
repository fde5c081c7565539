"""Email verification: six-digit codes, mailed, hashed, short-lived, attempt-limited.

A code is stored only as an HMAC-SHA256 keyed with the app's secret: a fast hash is
enough for a secret that lives minutes and allows a handful of guesses, and the key
means a copy of the database alone does not give the codes away. Each guess is
counted before it is compared (`use_verification_attempt`), so guesses sent at the same
moment still get five tries between them. A resend replaces the code, at most once a
minute per account.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from ..domain.errors import Conflict, Invalid, MailUnavailable, RateLimited
from ..domain.models import User, VerificationCode, fold, now
from ..domain.store import Store


class Mailer(Protocol):
    def send(self, to: str, subject: str, body: str) -> None:
        """Deliver one mail, or raise MailUnavailable."""


@dataclass(frozen=True)
class VerificationSettings:
    required: bool = False  # EMAIL_VERIFICATION
    code_ttl: int = 600  # VERIFICATION_CODE_TTL, seconds
    max_attempts: int = 5
    resend_interval: int = 60  # seconds between two codes for one address
    secret: bytes = b""


WRONG = "Wrong or expired code."


class VerificationService:
    def __init__(self, store: Store, mailer: Mailer, settings: VerificationSettings):
        self.store = store
        self.mailer = mailer
        self.settings = settings

    @property
    def required(self) -> bool:
        return self.settings.required

    def _hash(self, user_id: str, code: str) -> str:
        message = f"{user_id}:{code}".encode()
        return hmac.new(self.settings.secret, message, hashlib.sha256).hexdigest()

    def send_code(self, user: User) -> None:
        """Mail the user a new code, replacing the pending one; 429 within a minute of
        the last, 503 (and nothing replaced) when the mail server is down."""
        assert user.email, "only accounts with an email are verified"
        code = f"{secrets.randbelow(10**6):06d}"
        sent = now()
        pending = VerificationCode(
            user_id=user.id,
            code_hash=self._hash(user.id, code),
            sent_at=sent,
            expires_at=sent + timedelta(seconds=self.settings.code_ttl),
        )
        interval = timedelta(seconds=self.settings.resend_interval)
        last = self.store.put_verification_code(pending, sent - interval)
        if last is not None:
            wait = math.ceil((last + interval - sent).total_seconds())
            raise RateLimited(
                f"A code was sent less than a minute ago; ask again in {wait} s.", wait
            )
        minutes = max(self.settings.code_ttl // 60, 1)
        try:
            self.mailer.send(
                user.email,
                "Your verification code",
                f"Your verification code is {code}. It expires in {minutes} minutes.",
            )
        except MailUnavailable:
            # Unsent, so not pending: the next request may try again at once.
            self.store.delete_verification_code(user.id, pending.code_hash)
            raise

    def resend(self, email: str) -> None:
        """A new code for an unverified address; for any other address nothing is sent,
        and the answer is the same, so it does not tell which addresses have accounts."""
        user = self._by_email(email)
        if user is not None and not user.verified:
            self.send_code(user)

    def verify(self, email: str, code: str) -> User:
        user = self._by_email(email)
        if user is None:
            raise Invalid(WRONG, errors={"code": [WRONG]})
        if user.verified:
            raise Conflict("This email is already verified: sign in.")
        attempt = self.store.use_verification_attempt(user.id, now(), self.settings.max_attempts)
        if attempt is None:
            message = "The code has expired or was guessed wrong too often: ask for a new one."
            raise Invalid(message, errors={"code": [message]})
        if not hmac.compare_digest(attempt.code_hash, self._hash(user.id, code)):
            left = self.settings.max_attempts - attempt.attempts
            raise Invalid(WRONG, errors={"code": [f"{WRONG} {left} attempts left."]})
        self.store.set_verified(user.id)
        user.verified = True
        return user

    def _by_email(self, email: str) -> User | None:
        user = self.store.get_user_by_login(email)
        if user is None or not user.email or fold(user.email) != fold(email):
            return None  # no account, or `email` named a username
        return user
