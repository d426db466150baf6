"""A message on its way to a target, and the per-target log of the latest ones."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from plantpulse.core.dt import from_timestamp, parse_datetime
from plantpulse.integrations.notify.const import UNFINISHED, DeliveryStatus


@dataclass(slots=True)
class UrlResult:
    """What happened on the last attempt at one of the target's URLs."""

    index: int
    service: str
    url: str  # with secrets masked
    ok: bool
    error: str | None = None


@dataclass(slots=True)
class Delivery:
    """One message to one target: its content, its attempts and how it ended.

    `pending` holds the indexes of the target's URLs that have not accepted it yet; a retry
    goes to those only, so a target with an e-mail and an SMS URL does not e-mail twice
    because the SMS gateway was down.
    """

    id: str
    target: str
    message: str
    title: str | None
    created: float
    pending: list[int]
    attachments: list[str] = field(default_factory=list)
    notify_type: str = "info"
    body_format: str | None = None
    status: DeliveryStatus = DeliveryStatus.QUEUED
    attempts: int = 0
    next_attempt: float | None = None
    finished: float | None = None
    error: str | None = None
    notes: list[str] = field(default_factory=list)
    results: list[UrlResult] = field(default_factory=list)
    context_id: str | None = None

    @property
    def unfinished(self) -> bool:
        """Still queued, sending or waiting for a retry."""
        return self.status in UNFINISHED

    def as_dict(self) -> dict[str, Any]:
        """Serialise for storage and the API: times as ISO 8601 in UTC."""
        data = asdict(self)
        data["status"] = str(self.status)
        for key in ("created", "next_attempt", "finished"):
            value = data[key]
            data[key] = None if value is None else from_timestamp(value).isoformat()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Delivery:
        """Read back what `as_dict` wrote."""
        values = dict(data)
        for key in ("created", "next_attempt", "finished"):
            value = values.get(key)
            values[key] = None if value is None else parse_datetime(value).timestamp()
        values["status"] = DeliveryStatus(values["status"])
        values["results"] = [UrlResult(**item) for item in values.get("results") or []]
        known = cls.__dataclass_fields__
        return cls(**{key: value for key, value in values.items() if key in known})


class DeliveryLog:
    """The last `size` deliveries of each target, newest last."""

    def __init__(self) -> None:
        self._by_target: dict[str, deque[Delivery]] = {}

    def add(self, delivery: Delivery, size: int) -> None:
        """Append a delivery; the oldest of its target drops out beyond `size`."""
        entries = self._by_target.get(delivery.target)
        if entries is None or entries.maxlen != size:
            entries = self._by_target[delivery.target] = deque(entries or (), maxlen=size)
        entries.append(delivery)

    def all(self) -> Iterable[Delivery]:
        """Every logged delivery, target by target."""
        for entries in self._by_target.values():
            yield from entries

    def latest(
        self, target: str | None = None, status: str | None = None, limit: int | None = None
    ) -> list[Delivery]:
        """Deliveries newest first, of one target or all, optionally of one status."""
        chosen = [
            delivery for delivery in self.all()
            if (target is None or delivery.target == target)
            and (status is None or delivery.status == status)
        ]
        chosen.sort(key=lambda delivery: delivery.created, reverse=True)
        return chosen if limit is None else chosen[:limit]
