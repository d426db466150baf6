"""`plantpulse user add` and `plantpulse token create`: change `.storage/auth` of a stopped hub.

Both take the config dir lock for their write, so they never write behind a running hub's back;
while a hub runs they refuse and say how to do the same through it. Blocking; no event loop.
"""

from __future__ import annotations

import getpass
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from plantpulse.core.auth.audit import CLI_USER, Actor, AuditLog, audit_entry
from plantpulse.core.auth.const import AUDIT_LOG_FILE, STORAGE_KEY, STORAGE_VERSION, Role, TokenType
from plantpulse.core.auth.models import AuthData, AuthError, check_password, check_username
from plantpulse.core.auth.passwords import hash_password
from plantpulse.core.const import CONFIG_FILE, STORAGE_DIR
from plantpulse.core.exceptions import HubRunningError, StorageError
from plantpulse.core.storage import ConfigDirLock, Store


def _check_config_dir(config_dir: Path) -> None:
    if not (config_dir / CONFIG_FILE).is_file():
        raise AuthError(
            f"{config_dir} is not a PlantPulse config dir (it has no {CONFIG_FILE}). Start the "
            f"hub once with `plantpulse run --config {config_dir}` to create it, or pass the "
            "right --config"
        )


def _read_new_password(stdin: TextIO) -> str:
    """A new password: asked twice on a terminal, else the first line of stdin.

    A second line, when piped, must repeat the first (as a typed confirmation would).
    """
    if stdin.isatty():
        first = getpass.getpass("Password: ")
        if getpass.getpass("Repeat the password: ") != first:
            raise AuthError("The passwords do not match")
        return first
    first_line = stdin.readline()
    if not first_line:
        raise AuthError("No password on standard input: pipe it as the first line")
    second_line = stdin.readline()
    password = first_line.rstrip("\r\n")
    if second_line and second_line.rstrip("\r\n") != password:
        raise AuthError("The second line of standard input does not repeat the password")
    return password


def _fail(message: str, stderr: TextIO | None) -> int:
    print(f"error: {message}", file=stderr or sys.stderr)
    return 1


def user_add(
    config_dir: Path,
    name: str,
    role: str,
    stdin: TextIO,
    stdout: TextIO,
    stderr: TextIO | None = None,
) -> int:
    """Add a user to a stopped hub; returns the exit code (0 done, 1 refused)."""
    try:
        wanted_role = Role(role)
        username = check_username(name)
        _check_config_dir(config_dir)
        password = _read_new_password(stdin)
        check_password(password)
        with ConfigDirLock(config_dir):
            store = Store.offline(config_dir, STORAGE_KEY, STORAGE_VERSION)
            data = AuthData.from_stored(store.load())
            if not data.users and wanted_role is not Role.ADMIN:
                raise AuthError(
                    "The first user must be an admin, who can then add others: use --admin"
                )
            if data.user_by_username(username) is not None:
                raise AuthError(f"A user named {username!r} already exists")
            user = data.add_user(username, None, wanted_role, hash_password(password),
                                 is_owner=not data.users)
            store.save(data.as_stored())
            AuditLog(config_dir / STORAGE_DIR / AUDIT_LOG_FILE).append(
                audit_entry(Actor(CLI_USER), "user_create", user.username,
                            {"role": str(user.role)})
            )
    except ValueError as err:
        if isinstance(err, AuthError):
            return _fail(str(err), stderr)
        return _fail(f"unknown role {role!r}: use admin, operator or viewer", stderr)
    except HubRunningError as err:
        return _fail(
            f"{err}. Users cannot be added behind its back: stop the hub and run this again, "
            "or let an admin add the user through the running hub's API (REST: POST "
            "/api/auth/users with username, password and role)", stderr,
        )
    except (StorageError, OSError) as err:
        return _fail(str(err), stderr)
    print(f"Added {user.role} {user.username!r} to {config_dir}", file=stdout)
    return 0


def token_create(
    config_dir: Path,
    user: str,
    label: str,
    days: int,
    stdout: TextIO,
    stderr: TextIO | None = None,
) -> int:
    """Create a long-lived access token; prints it alone on the last line of stdout."""
    try:
        _check_config_dir(config_dir)
        with ConfigDirLock(config_dir):
            store = Store.offline(config_dir, STORAGE_KEY, STORAGE_VERSION)
            data = AuthData.from_stored(store.load())
            owner = data.user_by_username(user)
            if owner is None:
                raise AuthError(f"No user named {user!r}; add one with `plantpulse user add`")
            if not owner.is_active:
                raise AuthError(f"User {owner.username!r} is disabled")
            token, _secret = data.create_refresh_token(
                owner, TokenType.LONG_LIVED, client_name=label.strip(), lifespan_days=days
            )
            store.save(data.as_stored())
            AuditLog(config_dir / STORAGE_DIR / AUDIT_LOG_FILE).append(
                audit_entry(Actor(CLI_USER), "token_create", f"{owner.username}/{label}",
                            {"token_id": token.id, "days": days})
            )
    except AuthError as err:
        return _fail(str(err), stderr)
    except HubRunningError as err:
        return _fail(
            f"{err}. Tokens cannot be created behind its back: stop the hub and run this "
            "again, or create it through the running hub's API with your own login: REST "
            "POST /api/auth/tokens with {\"client_name\": \"<label>\"}, or the WebSocket "
            "command auth/long_lived_access_token",
            stderr,
        )
    except (StorageError, OSError) as err:
        return _fail(str(err), stderr)
    assert token.expires_at is not None
    until = datetime.fromtimestamp(token.expires_at, UTC).date().isoformat()
    print(f"Long-lived access token {token.client_name!r} for {owner.username!r}, valid until "
          f"{until}. Send it as `Authorization: Bearer <token>`; it is shown only now:",
          file=stdout)
    print(data.long_lived_access_token(token), file=stdout)
    return 0
