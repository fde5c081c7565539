"""Accounts: registration, credentials and token revocation."""

from __future__ import annotations

from datetime import datetime

from ..domain.errors import Conflict, DuplicateError, NotFound, Unauthorized
from ..domain.models import User
from ..domain.store import Store
from .events import Publisher
from .passwords import Hasher
from .presence import Presence


class AccountService:
    def __init__(self, store: Store, publisher: Publisher, presence: Presence, hasher: Hasher):
        self.store = store
        self.publisher = publisher
        self.presence = presence
        self.hasher = hasher

    def register(
        self,
        username: str,
        password: str,
        email: str | None = None,
        display_name: str | None = None,
    ) -> User:
        password_hash = self.hasher.hash(password)
        try:
            user = self.store.create_user(
                username, password_hash, email=email, display_name=display_name
            )
        except DuplicateError as clash:
            # The unique index decided; two racing registrations cannot both win.
            raise Conflict(
                f"That {clash.field} is already taken.",
                errors={clash.field: ["Already taken."]},
            ) from clash
        return user

    def authenticate(self, login: str, password: str) -> User:
        """The user for these credentials; one vague error whichever part was wrong."""
        user = self.store.get_user_by_login(login)
        if not self.hasher.check(user.password_hash if user else None, password) or not user:
            raise Unauthorized("Wrong username or password.")
        return user

    def session_user(self, user_id: str, jti: str) -> User:
        """Is this token good, and whose is it? The one answer for REST and sockets.

        Called by the JWT callbacks on every request, and by the namespace at connect
        and before every event: a revoked token or a gone account is refused in both.
        """
        if self.store.is_token_revoked(jti):
            raise Unauthorized("The token has been revoked.")
        user = self.active_user(user_id)
        if user is None:
            raise Unauthorized("The account of this token no longer exists.")
        return user

    def active_user(self, user_id: str) -> User | None:
        """The live account behind an id, or None when it is gone."""
        user = self.store.get_user(user_id)
        if user is None or user.deleted:
            return None
        user.online = self.presence.is_online(user.id)
        return user

    def get(self, user_id: str) -> User:
        user = self.active_user(user_id)
        if user is None:
            raise NotFound("No such user.")
        return user

    def logout(self, user_id: str, tokens: list[tuple[str, datetime]]) -> None:
        """Revoke (jti, expiry) pairs in the shared store, so every process refuses them
        at once, and close the sockets that signed in with them."""
        for jti, expires_at in tokens:
            self.store.revoke_token(jti, expires_at)
        self.publisher.tokens_revoked(user_id, [jti for jti, _ in tokens])
