"""Password hashing with scrypt: a random salt per password, parameters kept with the hash.

Hashing takes tens of milliseconds on purpose; these functions block and run in an executor.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from functools import cache
from typing import Final

SCHEME: Final = "scrypt"
SCRYPT_N: Final = 2**14
SCRYPT_R: Final = 8
SCRYPT_P: Final = 1
KEY_BYTES: Final = 32
SALT_BYTES: Final = 16
# scrypt needs 128 * n * r bytes; allow twice that so stored hashes with larger n still verify.
_MAX_MEMORY: Final = 256 * 1024 * 1024


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str) -> str:
    """Return `scrypt$n$r$p$salt$key` (salt and key in base64) for `password`."""
    salt = secrets.token_bytes(SALT_BYTES)
    key = hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P,
        dklen=KEY_BYTES, maxmem=_MAX_MEMORY,
    )
    return f"{SCHEME}${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(key)}"


def verify_password(password: str, encoded: str) -> bool:
    """Tell whether `password` matches a hash made by `hash_password`; compares in constant time."""
    try:
        scheme, n, r, p, salt, key = encoded.split("$")
        if scheme != SCHEME:
            return False
        expected = base64.b64decode(key)
        actual = hashlib.scrypt(
            password.encode("utf-8"), salt=base64.b64decode(salt), n=int(n), r=int(r),
            p=int(p), dklen=len(expected), maxmem=_MAX_MEMORY,
        )
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)


@cache
def _dummy_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))


def verify_nothing(password: str) -> bool:
    """Spend the time a real check takes, so an unknown user name cannot be told by timing."""
    verify_password(password, _dummy_hash())
    return False
