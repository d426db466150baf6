"""Schema versions: create a new database, migrate an older one, refuse a newer one.

`MIGRATIONS[n]` takes a database from version n to n + 1. All steps run in one transaction at
start, so a failure leaves the database at its old version. A migration creates tables
through `schema.table_statements` while their shape is still the current one; when a later
version changes such a table, the migration that created it gets the old DDL frozen inline.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Final

import aiosqlite

from plantpulse.core.recorder.database import RecorderDatabaseError, async_table_names
from plantpulse.core.recorder.schema import SCHEMA_VERSION, Dialect, create_statements

_LOGGER = logging.getLogger(__name__)

Migration = Callable[[aiosqlite.Connection, Dialect], Awaitable[None]]

MIGRATIONS: Final[dict[int, Migration]] = {}


async def async_prepare_schema(
    conn: aiosqlite.Connection, path: Path, dialect: Dialect = Dialect.SQLITE
) -> int | None:
    """Bring the database to SCHEMA_VERSION; return the version it had (None when new).

    Raises RecorderDatabaseError for a database of a newer version or a foreign one; such a
    database is left untouched.
    """
    tables = await async_table_names(conn)
    if not tables:
        await _async_in_transaction(conn, lambda: _async_create(conn, dialect))
        _LOGGER.info("Created the recorder database %s (schema %s)", path, SCHEMA_VERSION)
        return None
    if "schema_version" not in tables:
        raise RecorderDatabaseError(
            f"{path} holds tables but is not a PlantPulse recorder database. It was left as it "
            "is: point db_url under recorder: at another file."
        )
    rows = await conn.execute_fetchall("SELECT MAX(version) FROM schema_version")
    version = rows[0][0] or 0
    if version > SCHEMA_VERSION:
        raise RecorderDatabaseError(
            f"The recorder database {path} has schema version {version}, newer than this "
            f"PlantPulse understands ({SCHEMA_VERSION}): it was written by a newer PlantPulse. "
            "It was left as it is: upgrade PlantPulse, or restore a backup made with this "
            "version."
        )
    if version < SCHEMA_VERSION:
        try:
            await _async_in_transaction(
                conn, lambda: _async_migrate(conn, dialect, version, path)
            )
        except sqlite3.Error as err:
            raise RecorderDatabaseError(
                f"Migrating the recorder database {path} from schema {version} failed ({err}). "
                f"It was left at schema {version}; free disk space or restore a backup, then "
                "start again."
            ) from err
    return version


async def _async_create(conn: aiosqlite.Connection, dialect: Dialect) -> None:
    for statement in create_statements(dialect):
        await conn.execute(statement)
    await _async_record_version(conn, SCHEMA_VERSION)


async def _async_migrate(
    conn: aiosqlite.Connection, dialect: Dialect, version: int, path: Path
) -> None:
    for current in range(version, SCHEMA_VERSION):
        _LOGGER.warning("Migrating the recorder database %s from schema %s to %s",
                        path, current, current + 1)
        await MIGRATIONS[current](conn, dialect)
        await _async_record_version(conn, current + 1)


async def _async_record_version(conn: aiosqlite.Connection, version: int) -> None:
    await conn.execute(
        "INSERT INTO schema_version (version, applied_us) VALUES (?, ?)",
        (version, round(time.time() * 1_000_000)),
    )


async def _async_in_transaction(
    conn: aiosqlite.Connection, work: Callable[[], Awaitable[None]]
) -> None:
    await conn.execute("BEGIN")
    try:
        await work()
    except BaseException:
        await conn.execute("ROLLBACK")
        raise
    await conn.execute("COMMIT")
