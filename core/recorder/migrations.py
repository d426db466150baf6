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

from plantpulse.core.recorder.database import (
    RecorderDatabaseError,
    async_in_transaction,
    async_table_names,
)
from plantpulse.core.recorder.schema import (
    SCHEMA_VERSION,
    STATISTICS_TABLES,
    Dialect,
    create_statements,
    table_statements,
)

_LOGGER = logging.getLogger(__name__)

Migration = Callable[[aiosqlite.Connection, Dialect], Awaitable[None]]


async def _add_statistics(conn: aiosqlite.Connection, dialect: Dialect) -> None:
    """Schema 2: statistics tables (5-minute and hourly rows, their metadata and runs)."""
    for statement in table_statements(dialect, STATISTICS_TABLES):
        await conn.execute(statement)


MIGRATIONS: Final[dict[int, Migration]] = {1: _add_statistics}


async def async_schema_version(conn: aiosqlite.Connection, path: Path) -> int | None:
    """The database's schema version (None when empty), without changing anything.

    Raises RecorderDatabaseError for a database of a newer version or a foreign one.
    """
    tables = await async_table_names(conn, path)
    if not tables:
        return None
    if "schema_version" not in tables:
        raise RecorderDatabaseError(
            f"{path} holds tables but is not a PlantPulse recorder database. It was left as it "
            "is: point db_url under recorder: at another file."
        )
    try:
        rows = await conn.execute_fetchall("SELECT MAX(version) FROM schema_version")
    except sqlite3.Error as err:
        raise RecorderDatabaseError(
            f"Cannot read the schema version of the recorder database {path} ({err}). It was "
            "left as it is: move it aside (or restore a backup) and start again to begin a "
            "new one."
        ) from err
    version = rows[0][0]
    if not isinstance(version, int) or version < 1:
        raise RecorderDatabaseError(
            f"The recorder database {path} has no valid schema version (its schema_version "
            "table is empty or damaged), so it cannot be migrated safely. It was left as it "
            "is: move it aside (or restore a backup) and start again to begin a new one."
        )
    if version > SCHEMA_VERSION:
        raise RecorderDatabaseError(
            f"The recorder database {path} has schema version {version}, newer than this "
            f"PlantPulse understands ({SCHEMA_VERSION}): it was written by a newer PlantPulse. "
            "It was left as it is: upgrade PlantPulse, or restore a backup made with this "
            "version."
        )
    return version


async def async_prepare_schema(
    conn: aiosqlite.Connection, path: Path, version: int | None,
    dialect: Dialect = Dialect.SQLITE,
) -> None:
    """Create the schema in an empty database or migrate one at `version` to SCHEMA_VERSION.

    Raises RecorderDatabaseError when a migration fails (the database keeps its version).
    """
    if version is None:
        try:
            await async_in_transaction(conn, lambda: _async_create(conn, dialect))
        except sqlite3.Error as err:
            raise RecorderDatabaseError(
                f"Cannot create the tables of the recorder database {path} ({err}). Free disk "
                "space or make the folder writable (or point db_url under recorder: "
                "elsewhere), then start again."
            ) from err
        _LOGGER.info("Created the recorder database %s (schema %s)", path, SCHEMA_VERSION)
        return
    if version < SCHEMA_VERSION:
        try:
            await async_in_transaction(
                conn, lambda: _async_migrate(conn, dialect, version, path)
            )
        except sqlite3.Error as err:
            raise RecorderDatabaseError(
                f"Migrating the recorder database {path} from schema {version} failed ({err}). "
                f"It was left at schema {version}; free disk space or restore a backup, then "
                "start again."
            ) from err


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
