"""Onboarding: a one-time code, printed at start, that lets one person create the owner."""

from __future__ import annotations

import hmac
import secrets

from plantpulse.core.auth.audit import Actor
from plantpulse.core.auth.const import Role
from plantpulse.core.auth.manager import AuthManager
from plantpulse.core.auth.models import AuthError, User


class OnboardingError(AuthError):
    """Onboarding is closed or the code is wrong."""


class Onboarding:
    """Open while there is no user; closed for good once the owner account exists."""

    def __init__(self, auth: AuthManager) -> None:
        self._auth = auth
        self.code: str | None = None if auth.has_users else secrets.token_urlsafe(18)

    @property
    def done(self) -> bool:
        """Whether the owner account exists."""
        return self._auth.has_users

    def code_matches(self, code: str) -> bool:
        """Compare a presented code with ours in constant time."""
        if self.code is None:
            return False
        return hmac.compare_digest(code.encode("utf-8"), self.code.encode("utf-8"))

    async def async_create_owner(
        self,
        code: str,
        username: str,
        password: str,
        name: str | None,
        language: str | None,
        ip: str | None,
    ) -> User:
        """Create the first user (an admin who owns the hub) if `code` is the one printed."""
        if self.done:
            raise OnboardingError("Onboarding is already done: log in instead")
        if not self.code_matches(code):
            raise OnboardingError(
                "Wrong onboarding code: use the link the hub printed when it started"
            )
        code_in_use, self.code = self.code, None
        try:
            return await self._auth.async_create_user(
                Actor("onboarding", ip=ip), username, password, Role.ADMIN, name,
                is_owner=True, language=language,
            )
        except AuthError:
            self.code = code_in_use
            raise
