"""Accounts: registration, sign-in sessions, profiles, passwords, deletion."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from ..domain.errors import (
    Conflict,
    DuplicateError,
    Forbidden,
    Invalid,
    MailUnavailable,
    NotFound,
    Unauthorized,
    Unverified,
)
from ..domain.models import LoginSession, User, now
from ..domain.store import Store
from .events import Publisher
from .passwords import Hasher
from .presence import Presence
from .user_search import SearchPage, search_users
from .verification import VerificationService

if TYPE_CHECKING:
    from .rooms import RoomService

# What a deleted account shows wherever its id still appears (its messages' authors):
# the row stays so history keeps its author id, everything else about them goes.
DELETED_USERNAME = "deleted"
DELETED_DISPLAY_NAME = "Deleted account"

STALE_TOKEN = "This token predates sign-in sessions; sign in again."
ENDED = "This sign-in has ended (signed out, password changed or account deleted)."


class AccountService:
    def __init__(
        self,
        store: Store,
        publisher: Publisher,
        presence: Presence,
        hasher: Hasher,
        verification: VerificationService,
        rooms: RoomService,
        session_lifetime: timedelta = timedelta(days=30),
    ):
        self.store = store
        self.publisher = publisher
        self.presence = presence
        self.hasher = hasher
        self.verification = verification
        self.rooms = rooms
        self.session_lifetime = session_lifetime

    # -- signing up and in -----------------------------------------------
    def register(
        self,
        username: str,
        password: str,
        email: str | None = None,
        display_name: str | None = None,
    ) -> User:
        """Create an account. Under EMAIL_VERIFICATION the email is required and a code
        is mailed; if the mail cannot be sent the account is not kept (503), so trying
        again later does not find the name taken."""
        required = self.verification.required
        if required and not email:
            raise Invalid(errors={"email": ["Required: this server verifies emails."]})
        password_hash = self.hasher.hash(password)
        try:
            user = self.store.create_user(
                username,
                password_hash,
                email=email,
                display_name=display_name,
                verified=not required,
            )
        except DuplicateError as clash:
            # The unique index decided; two racing registrations cannot both win.
            raise Conflict(
                f"That {clash.field} is already taken.",
                errors={clash.field: ["Already taken."]},
            ) from clash
        if required:
            try:
                self.verification.send_code(user)
            except MailUnavailable:
                self.store.discard_user(user.id)
                raise
        return user

    def create_verified(
        self,
        username: str,
        password: str,
        email: str | None = None,
        display_name: str | None = None,
    ) -> User:
        """An account the operator vouches for (`flask chat create-user`): verified at
        once, no code mailed."""
        try:
            return self.store.create_user(
                username,
                self.hasher.hash(password),
                email=email,
                display_name=display_name,
                verified=True,
            )
        except DuplicateError as clash:
            raise Conflict(
                f"That {clash.field} is already taken.", errors={clash.field: ["Already taken."]}
            ) from clash

    def authenticate(self, login: str, password: str) -> User:
        """The user for these credentials; one vague error whichever part was wrong.
        An account still waiting for its email code is refused (403 `unverified`), but
        only once the password proved it is theirs."""
        user = self.store.get_user_by_login(login)
        if not self.hasher.check(user.password_hash if user else None, password) or not user:
            raise Unauthorized("Wrong username or password.")
        if self.verification.required and not user.verified:
            raise Unverified()
        return user

    def start_session(self, user: User) -> LoginSession:
        """A sign-in: its tokens carry the session's id and live as long as it does."""
        return self.store.create_session(user.id, now() + self.session_lifetime)

    def session_user(self, user_id: str, session_id: str | None) -> User:
        """Is this token good, and whose is it? The one answer for REST and sockets.

        Called by the JWT callbacks on every request, and by the namespace at connect
        and before every event: a token of an ended session or a gone account is
        refused in both, on every process at once (the session is in the store).
        """
        if not session_id:
            raise Unauthorized(STALE_TOKEN)
        session = self.store.get_session(session_id)
        if session is None or session.user_id != user_id or not session.live(now()):
            raise Unauthorized(ENDED)
        user = self.active_user(user_id)
        if user is None:
            raise Unauthorized("The account of this token no longer exists.")
        return user

    def logout(self, user: User, session_id: str, other_session_id: str | None = None) -> None:
        """End this session (its access and refresh tokens die together) and, if given,
        another of the same user's (the session of a refresh token sent along), and
        close the sockets signed in with them, on every process."""
        ended = [sid for sid in {session_id, other_session_id} if sid]
        ended = [sid for sid in ended if self.store.end_session(sid)]
        self.publisher.sessions_ended(user.id, ended)

    # -- reading ---------------------------------------------------------
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

    def search(self, query: str, limit: int, cursor: str | None) -> SearchPage:
        page = search_users(self.store, query, limit, cursor)
        for user in page.users:
            user.online = self.presence.is_online(user.id)
        return page

    # -- changing yourself -----------------------------------------------
    @staticmethod
    def _yourself(actor: User, user_id: str) -> None:
        if user_id != actor.id:
            raise Forbidden("You may change only your own account.")

    def _check_password(self, user: User, password: str) -> None:
        if not self.hasher.check(user.password_hash, password):
            raise Forbidden("The password is wrong.")

    def update_profile(self, actor: User, user_id: str, changes: Mapping[str, Any]) -> User:
        """Change your username, display name or avatar; usernames stay unique
        ignoring case (409)."""
        self._yourself(actor, user_id)
        if not changes:
            return self.get(actor.id)
        try:
            user = self.store.update_user(actor.id, changes)
        except DuplicateError as clash:
            raise Conflict(
                f"That {clash.field} is already taken.", errors={clash.field: ["Already taken."]}
            ) from clash
        if user is None:
            raise NotFound("No such user.")
        user.online = self.presence.is_online(user.id)
        return user

    def change_password(self, actor: User, password: str, new_password: str) -> LoginSession:
        """Every session of the user ends (every token, every socket, everywhere); the
        caller gets a new session at once, so the client that asked stays signed in."""
        self._check_password(actor, password)
        self.reset_password(actor, new_password)
        return self.start_session(actor)

    def reset_password(self, user: User, new_password: str) -> None:
        """Set a password and end every session of the user, everywhere (also what the
        operator's `flask chat reset-password` does, without the old password)."""
        self.store.set_password(user.id, self.hasher.hash(new_password))
        self.publisher.sessions_ended(user.id, self.store.end_user_sessions(user.id))

    def delete_account(self, actor: User, user_id: str, password: str) -> None:
        """Your own account, with your password (see `close_account`)."""
        self._yourself(actor, user_id)
        self._check_password(actor, password)
        self.close_account(actor)

    def close_account(self, user: User) -> None:
        """Sign out everywhere, leave every group room (owned ones pass on), and keep
        only an anonymous row for the messages' author ids; the name and the email are
        free again. (Also the operator's `flask chat delete-user`.)"""
        self.store.end_user_sessions(user.id)
        self.publisher.account_closed(user.id)
        self.rooms.leave_all(user)
        self.store.anonymise_user(
            user.id, username=DELETED_USERNAME, display_name=DELETED_DISPLAY_NAME
        )
