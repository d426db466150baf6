"""Opening the recorder's SQLite database: one writer connection, one reader, WAL mode.

Durability: `journal_mode=WAL` with `synchronous=NORMAL`. A commit appends to the WAL file
before it returns, so a killed process (`kill -9`, a crash) loses nothing committed; only
a power cut or kernel crash may lose the last commits since the WAL was last synced (at each
checkpoint), and the database stays consistent even then. `synchronous=FULL` would sync on
every commit, costing a disk flush per second for that last bit of safety.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import urllib.parse
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, Final

import aiosqlite

from plantpulse.core.exceptions import PlantPulseError
from plantpulse.core.recorder.const import IN_CHUNK

_LOGGER = logging.getLogger(__name__)

WRITER_PRAGMAS: Final = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA busy_timeout=10000",
    "PRAGMA cache_size=-16384",
)
READER_PRAGMAS: Final = (
    "PRAGMA busy_timeout=10000",
    "PRAGMA cache_size=-16384",
    "PRAGMA query_only=ON",
)


class RecorderDatabaseError(PlantPulseError):
    """The recorder's database cannot be used as it is; the message says what to do."""


async def async_open_writer(path: Path) -> aiosqlite.Connection:
    """Open (creating if needed) the database for writing; transactions are explicit.

    Nothing is changed in the file yet: call `async_configure_writer` once the schema
    version has been found acceptable. Raises RecorderDatabaseError.
    """
    try:
        await asyncio.to_thread(path.parent.mkdir, parents=True, exist_ok=True)
    except OSError as err:
        raise RecorderDatabaseError(
            f"Cannot create the folder of the recorder database {path}: {err.strerror}. "
            "Check db_url under recorder: and the folder's permissions."
        ) from err
    return await _async_connect(path, str(path), uri=False)


async def async_configure_writer(conn: aiosqlite.Connection, path: Path) -> None:
    """Switch to WAL mode and set the writer's pragmas. Raises RecorderDatabaseError."""
    try:
        for pragma in WRITER_PRAGMAS:
            await conn.execute(pragma)
    except sqlite3.Error as err:
        raise _describe(path, err) from err


async def async_open_reader(path: Path) -> aiosqlite.Connection:
    """Open the database (an absolute path) read-only, for queries that must not wait."""
    uri = f"file:{urllib.parse.quote(str(path))}?mode=ro"
    conn = await _async_connect(path, uri, uri=True)
    try:
        for pragma in READER_PRAGMAS:
            await conn.execute(pragma)
    except sqlite3.Error as err:
        await conn.close()
        raise _describe(path, err) from err
    return conn


async def _async_connect(path: Path, target: str, uri: bool) -> aiosqlite.Connection:
    try:
        return await aiosqlite.connect(target, uri=uri, isolation_level=None)
    except sqlite3.Error as err:
        raise _describe(path, err) from err


def _describe(path: Path, err: sqlite3.Error) -> RecorderDatabaseError:
    text = str(err)
    if isinstance(err, sqlite3.DatabaseError) and "not a database" in text:
        return RecorderDatabaseError(
            f"The recorder database {path} is not a SQLite database or is damaged. It was "
            "left as it is: move it aside (or restore a backup) and start again to begin a "
            "new one."
        )
    if "readonly" in text or "unable to open" in text:
        return RecorderDatabaseError(
            f"Cannot open the recorder database {path} for writing ({text}). Make the file "
            "and its folder writable, or point db_url under recorder: elsewhere."
        )
    return RecorderDatabaseError(f"Cannot use the recorder database {path}: {text}")


async def async_table_names(conn: aiosqlite.Connection, path: Path) -> set[str]:
    """The tables in the database (SQLite's catalogue). Raises RecorderDatabaseError."""
    try:
        rows = await conn.execute_fetchall(
            "SELECT name FROM sqlite_master WHERE type = 'table'"
        )
    except sqlite3.Error as err:
        raise _describe(path, err) from err
    return {row[0] for row in rows}


async def async_in_transaction(
    conn: aiosqlite.Connection, work: Callable[[], Awaitable[Any]]
) -> None:
    """Run `work()` inside BEGIN ... COMMIT, rolling back when it raises."""
    await conn.execute("BEGIN")
    try:
        await work()
    except BaseException:
        if conn.in_transaction:
            await conn.execute("ROLLBACK")
        raise
    await conn.execute("COMMIT")


async def async_fetch_chunked(
    conn: aiosqlite.Connection, sql: str, values: Sequence[Any], before: Sequence[Any] = (),
    after: Sequence[Any] = (),
) -> list[Any]:
    """Rows of `sql`, whose one `IN ({})` is filled with `values` IN_CHUNK at a time.

    `before` and `after` are the statement's parameters around the list.
    """
    rows: list[Any] = []
    for offset in range(0, len(values), IN_CHUNK):
        chunk = list(values[offset:offset + IN_CHUNK])
        rows.extend(await conn.execute_fetchall(
            sql.format(", ".join("?" * len(chunk))), [*before, *chunk, *after]
        ))
    return rows
