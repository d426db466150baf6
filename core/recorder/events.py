"""Event queries on the read-only connection: recorded events of some types, in Home
Assistant's event shape (alarm history, audits of what happened)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

import aiosqlite

from plantpulse.core.recorder.database import async_fetch_chunked
from plantpulse.core.recorder.history import NO_END_US, datetime_to_us, us_to_iso
from plantpulse.core.recorder.writer import ORIGINS

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub

_EVENTS_SQL: Final = (
    "SELECT e.event_id, e.ts_us, t.event_type, d.shared_data, e.origin_idx, e.context_id, "
    "e.context_user_id, e.context_parent_id FROM events e "
    "JOIN event_types t ON t.event_type_id = e.event_type_id "
    "LEFT JOIN event_data d ON d.data_id = e.data_id "
    "WHERE t.event_type IN ({}) AND e.ts_us >= ? AND e.ts_us < ?"
)

EventRow = tuple[int, int, str, str | None, int, str | None, str | None, str | None]


class EventReader:
    """Answers event queries."""

    def __init__(self, hub: Hub, conn: aiosqlite.Connection) -> None:
        self._hub = hub
        self._conn = conn

    async def async_get_events(
        self,
        event_types: list[str],
        start: datetime,
        end: datetime | None,
        data_filter: Mapping[str, Any] | None,
    ) -> list[dict[str, Any]]:
        """See Recorder.async_get_events."""
        start_us = datetime_to_us(start)
        end_us = NO_END_US if end is None else datetime_to_us(end)
        if end_us <= start_us or not event_types:
            return []
        rows = await async_fetch_chunked(
            self._conn, _EVENTS_SQL, list(dict.fromkeys(event_types)), after=(start_us, end_us)
        )
        if not rows:
            return []
        return await self._hub.async_add_executor_job(_shape, rows, dict(data_filter or {}))


def _shape(rows: list[EventRow], data_filter: dict[str, Any]) -> list[dict[str, Any]]:
    """Parse the data blobs, keep the events whose data match `data_filter`, in time order
    (runs in an executor: the blobs are JSON text)."""
    result = []
    for (_event_id, ts_us, event_type, text, origin_idx, context_id, user_id,
         parent_id) in sorted(rows, key=lambda row: (row[1], row[0])):
        data = {} if text is None else json.loads(text)
        if any(data.get(key) != value for key, value in data_filter.items()):
            continue
        result.append({
            "event_type": event_type,
            "data": data,
            "origin": str(ORIGINS[origin_idx]),
            "time_fired": us_to_iso(ts_us),
            "context": {"id": context_id, "parent_id": parent_id, "user_id": user_id},
        })
    return result
