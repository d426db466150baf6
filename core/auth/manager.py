"""The running hub's authentication: users, sessions, long-lived tokens and the audit log.

Every change of users or tokens is saved to `.storage/auth` at once and written to the audit
log. Password hashing runs in the executor; access tokens are checked in the loop without I/O.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from plantpulse.core.auth.audit import Actor, AuditLog, audit_entry
from plantpulse.core.auth.const import AUDIT_LOG_FILE, STORAGE_KEY, STORAGE_VERSION, Role, TokenType
from plantpulse.core.auth.models import (
    AuthData,
    AuthError,
    RefreshToken,
    TokenProblem,
    User,
    check_password,
    hash_secret,
    sign_access_token,
)
from plantpulse.core.auth.passwords import hash_password, verify_nothing, verify_password
from plantpulse.core.const import STORAGE_DIR
from plantpulse.core.exceptions import StorageError
from plantpulse.core.storage import Store

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub

_LOGGER = logging.getLogger(__name__)

# Saving `last used` facts of sessions can wait; changes of users and tokens are saved at once.
USAGE_SAVE_DELAY: Final = 30.0
# Password hashes computed at once (each takes ~50 ms of CPU and 16 MB): a flood of logins from
# many addresses queues here instead of filling the hub's executor.
MAX_CONCURRENT_HASHES: Final = 2
# Removed tokens remembered so their leftover access and refresh tokens count as revoked, not
# forged.
MAX_REMEMBERED_REVOKED: Final = 10_000

TokenCheck = tuple[RefreshToken | None, User | None, TokenProblem | None]


class AuthManager:
    """Users and tokens of a running hub; kept in `hub.data["auth"]` by the http component."""

    def __init__(self, hub: Hub) -> None:
        self._hub = hub
        self._store = Store(hub, STORAGE_KEY, STORAGE_VERSION)
        self.data = AuthData()
        self.audit_log = AuditLog(hub.path(STORAGE_DIR, AUDIT_LOG_FILE))
        self._audit_lock = asyncio.Lock()
        self._hash_slots = asyncio.Semaphore(MAX_CONCURRENT_HASHES)
        # Ids and refresh secret hashes of removed tokens (insertion-ordered, bounded).
        self._revoked: dict[str, None] = {}
        self._ended_secrets: dict[str, None] = {}
        self._revoke_listeners: list[Callable[[str], None]] = []

    async def async_load(self) -> None:
        """Read `.storage/auth` and drop expired tokens."""
        self.data = AuthData.from_stored(await self._store.async_load())
        if expired := self.data.prune_expired(time.time()):
            for token in expired:
                self._ended(token)
            await self._async_save()

    @property
    def has_users(self) -> bool:
        """False until the owner account exists (onboarding is open until then)."""
        return bool(self.data.users)

    async def _async_save(self) -> None:
        await self._store.async_save(self.data.as_stored())

    async def async_audit(
        self, actor: Actor, action: str, target: str, details: dict[str, Any] | None = None
    ) -> None:
        """Append a record to the audit log (in the executor, in call order)."""
        entry = audit_entry(actor, action, target, details)
        async with self._audit_lock:
            try:
                await self._hub.async_add_executor_job(self.audit_log.append, entry)
            except OSError as err:
                _LOGGER.error("Cannot write the audit log %s: %s", self.audit_log.path, err)

    async def async_read_audit(self, limit: int) -> list[dict[str, Any]]:
        """The latest `limit` audit records, oldest first."""
        return await self._hub.async_add_executor_job(self.audit_log.read_latest, limit)

    # Users --------------------------------------------------------------------------------

    async def async_authenticate(self, username: str, password: str) -> User | None:
        """The active user with this name and password, else None (after the same delay)."""
        user = self.data.user_by_username(username)
        async with self._hash_slots:
            if user is None or not user.is_active:
                await self._hub.async_add_executor_job(verify_nothing, password)
                return None
            ok = await self._hub.async_add_executor_job(
                verify_password, password, user.password_hash
            )
        return user if ok else None

    async def _async_hash(self, password: str) -> str:
        async with self._hash_slots:
            return await self._hub.async_add_executor_job(hash_password, password)

    async def async_create_user(
        self,
        actor: Actor,
        username: str,
        password: str,
        role: Role,
        name: str | None = None,
        *,
        is_owner: bool = False,
        language: str | None = None,
    ) -> User:
        """Create a user; raises AuthError for a taken name or a weak password."""
        check_password(password)
        if self.data.user_by_username(username) is not None:
            raise AuthError(f"A user named {username.strip()!r} already exists")
        password_hash = await self._async_hash(password)
        user = self.data.add_user(username, name, role, password_hash, is_owner=is_owner,
                                  language=language)
        try:
            await self._async_save()
        except StorageError:
            self.data.users.pop(user.id)
            raise
        await self.async_audit(actor, "user_create", user.username, {"role": str(user.role)})
        return user

    async def async_update_user(
        self,
        actor: Actor,
        user_id: str,
        *,
        name: str | None = None,
        role: Role | None = None,
        is_active: bool | None = None,
        password: str | None = None,
        language: str | None = None,
        keep_token_id: str | None = None,
    ) -> User:
        """Change a user; nothing changes when the save fails (StorageError).

        A new password ends the user's login sessions except `keep_token_id` (the caller's own
        when people change their own password); long-lived tokens stay. The owner and the last
        active admin cannot be demoted or disabled.
        """
        user = self._user(user_id)
        if password is not None:
            check_password(password)
        wanted: dict[str, Any] = {"name": name, "role": role, "is_active": is_active,
                                  "language": language}
        if password is not None:
            wanted["password_hash"] = await self._async_hash(password)
        # Checked after hashing, so a change made meanwhile cannot slip past the rules.
        losing_admin = (role is not None and role is not Role.ADMIN) or is_active is False
        if losing_admin and user.is_owner:
            raise AuthError(f"{user.username!r} owns this hub and cannot be demoted or disabled")
        if losing_admin and user.is_admin and self.data.admins() == [user]:
            raise AuthError(f"{user.username!r} is the only active admin; make another user an "
                            "admin first")
        changes = {key: value for key, value in wanted.items()
                   if value is not None and getattr(user, key) != value}
        before = {key: getattr(user, key) for key in changes}
        ended = [
            token for token in self.data.tokens_of(user.id)
            if password is not None and token.token_type is TokenType.NORMAL
            and token.id != keep_token_id
        ]
        for key, value in changes.items():
            setattr(user, key, value)
        for token in ended:
            self.data.remove_refresh_token(token.id)
        try:
            await self._async_save()
        except StorageError:
            for key, value in before.items():
                setattr(user, key, value)
            for token in ended:
                self.data.restore_refresh_token(token)
            raise
        for token in ended:
            self._ended(token)
        if is_active is False:
            for token in self.data.tokens_of(user.id):
                self._notify_listeners(token.id)
        details = {key: str(value) if key == "role" else value
                   for key, value in changes.items() if key != "password_hash"}
        if "password_hash" in changes:
            details["password"] = "changed"
        await self.async_audit(actor, "user_update", user.username, details)
        return user

    async def async_remove_user(self, actor: Actor, user_id: str) -> None:
        """Delete a user and all their tokens; nothing changes when the save fails."""
        user = self._user(user_id)
        if actor.user_id == user_id:
            raise AuthError("You cannot delete your own account")
        if user.is_owner:
            raise AuthError(f"{user.username!r} owns this hub and cannot be deleted")
        if user.is_admin and self.data.admins() == [user]:
            raise AuthError(f"{user.username!r} is the only active admin")
        removed = self.data.remove_user(user_id)
        try:
            await self._async_save()
        except StorageError:
            self.data.users[user.id] = user
            for token in removed:
                self.data.restore_refresh_token(token)
            raise
        for token in removed:
            self._ended(token)
        await self.async_audit(actor, "user_delete", user.username)

    def _user(self, user_id: str) -> User:
        user = self.data.users.get(user_id)
        if user is None:
            raise AuthError(f"No user with id {user_id!r}")
        return user

    # Tokens -------------------------------------------------------------------------------

    async def async_create_session(
        self, user: User, client_id: str | None, ip: str | None
    ) -> tuple[RefreshToken, str]:
        """Start a login session: returns the refresh token and its secret."""
        for token in self.data.prune_expired(time.time()):
            self._ended(token)
        token, secret = self.data.create_refresh_token(user, TokenType.NORMAL, client_id=client_id)
        token.last_used_ip = ip
        try:
            await self._async_save()
        except StorageError:
            self.data.remove_refresh_token(token.id)
            raise
        assert secret is not None
        return token, secret

    def session_by_secret(self, secret: str) -> RefreshToken | None:
        """The live session of a refresh token, or None."""
        token = self.data.token_by_secret(secret)
        if token is None or token.is_expired(time.time()):
            return None
        return token

    def is_ended_session(self, secret: str) -> bool:
        """Whether `secret` was a session's refresh token that was revoked or has expired.

        An open browser tab presents such a secret after a logout or a password change; that is
        not somebody guessing, so it must not count towards a ban.
        """
        if hash_secret(secret) in self._ended_secrets:
            return True
        token = self.data.token_by_secret(secret)
        return token is not None and token.is_expired(time.time())

    def async_create_access_token(self, token: RefreshToken, ip: str | None) -> str:
        """A fresh short-lived access token for a session; remembers when it was used."""
        now = time.time()
        token.last_used_at = now
        token.last_used_ip = ip
        self._store.async_delay_save(self.data.as_stored, USAGE_SAVE_DELAY)
        return sign_access_token(token, int(now) + token.access_token_seconds)

    async def async_create_long_lived_token(
        self, actor: Actor, user: User, client_name: str, lifespan_days: float
    ) -> tuple[RefreshToken, str]:
        """Create a long-lived token for `user`; returns it and its access token."""
        token, _secret = self.data.create_refresh_token(
            user, TokenType.LONG_LIVED, client_name=client_name, lifespan_days=lifespan_days,
        )
        try:
            await self._async_save()
        except StorageError:
            self.data.remove_refresh_token(token.id)
            raise
        await self.async_audit(actor, "token_create", f"{user.username}/{client_name}",
                               {"token_id": token.id, "days": lifespan_days})
        return token, self.data.long_lived_access_token(token)

    async def async_revoke(self, actor: Actor | None, token_id: str) -> RefreshToken | None:
        """Revoke a refresh token and so all its access tokens. `actor` None: own logout.

        Nothing changes when the save fails (StorageError).
        """
        token = self.data.remove_refresh_token(token_id)
        if token is None:
            return None
        try:
            await self._async_save()
        except StorageError:
            self.data.restore_refresh_token(token)
            raise
        self._ended(token)
        if actor is not None:
            owner = self.data.users.get(token.user_id)
            username = owner.username if owner else token.user_id
            target = f"{username}/{token.client_name or 'session'}"
            await self.async_audit(actor, "token_revoke", target, {"token_id": token.id})
        return token

    def _ended(self, token: RefreshToken) -> None:
        """Remember a token that was removed, so leftovers of it are not taken for attacks."""
        _remember(self._revoked, token.id)
        if token.token_hash is not None:
            _remember(self._ended_secrets, token.token_hash)
        self._notify_listeners(token.id)

    def _notify_listeners(self, token_id: str) -> None:
        for listener in list(self._revoke_listeners):
            listener(token_id)

    def async_listen_revoked(self, listener: Callable[[str], None]) -> Callable[[], None]:
        """Call `listener(token_id)` when a token dies or its user is disabled; returns remove."""
        self._revoke_listeners.append(listener)
        return lambda: self._revoke_listeners.remove(listener)

    def async_check_access_token(self, value: str) -> TokenCheck:
        """(token, user, None) for a valid access token, else the reason it is refused."""
        token, user, problem = self.data.check_access_token(value, time.time())
        if problem is TokenProblem.UNKNOWN and value.partition(".")[0] in self._revoked:
            problem = TokenProblem.REVOKED
        return token, user, problem


def _remember(seen: dict[str, None], key: str) -> None:
    seen[key] = None
    if len(seen) > MAX_REMEMBERED_REVOKED:
        del seen[next(iter(seen))]
