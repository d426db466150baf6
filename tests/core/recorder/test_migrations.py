"""Schema versions: an older database is migrated at start, a newer or foreign one refused."""

from __future__ import annotations

import hashlib
import sqlite3
import time
from pathlib import Path

from plantpulse.core.recorder.schema import SCHEMA_VERSION
from tests.conftest import HubFactory
from tests.core.recorder.conftest import RecorderHub, query

# The schema as PlantPulse first shipped it (version 1: states and events, no statistics).
SCHEMA_1 = (
    "CREATE TABLE schema_version (version INTEGER NOT NULL PRIMARY KEY, "
    "applied_us INTEGER NOT NULL)",
    "CREATE TABLE states_meta (metadata_id INTEGER PRIMARY KEY, entity_id TEXT NOT NULL UNIQUE)",
    "CREATE TABLE state_attributes (attributes_id INTEGER PRIMARY KEY, metadata_id INTEGER NOT "
    "NULL, hash INTEGER NOT NULL, shared_attrs TEXT NOT NULL)",
    "CREATE INDEX ix_state_attributes_hash ON state_attributes (hash)",
    "CREATE TABLE states (metadata_id INTEGER NOT NULL, ts_us INTEGER NOT NULL, state TEXT, "
    "attributes_id INTEGER, last_changed_us INTEGER, context_id TEXT, context_user_id TEXT, "
    "context_parent_id TEXT, PRIMARY KEY (metadata_id, ts_us)) WITHOUT ROWID",
    "CREATE TABLE event_types (event_type_id INTEGER PRIMARY KEY, event_type TEXT NOT NULL "
    "UNIQUE)",
    "CREATE TABLE event_data (data_id INTEGER PRIMARY KEY, hash INTEGER NOT NULL, shared_data "
    "TEXT NOT NULL)",
    "CREATE INDEX ix_event_data_hash ON event_data (hash)",
    "CREATE TABLE events (event_id INTEGER PRIMARY KEY, event_type_id INTEGER NOT NULL, ts_us "
    "INTEGER NOT NULL, data_id INTEGER, origin_idx INTEGER NOT NULL, context_id TEXT, "
    "context_user_id TEXT, context_parent_id TEXT)",
    "CREATE INDEX ix_events_ts_us ON events (ts_us)",
    "CREATE INDEX ix_events_data_id ON events (data_id)",
)


def make_database(path: Path, statements: tuple[str, ...], version: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    for statement in statements:
        conn.execute(statement)
    conn.execute("INSERT INTO schema_version VALUES (?, 0)", (version,))
    conn.commit()
    conn.close()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


async def test_version_1_database_is_migrated(recorder_hub: RecorderHub, tmp_path: Path) -> None:
    folder = tmp_path / "plant"
    database = folder / "plantpulse.db"
    make_database(database, SCHEMA_1, 1)
    conn = sqlite3.connect(database)
    conn.execute("INSERT INTO states_meta VALUES (1, 'sensor.old_meter')")
    an_hour_ago_us = round((time.time() - 3600) * 1_000_000)
    conn.execute("INSERT INTO states (metadata_id, ts_us, state) VALUES (1, ?, '42')",
                 (an_hour_ago_us,))
    conn.commit()
    conn.close()

    hub, rec = await recorder_hub(config_dir=folder)
    hub.states.async_set("sensor.old_meter", "43", {"state_class": "total_increasing"})
    await rec.async_flush()

    assert query(database, "SELECT version FROM schema_version ORDER BY version") == [
        (version,) for version in range(1, SCHEMA_VERSION + 1)
    ]
    assert query(database, "SELECT state FROM states ORDER BY ts_us") == [("42",), ("43",)]
    assert query(database, "SELECT statistic_id, state_class FROM statistics_meta") == [
        ("sensor.old_meter", "total_increasing")
    ]


async def test_newer_database_is_refused_and_left_alone(
    hub_factory: HubFactory, tmp_path: Path
) -> None:
    folder = tmp_path / "plant"
    database = folder / "plantpulse.db"
    make_database(database, SCHEMA_1[:1], SCHEMA_VERSION + 5)
    before = digest(database)

    hub = await hub_factory("recorder:\n", config_dir=folder)

    assert "recorder" not in hub.components
    message = next(item.message for item in hub.notifications.all()
                   if "recorder" in item.message)
    assert f"schema version {SCHEMA_VERSION + 5}, newer than this PlantPulse" in message
    assert "upgrade PlantPulse" in message
    assert digest(database) == before


async def test_damaged_file_is_refused_and_left_alone(
    hub_factory: HubFactory, tmp_path: Path
) -> None:
    folder = tmp_path / "plant"
    folder.mkdir()
    database = folder / "plantpulse.db"
    database.write_bytes(b"this is a spreadsheet, not a database" * 200)
    before = digest(database)

    hub = await hub_factory("recorder:\n", config_dir=folder)

    assert "recorder" not in hub.components
    assert any("not a SQLite database or is damaged" in item.message
               for item in hub.notifications.all())
    assert digest(database) == before


async def test_version_table_without_a_version_is_refused_and_left_alone(
    hub_factory: HubFactory, tmp_path: Path
) -> None:
    folder = tmp_path / "plant"
    database = folder / "plantpulse.db"
    make_database(database, SCHEMA_1, 1)
    conn = sqlite3.connect(database)
    conn.execute("DELETE FROM schema_version")
    conn.commit()
    conn.close()
    before = digest(database)

    hub = await hub_factory("recorder:\n", config_dir=folder)

    assert "recorder" not in hub.components
    message = next(item.message for item in hub.notifications.all()
                   if "recorder" in item.message)
    assert "has no valid schema version" in message
    assert "move it aside" in message
    assert digest(database) == before


async def test_database_that_cannot_be_created_says_what_to_do(
    hub_factory: HubFactory, tiny_tmpfs: Path
) -> None:
    hub = await hub_factory(f"recorder:\n  db_url: sqlite:///{tiny_tmpfs}/plantpulse.db\n")

    assert "recorder" not in hub.components
    message = next(item.message for item in hub.notifications.all()
                   if "recorder" in item.message)
    assert f"Cannot create the tables of the recorder database {tiny_tmpfs}" in message
    assert "Free disk space" in message
