"""Users, refresh tokens and signed access tokens, as stored in `.storage/auth`.

Nothing here does I/O or hashing, so the running hub and the offline CLI share it. Refresh
tokens are stored only as SHA-256 hashes; access tokens are never stored at all: they are
`<refresh token id>.<expiry>.<signature>`, signed with HMAC-SHA256 by a key of their refresh
token, so they are checked without I/O and die with the refresh token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from plantpulse.core.auth.const import (
    ACCESS_TOKEN_SECONDS,
    MAX_USERNAME_LENGTH,
    MIN_PASSWORD_LENGTH,
    REFRESH_TOKEN_IDLE_SECONDS,
    Role,
    TokenType,
)
from plantpulse.core.exceptions import PlantPulseError


class AuthError(PlantPulseError, ValueError):
    """A request about users or tokens that cannot be done as asked; the message says why."""


def _iso(timestamp: float | None) -> str | None:
    return None if timestamp is None else datetime.fromtimestamp(timestamp, UTC).isoformat()


@dataclass(slots=True)
class User:
    """A person (or a script's account) who can log in."""

    id: str
    username: str
    name: str
    role: Role
    password_hash: str
    is_owner: bool = False
    is_active: bool = True
    language: str | None = None
    created_at: float = field(default_factory=time.time)

    @property
    def is_admin(self) -> bool:
        """Whether the user may manage users, tokens and configuration."""
        return self.role is Role.ADMIN

    def as_dict(self) -> dict[str, Any]:
        """Serialise for the API; never includes the password hash."""
        return {
            "id": self.id,
            "username": self.username,
            "name": self.name,
            "role": str(self.role),
            "is_owner": self.is_owner,
            "is_admin": self.is_admin,
            "is_active": self.is_active,
            "language": self.language,
            "created_at": _iso(self.created_at),
        }


@dataclass(slots=True)
class RefreshToken:
    """A login session or a long-lived token; the parent of the access tokens it signs."""

    id: str
    user_id: str
    token_type: TokenType
    signing_key: str
    token_hash: str | None = None
    client_id: str | None = None
    client_name: str | None = None
    access_token_seconds: int = ACCESS_TOKEN_SECONDS
    created_at: float = field(default_factory=time.time)
    expires_at: float | None = None
    last_used_at: float | None = None
    last_used_ip: str | None = None

    def is_expired(self, now: float) -> bool:
        """Long-lived tokens end at their expiry; sessions after 90 days without a refresh."""
        if self.expires_at is not None:
            return now >= self.expires_at
        return now - (self.last_used_at or self.created_at) > REFRESH_TOKEN_IDLE_SECONDS

    def as_dict(self) -> dict[str, Any]:
        """Serialise for the API; never includes the key or the hash."""
        return {
            "id": self.id,
            "user_id": self.user_id,
            "type": str(self.token_type),
            "client_id": self.client_id,
            "client_name": self.client_name,
            "created_at": _iso(self.created_at),
            "expires_at": _iso(self.expires_at),
            "last_used_at": _iso(self.last_used_at),
            "last_used_ip": self.last_used_ip,
        }


class TokenProblem(StrEnum):
    """Why an access token was refused. Only forged or unknown ones count towards a ban."""

    MALFORMED = "malformed"
    UNKNOWN = "unknown"
    BAD_SIGNATURE = "bad_signature"
    EXPIRED = "expired"
    REVOKED = "revoked"
    USER_INACTIVE = "user_inactive"

    @property
    def counts_as_attack(self) -> bool:
        """Whether this looks like guessing rather than an old token."""
        return self in (TokenProblem.MALFORMED, TokenProblem.UNKNOWN, TokenProblem.BAD_SIGNATURE)


def hash_secret(secret: str) -> str:
    """The stored form of a refresh token."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _signature(token_id: str, expires_at: int, key: str) -> str:
    digest = hmac.new(
        bytes.fromhex(key), f"{token_id}.{expires_at}".encode("ascii"), hashlib.sha256
    ).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def sign_access_token(token: RefreshToken, expires_at: int) -> str:
    """An access token of `token` valid until the POSIX time `expires_at`."""
    return f"{token.id}.{expires_at}.{_signature(token.id, expires_at, token.signing_key)}"


def check_username(value: str) -> str:
    """Return the cleaned user name or raise AuthError saying what is wrong."""
    username = value.strip()
    if not username:
        raise AuthError("The user name is empty")
    if len(username) > MAX_USERNAME_LENGTH:
        raise AuthError(f"The user name is longer than {MAX_USERNAME_LENGTH} characters")
    if any(char.isspace() or not char.isprintable() for char in username):
        raise AuthError(f"The user name {username!r} contains spaces or control characters")
    return username


def check_password(value: str) -> None:
    """Raise AuthError when a new password is too weak to accept."""
    if len(value) < MIN_PASSWORD_LENGTH:
        raise AuthError(f"The password is too short: use at least {MIN_PASSWORD_LENGTH} characters")


class AuthData:
    """All users and refresh tokens, with the rules that keep them consistent."""

    def __init__(self) -> None:
        self.users: dict[str, User] = {}
        self.refresh_tokens: dict[str, RefreshToken] = {}
        self._by_hash: dict[str, str] = {}

    @classmethod
    def from_stored(cls, data: dict[str, Any] | None) -> AuthData:
        """Rebuild from what `as_stored` wrote (None for a fresh config dir)."""
        auth = cls()
        for item in (data or {}).get("users", []):
            user = User(**{**item, "role": Role(item["role"])})
            auth.users[user.id] = user
        for item in (data or {}).get("refresh_tokens", []):
            auth._index(RefreshToken(**{**item, "token_type": TokenType(item["token_type"])}))
        return auth

    def as_stored(self) -> dict[str, Any]:
        """The JSON-ready document for `.storage/auth`."""
        return {
            "users": [asdict(user) for user in self.users.values()],
            "refresh_tokens": [asdict(token) for token in self.refresh_tokens.values()],
        }

    def _index(self, token: RefreshToken) -> None:
        self.refresh_tokens[token.id] = token
        if token.token_hash is not None:
            self._by_hash[token.token_hash] = token.id

    def user_by_username(self, username: str) -> User | None:
        """The user with this login name (case does not matter)."""
        wanted = username.strip().casefold()
        return next(
            (user for user in self.users.values() if user.username.casefold() == wanted), None
        )

    def admins(self) -> list[User]:
        """Active admins; there must always be at least one once onboarding is done."""
        return [user for user in self.users.values() if user.is_admin and user.is_active]

    def add_user(
        self,
        username: str,
        name: str | None,
        role: Role,
        password_hash: str,
        *,
        is_owner: bool = False,
        language: str | None = None,
    ) -> User:
        """Add a user; raises AuthError when the name is taken or unusable."""
        username = check_username(username)
        if self.user_by_username(username) is not None:
            raise AuthError(f"A user named {username!r} already exists")
        user = User(uuid.uuid4().hex, username, (name or "").strip() or username, Role(role),
                    password_hash, is_owner=is_owner, language=language)
        self.users[user.id] = user
        return user

    def remove_user(self, user_id: str) -> list[RefreshToken]:
        """Remove a user and every token of theirs; returns the removed tokens."""
        self.users.pop(user_id, None)
        return [
            removed for token in self.tokens_of(user_id)
            if (removed := self.remove_refresh_token(token.id)) is not None
        ]

    def tokens_of(self, user_id: str) -> list[RefreshToken]:
        """Every refresh token (session or long-lived) of a user."""
        return [token for token in self.refresh_tokens.values() if token.user_id == user_id]

    def create_refresh_token(
        self,
        user: User,
        token_type: TokenType,
        *,
        client_id: str | None = None,
        client_name: str | None = None,
        lifespan_days: float | None = None,
    ) -> tuple[RefreshToken, str | None]:
        """Create a session (returns its secret) or a long-lived token (secret None)."""
        now = time.time()
        secret: str | None = None
        if token_type is TokenType.LONG_LIVED:
            if not client_name:
                raise AuthError("A long-lived token needs a name to recognise it by")
            if lifespan_days is None or lifespan_days <= 0:
                raise AuthError("A long-lived token must be valid for at least one day")
            if any(token.client_name == client_name and token.token_type is token_type
                   for token in self.tokens_of(user.id)):
                raise AuthError(
                    f"User {user.username!r} already has a long-lived token named "
                    f"{client_name!r}; choose another name or revoke that token first"
                )
            seconds = int(timedelta(days=lifespan_days).total_seconds())
            token = RefreshToken(
                uuid.uuid4().hex, user.id, token_type, secrets.token_hex(32),
                client_id=client_id, client_name=client_name, access_token_seconds=seconds,
                created_at=now, expires_at=now + seconds,
            )
        else:
            secret = secrets.token_urlsafe(48)
            token = RefreshToken(
                uuid.uuid4().hex, user.id, token_type, secrets.token_hex(32),
                token_hash=hash_secret(secret), client_id=client_id, client_name=client_name,
                created_at=now, last_used_at=now,
            )
        self._index(token)
        return token, secret

    def token_by_secret(self, secret: str) -> RefreshToken | None:
        """The session whose refresh token is `secret`."""
        token_id = self._by_hash.get(hash_secret(secret))
        return None if token_id is None else self.refresh_tokens.get(token_id)

    def restore_refresh_token(self, token: RefreshToken) -> None:
        """Put back a token taken out by `remove_refresh_token` (a change that was not saved)."""
        self._index(token)

    def remove_refresh_token(self, token_id: str) -> RefreshToken | None:
        """Forget a refresh token; its access tokens stop working at once."""
        token = self.refresh_tokens.pop(token_id, None)
        if token is not None and token.token_hash is not None:
            self._by_hash.pop(token.token_hash, None)
        return token

    def long_lived_access_token(self, token: RefreshToken) -> str:
        """The access token of a long-lived refresh token, valid until the token expires."""
        assert token.expires_at is not None
        return sign_access_token(token, int(token.expires_at))

    def prune_expired(self, now: float) -> list[RefreshToken]:
        """Drop expired refresh tokens; returns them."""
        expired = [token for token in self.refresh_tokens.values() if token.is_expired(now)]
        for token in expired:
            self.remove_refresh_token(token.id)
        return expired

    def check_access_token(
        self, value: str, now: float
    ) -> tuple[RefreshToken | None, User | None, TokenProblem | None]:
        """Verify an access token without I/O: (token, user, None) or why it is refused."""
        token_id, _, rest = value.partition(".")
        expiry_text, _, signature = rest.partition(".")
        # isdigit() alone accepts digits such as "²" that int() refuses.
        if not token_id or not signature or not (expiry_text.isascii() and expiry_text.isdigit()):
            return None, None, TokenProblem.MALFORMED
        token = self.refresh_tokens.get(token_id)
        if token is None:
            return None, None, TokenProblem.UNKNOWN
        expires_at = int(expiry_text)
        expected = _signature(token_id, expires_at, token.signing_key)
        if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
            return None, None, TokenProblem.BAD_SIGNATURE
        if now >= expires_at or token.is_expired(now):
            return token, None, TokenProblem.EXPIRED
        user = self.users.get(token.user_id)
        if user is None or not user.is_active:
            return token, None, TokenProblem.USER_INACTIVE
        return token, user, None
