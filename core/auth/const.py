"""Constants of authentication: roles, token lifetimes, storage names, throttling defaults."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from typing import Final


class Role(StrEnum):
    """What a user may do. Each role includes everything the roles below it may do."""

    VIEWER = "viewer"
    OPERATOR = "operator"
    ADMIN = "admin"

    def allows(self, needed: Role) -> bool:
        """Tell whether this role may do what `needed` is required for."""
        return _RANK[self] >= _RANK[needed]


_RANK: Final = {Role.VIEWER: 0, Role.OPERATOR: 1, Role.ADMIN: 2}


class TokenType(StrEnum):
    """A login session (refreshable) or a long-lived token for scripts and devices."""

    NORMAL = "normal"
    LONG_LIVED = "long_lived_access_token"


STORAGE_KEY: Final = "auth"
STORAGE_VERSION: Final = 1
AUDIT_LOG_FILE: Final = "audit.log"

ACCESS_TOKEN_SECONDS: Final = int(timedelta(minutes=30).total_seconds())
LONG_LIVED_DEFAULT_DAYS: Final = 3650
# A login session nobody refreshed for this long is forgotten.
REFRESH_TOKEN_IDLE_SECONDS: Final = timedelta(days=90).total_seconds()
MIN_PASSWORD_LENGTH: Final = 8
MAX_USERNAME_LENGTH: Final = 64

DEFAULT_LOGIN_ATTEMPTS_THRESHOLD: Final = 5
DEFAULT_LOGIN_ATTEMPTS_WINDOW_MINUTES: Final = 5.0
DEFAULT_IP_BAN_MINUTES: Final = 30.0
