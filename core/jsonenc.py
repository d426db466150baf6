"""JSON encoding shared by the APIs and the recorder: hub objects, times, strictly finite."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from enum import Enum
from typing import Any


def _default(value: Any) -> Any:
    if hasattr(value, "as_dict"):
        return value.as_dict()
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    raise TypeError(f"{type(value).__module__}.{type(value).__name__} cannot be stored as JSON")


def json_dumps(data: Any) -> str:
    """Compact JSON with States, Events, Contexts, datetimes, enums and sets included.

    Raises TypeError for other objects and ValueError for NaN or infinity, which browsers'
    JSON.parse refuses: callers check data where it enters the hub, not where it leaves.
    """
    return json.dumps(data, default=_default, ensure_ascii=False, separators=(",", ":"),
                      allow_nan=False)
