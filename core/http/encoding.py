"""JSON encoding for the APIs: hub objects serialise through their `as_dict()`."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from typing import Any


def _default(value: Any) -> Any:
    if hasattr(value, "as_dict"):
        return value.as_dict()
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    raise TypeError(f"{type(value).__name__} cannot be sent as JSON")


def json_dumps(data: Any) -> str:
    """Serialise API data compactly: States, Events, Contexts and datetimes included."""
    return json.dumps(data, default=_default, ensure_ascii=False, separators=(",", ":"))
