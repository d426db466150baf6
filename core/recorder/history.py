"""History queries on the read-only connection, shaped as Home Assistant's history API."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

import aiosqlite

from plantpulse.core.recorder.const import IN_CHUNK

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub

EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
NO_END_US: Final = 2**62
ATTRIBUTE_CACHE_SIZE: Final = 8_192

_CARRY_IN_SQL: Final = (
    "SELECT s.metadata_id, s.ts_us, s.state, s.attributes_id, s.last_changed_us "
    "FROM states_meta m JOIN states s ON s.metadata_id = m.metadata_id AND s.ts_us = "
    "(SELECT MAX(ts_us) FROM states WHERE metadata_id = m.metadata_id AND ts_us < ?) "
    "WHERE m.metadata_id IN ({})"
)
_RANGE_SQL: Final = (
    "SELECT metadata_id, ts_us, state, attributes_id, last_changed_us FROM states "
    "WHERE metadata_id IN ({}) AND ts_us >= ? AND ts_us < ? ORDER BY metadata_id, ts_us"
)

Row = tuple[int, int, str | None, int | None, int | None]


def datetime_to_us(moment: datetime) -> int:
    """Integer microseconds since the epoch; a naive datetime is taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - EPOCH) // timedelta(microseconds=1)


def us_to_iso(us: int) -> str:
    """ISO 8601 in UTC with offset, exact to the microsecond."""
    return (EPOCH + timedelta(microseconds=us)).isoformat()


async def async_fetch_chunked(
    conn: aiosqlite.Connection, sql: str, ids: Sequence[int], before: Sequence[Any] = (),
    after: Sequence[Any] = (),
) -> list[Any]:
    """Run `sql` (with one `IN ({})`) over `ids` in chunks; parameters around the list."""
    rows: list[Any] = []
    for offset in range(0, len(ids), IN_CHUNK):
        chunk = list(ids[offset:offset + IN_CHUNK])
        rows.extend(await conn.execute_fetchall(
            sql.format(", ".join("?" * len(chunk))), [*before, *chunk, *after]
        ))
    return rows


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
            wanted = list(dict.fromkeys(entity_ids))
            rows = []
            for offset in range(0, len(wanted), IN_CHUNK):
                chunk = wanted[offset:offset + IN_CHUNK]
                rows.extend(await self._conn.execute_fetchall(
                    "SELECT metadata_id, entity_id FROM states_meta WHERE entity_id IN "
                    f"({', '.join('?' * len(chunk))})", chunk,
                ))
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
        carry = await async_fetch_chunked(self._conn, _CARRY_IN_SQL, ids, before=(start_us,))
        rows = await async_fetch_chunked(self._conn, _RANGE_SQL, ids,
                                         after=(start_us, end_us))
        attributes: dict[int, dict[str, Any]] = {}
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
            attributes = await self._async_attributes(wanted)
        return await self._hub.async_add_executor_job(
            _shape, names, carry, rows, attributes, start_us, minimal_response,
            significant_changes_only,
        )

    async def _async_attributes(self, wanted: set[int]) -> dict[int, dict[str, Any]]:
        cache = self._attributes
        missing = sorted(aid for aid in wanted if aid not in cache)
        for aid, text in await async_fetch_chunked(
            self._conn, "SELECT attributes_id, shared_attrs FROM state_attributes "
            "WHERE attributes_id IN ({})", missing,
        ):
            if len(cache) >= ATTRIBUTE_CACHE_SIZE:
                del cache[next(iter(cache))]
            cache[aid] = json.loads(text)
        return {aid: cache[aid] for aid in wanted if aid in cache}


def _shape(
    names: dict[int, str],
    carry: list[Row],
    rows: list[Row],
    attributes: dict[int, dict[str, Any]],
    start_us: int,
    minimal: bool,
    significant_only: bool,
) -> dict[str, list[dict[str, Any]]]:
    """Build the per-entity lists (runs in an executor: results can be large).

    `last_changed` is the stored one when the row has it, else the time of the row where the
    state last changed: measured states arrive late, so the live state's receive time would
    misplace them.
    """
    by_entity: dict[int, list[Row]] = {row[0]: [row] for row in carry}
    for row in rows:
        by_entity.setdefault(row[0], []).append(row)
    start_iso = us_to_iso(start_us)
    result: dict[str, list[dict[str, Any]]] = {}
    for metadata_id in sorted(by_entity, key=lambda mid: names[mid]):
        entity_id = names[metadata_id]
        entity_rows = by_entity[metadata_id]
        first = entity_rows[0]
        if first[1] < start_us:
            changed = updated = start_iso
        else:
            updated = us_to_iso(first[1])
            changed = updated if first[4] is None else us_to_iso(first[4])
        out = [{
            "entity_id": entity_id,
            "state": first[2],
            "attributes": attributes.get(first[3], {}) if first[3] is not None else {},
            "last_changed": changed,
            "last_updated": updated,
        }]
        changed = us_to_iso(first[1] if first[4] is None else first[4])
        previous = first[2]
        for _mid, ts_us, state, attributes_id, changed_us in entity_rows[1:]:
            same = state == previous
            previous = state
            if minimal:
                if not same:
                    out.append({"state": state, "last_changed": us_to_iso(ts_us)})
                continue
            updated = us_to_iso(ts_us)
            if changed_us is not None:
                changed = us_to_iso(changed_us)
            elif not same:
                changed = updated
            if same and significant_only:
                continue
            out.append({
                "entity_id": entity_id,
                "state": state,
                "attributes": attributes.get(attributes_id, {})
                if attributes_id is not None else {},
                "last_changed": changed,
                "last_updated": updated,
            })
        result[entity_id] = out
    return result
