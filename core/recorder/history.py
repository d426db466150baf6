"""History queries on the read-only connection, shaped as Home Assistant's history APIs."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

import aiosqlite

from plantpulse.core.recorder.const import MICROSECONDS
from plantpulse.core.recorder.database import async_fetch_chunked

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub

EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
NO_END_US: Final = 2**62
ATTRIBUTE_CACHE_SIZE: Final = 8_192

# Per entity asked for, its last state before a time: the state in effect at that time.
CARRY_IN_SQL: Final = (
    "SELECT s.metadata_id, s.ts_us, s.state, s.attributes_id, s.last_changed_us "
    "FROM states_meta m JOIN states s ON s.metadata_id = m.metadata_id AND s.ts_us = "
    "(SELECT MAX(ts_us) FROM states WHERE metadata_id = m.metadata_id AND ts_us < ?) "
    "WHERE m.metadata_id IN ({})"
)
_RANGE_SQL: Final = (
    "SELECT metadata_id, ts_us, state, attributes_id, last_changed_us FROM states "
    "WHERE metadata_id IN ({}) AND ts_us >= ? AND ts_us < ? ORDER BY metadata_id, ts_us"
)
_ATTRIBUTES_SQL: Final = (
    "SELECT attributes_id, shared_attrs FROM state_attributes WHERE attributes_id IN ({})"
)

Row = tuple[int, int, str | None, int | None, int | None]
# (entity_id, state, attributes, last_changed_us, last_updated_us) -> a whole row.
FullRow = Callable[[str, str | None, dict[str, Any], int, int], dict[str, Any]]
# (state, last_changed_us) -> a minimal_response row.
ShortRow = Callable[[str | None, int], dict[str, Any]]


def datetime_to_us(moment: datetime) -> int:
    """Integer microseconds since the epoch; a naive datetime is taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - EPOCH) // timedelta(microseconds=1)


def us_to_iso(us: int) -> str:
    """ISO 8601 in UTC with offset, exact to the microsecond."""
    return (EPOCH + timedelta(microseconds=us)).isoformat()


def parse_blobs(rows: Iterable[tuple[int, str]]) -> dict[int, dict[str, Any]]:
    """Stored JSON blobs by id, parsed (blocking for many: run in an executor)."""
    return {blob_id: json.loads(text) for blob_id, text in rows}


class HistoryReader:
    """Answers history queries; keeps parsed attribute blobs in a small cache."""

    def __init__(self, hub: Hub, conn: aiosqlite.Connection) -> None:
        self._hub = hub
        self._conn = conn
        self._attributes: dict[int, dict[str, Any]] = {}

    async def async_entity_ids(self, entity_ids: Iterable[str] | None) -> dict[int, str]:
        """Map metadata ids to entity ids: those asked for that were ever recorded, or all."""
        if entity_ids is None:
            rows = await self._conn.execute_fetchall(
                "SELECT metadata_id, entity_id FROM states_meta"
            )
        else:
            rows = await async_fetch_chunked(
                self._conn, "SELECT metadata_id, entity_id FROM states_meta "
                "WHERE entity_id IN ({})", list(dict.fromkeys(entity_ids)),
            )
        return dict(rows)

    async def async_get_history(
        self,
        entity_ids: list[str] | None,
        start: datetime,
        end: datetime | None,
        *,
        minimal_response: bool,
        no_attributes: bool,
        significant_changes_only: bool,
        compact: bool,
    ) -> dict[str, list[dict[str, Any]]]:
        """See Recorder.async_get_history."""
        names = await self.async_entity_ids(entity_ids)
        if not names:
            return {}
        ids = sorted(names)
        start_us = datetime_to_us(start)
        end_us = NO_END_US if end is None else datetime_to_us(end)
        if end_us <= start_us:
            return {}
        carry = await async_fetch_chunked(self._conn, CARRY_IN_SQL, ids, before=(start_us,))
        rows = await async_fetch_chunked(self._conn, _RANGE_SQL, ids,
                                         after=(start_us, end_us))
        known: dict[int, dict[str, Any]] = {}
        blobs: list[tuple[int, str]] = []
        if not no_attributes:
            wanted = {row[3] for row in carry if row[3] is not None}
            if minimal_response:
                firsts: dict[int, int | None] = {}
                for row in rows:
                    firsts.setdefault(row[0], row[3])
                have_carry = {row[0] for row in carry}
                wanted.update(aid for mid, aid in firsts.items()
                              if mid not in have_carry and aid is not None)
            else:
                wanted.update(row[3] for row in rows if row[3] is not None)
            cache = self._attributes
            known = {aid: cache[aid] for aid in wanted if aid in cache}
            blobs = await async_fetch_chunked(
                self._conn, _ATTRIBUTES_SQL, sorted(wanted.difference(known))
            )
        result, parsed = await self._hub.async_add_executor_job(
            _shape, names, carry, rows, known, blobs, start_us, minimal_response,
            significant_changes_only, compact,
        )
        self._remember(parsed)
        return result

    def _remember(self, parsed: dict[int, dict[str, Any]]) -> None:
        cache = self._attributes
        for aid, attributes in parsed.items():
            if len(cache) >= ATTRIBUTE_CACHE_SIZE:
                del cache[next(iter(cache))]
            cache[aid] = attributes


