"""The recorder's tables, as DDL per SQL dialect, and the schema version they make up.

Queries elsewhere are standard SQL that SQLite and PostgreSQL both run; only the DDL differs,
and it lives here. Times are integers: `ts_us` columns hold microseconds since the Unix epoch
(exact, so the same reading sent twice lands on the same key), `start_s` columns hold the
start of a statistics period in seconds.

Table by table:
- `states_meta`: entity id -> small integer, so each states row carries a number, not text.
- `state_attributes`: distinct attribute JSON blobs per entity, referenced by id and found by
  a CRC-32 `hash`.
- `states`: one row per recorded state, keyed by (entity, time). `last_changed_us` is NULL
  unless the state string changed before this row's time; the context columns are NULL unless
  the context carries a user or a parent. In SQLite it is a WITHOUT ROWID table: the key is
  the only index, and a reading re-sent for the same entity and time replaces the first.
- `event_types`, `event_data`, `events`: other events, their types and data de-duplicated.
- `statistics_meta`: one row per statistic (an entity with a state_class): its unit, class.
- `statistics_short_term` (5-minute periods) and `statistics` (hours): one row per statistic
  and period start. `mean`/`min`/`max` for measurements; for meters `sum` (consumption since
  the statistic began, across resets), `state` (last reading) and `meter_ref` (the reading
  the next consumption counts from: it stays put through a small dip, which is noise).
- `statistics_runs`: the start of every 5-minute period compiled, so a restart knows where to
  carry on. `statistics_recompile`: closed periods that received late data.
- `schema_version`: one row per version applied, with when.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Final

SCHEMA_VERSION: Final = 2


class Dialect(StrEnum):
    """SQL dialects the recorder has DDL for."""

    SQLITE = "sqlite"


_SQLITE: Final[dict[str, tuple[str, ...]]] = {
    "schema_version": (
        "CREATE TABLE schema_version (version INTEGER NOT NULL PRIMARY KEY, "
        "applied_us INTEGER NOT NULL)",
    ),
    "states_meta": (
        "CREATE TABLE states_meta (metadata_id INTEGER PRIMARY KEY, "
        "entity_id TEXT NOT NULL UNIQUE)",
    ),
    "state_attributes": (
        "CREATE TABLE state_attributes (attributes_id INTEGER PRIMARY KEY, "
        "metadata_id INTEGER NOT NULL, hash INTEGER NOT NULL, shared_attrs TEXT NOT NULL)",
        "CREATE INDEX ix_state_attributes_hash ON state_attributes (hash)",
    ),
    "states": (
        "CREATE TABLE states (metadata_id INTEGER NOT NULL, ts_us INTEGER NOT NULL, "
        "state TEXT, attributes_id INTEGER, last_changed_us INTEGER, context_id TEXT, "
        "context_user_id TEXT, context_parent_id TEXT, "
        "PRIMARY KEY (metadata_id, ts_us)) WITHOUT ROWID",
    ),
    "event_types": (
        "CREATE TABLE event_types (event_type_id INTEGER PRIMARY KEY, "
        "event_type TEXT NOT NULL UNIQUE)",
    ),
    "event_data": (
        "CREATE TABLE event_data (data_id INTEGER PRIMARY KEY, hash INTEGER NOT NULL, "
        "shared_data TEXT NOT NULL)",
        "CREATE INDEX ix_event_data_hash ON event_data (hash)",
    ),
    "events": (
        "CREATE TABLE events (event_id INTEGER PRIMARY KEY, event_type_id INTEGER NOT NULL, "
        "ts_us INTEGER NOT NULL, data_id INTEGER, origin_idx INTEGER NOT NULL, "
        "context_id TEXT, context_user_id TEXT, context_parent_id TEXT)",
        "CREATE INDEX ix_events_ts_us ON events (ts_us)",
        "CREATE INDEX ix_events_data_id ON events (data_id)",
    ),
    "statistics_meta": (
        "CREATE TABLE statistics_meta (id INTEGER PRIMARY KEY, statistic_id TEXT NOT NULL "
        "UNIQUE, source TEXT NOT NULL, unit_of_measurement TEXT, state_class TEXT NOT NULL, "
        "name TEXT)",
    ),
    "statistics_short_term": (
        "CREATE TABLE statistics_short_term (metadata_id INTEGER NOT NULL, "
        "start_s INTEGER NOT NULL, mean REAL, min REAL, max REAL, sum REAL, state REAL, "
        "meter_ref REAL, PRIMARY KEY (metadata_id, start_s)) WITHOUT ROWID",
    ),
    "statistics": (
        "CREATE TABLE statistics (metadata_id INTEGER NOT NULL, start_s INTEGER NOT NULL, "
        "mean REAL, min REAL, max REAL, sum REAL, state REAL, meter_ref REAL, "
        "PRIMARY KEY (metadata_id, start_s)) WITHOUT ROWID",
    ),
    "statistics_runs": ("CREATE TABLE statistics_runs (start_s INTEGER PRIMARY KEY)",),
    "statistics_recompile": ("CREATE TABLE statistics_recompile (start_s INTEGER PRIMARY KEY)",),
}

STATISTICS_TABLES: Final = (
    "statistics_meta", "statistics_short_term", "statistics", "statistics_runs",
    "statistics_recompile",
)

_DDL: Final = {Dialect.SQLITE: _SQLITE}


def table_statements(dialect: Dialect, tables: Iterable[str]) -> list[str]:
    """The statements that create `tables` (with their indexes) in `dialect`."""
    ddl = _DDL[dialect]
    return [statement for table in tables for statement in ddl[table]]


def create_statements(dialect: Dialect) -> list[str]:
    """Every statement that creates the current schema in an empty database."""
    return table_statements(dialect, _DDL[dialect])