def _iso_row(entity_id: str, state: str | None, attributes: dict[str, Any], changed_us: int,
             updated_us: int) -> dict[str, Any]:
    return {"entity_id": entity_id, "state": state, "attributes": attributes,
            "last_changed": us_to_iso(changed_us), "last_updated": us_to_iso(updated_us)}


def _iso_short_row(state: str | None, changed_us: int) -> dict[str, Any]:
    return {"state": state, "last_changed": us_to_iso(changed_us)}


def _compact_row(_entity_id: str, state: str | None, attributes: dict[str, Any],
                 changed_us: int, updated_us: int) -> dict[str, Any]:
    row: dict[str, Any] = {"s": state, "a": attributes, "lu": updated_us / MICROSECONDS}
    if changed_us != updated_us:
        row["lc"] = changed_us / MICROSECONDS
    return row


def _compact_short_row(state: str | None, changed_us: int) -> dict[str, Any]:
    return {"s": state, "lu": changed_us / MICROSECONDS}


def _shape(
    names: dict[int, str],
    carry: list[Row],
    rows: list[Row],
    known: dict[int, dict[str, Any]],
    blobs: list[tuple[int, str]],
    start_us: int,
    minimal: bool,
    significant_only: bool,
    compact: bool,
) -> tuple[dict[str, list[dict[str, Any]]], dict[int, dict[str, Any]]]:
    """Build the per-entity lists (runs in an executor: results can be large); also returns
    the attribute blobs it parsed, for the cache.

    `last_changed` is the stored one when the row has it, else the time of the row where the
    state last changed: measured states arrive late, so the live state's receive time would
    misplace them.
    """
    parsed = parse_blobs(blobs)
    attributes = {**known, **parsed}
    full: FullRow = _compact_row if compact else _iso_row
    short: ShortRow = _compact_short_row if compact else _iso_short_row
    by_entity: dict[int, list[Row]] = {row[0]: [row] for row in carry}
    for row in rows:
        by_entity.setdefault(row[0], []).append(row)
    result: dict[str, list[dict[str, Any]]] = {}
    for metadata_id in sorted(by_entity, key=lambda mid: names[mid]):
        entity_id = names[metadata_id]
        entity_rows = by_entity[metadata_id]
        _mid, first_us, first_state, first_attributes, first_changed_us = entity_rows[0]
        if first_us < start_us:
            changed_us = updated_us = start_us
        else:
            updated_us = first_us
            changed_us = updated_us if first_changed_us is None else first_changed_us
        out = [full(entity_id, first_state, _attributes_of(attributes, first_attributes),
                    changed_us, updated_us)]
        changed_us = first_us if first_changed_us is None else first_changed_us
        previous = first_state
        for _mid, ts_us, state, attributes_id, stored_changed_us in entity_rows[1:]:
            same = state == previous
            previous = state
            if minimal:
                if not same:
                    out.append(short(state, ts_us))
                continue
            if stored_changed_us is not None:
                changed_us = stored_changed_us
            elif not same:
                changed_us = ts_us
            if same and significant_only:
                continue
            out.append(full(entity_id, state, _attributes_of(attributes, attributes_id),
                            changed_us, ts_us))
        result[entity_id] = out
    return result, parsed


def _attributes_of(attributes: dict[int, dict[str, Any]], attributes_id: int | None
                   ) -> dict[str, Any]:
    return {} if attributes_id is None else attributes.get(attributes_id, {})
