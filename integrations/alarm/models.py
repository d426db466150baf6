"""An alarm: one activation of a key, from raised to cleared, and how its fields are checked."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import voluptuous as vol

from plantpulse.core.config import validation as cv
from plantpulse.core.dt import from_timestamp, parse_datetime
from plantpulse.core.jsonenc import json_dumps
from plantpulse.integrations.alarm.const import (
    LANGUAGES,
    MAX_DATA_BYTES,
    MAX_KEY_LENGTH,
    MAX_MESSAGE_LENGTH,
    AlarmState,
    Severity,
)

_LANGUAGE_KEYS = {"zh-cn": "zh-CN", "zh": "zh-CN", "zh_cn": "zh-CN", "en": "en", "en-us": "en",
                  "en-gb": "en", "en_us": "en"}


def alarm_key(value: Any) -> str:
    """An alarm key: the text that identifies what is wrong (`pump_1_overload`)."""
    key = cv.string(value).strip()
    if not key or len(key) > MAX_KEY_LENGTH:
        raise vol.Invalid(f"an alarm key is 1 to {MAX_KEY_LENGTH} characters")
    return key


def messages(value: Any) -> dict[str, str]:
    """A message in both languages from a string (used for both) or `{zh-CN: .., en: ..}`;
    a language left out takes the other's text."""
    if isinstance(value, Mapping):
        texts: dict[str, str] = {}
        for language, text in value.items():
            name = _LANGUAGE_KEYS.get(str(language).lower())
            if name is None:
                raise vol.Invalid(f"unknown message language {language!r}: use zh-CN or en")
            texts[name] = _text(text)
        if not texts:
            raise vol.Invalid("the message needs a text in zh-CN or en")
    else:
        text = _text(value)
        texts = dict.fromkeys(LANGUAGES, text)
    return {language: texts.get(language) or next(iter(texts.values()))
            for language in LANGUAGES}


def _text(value: Any) -> str:
    text = cv.string(value).strip()
    if not text or len(text) > MAX_MESSAGE_LENGTH:
        raise vol.Invalid(f"an alarm message is 1 to {MAX_MESSAGE_LENGTH} characters")
    return text


def extra_data(value: Any) -> dict[str, Any]:
    """Extra facts of an alarm (a measured value, a camera zone): a small JSON object."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise vol.Invalid("alarm data must be a mapping")
    try:
        size = len(json_dumps(dict(value)).encode())
    except (TypeError, ValueError) as err:
        raise vol.Invalid(f"alarm data must be plain JSON: {err}") from None
    if size > MAX_DATA_BYTES:
        raise vol.Invalid(f"alarm data is {size} bytes; at most {MAX_DATA_BYTES} are kept "
                          "(put large things in a file and name its path)")
    return dict(value)


@dataclass(slots=True)
class Alarm:
    """One activation of an alarm key: raised (perhaps many times), acknowledged, cleared.

    Times are POSIX timestamps of the hub clock. `id` names the activation, so the history
    can tell a key's activations apart; `count` is how often it was raised while active.
    """

    id: str
    key: str
    severity: Severity
    messages: dict[str, str]
    raised_at: float
    source: str | None = None
    snapshot: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    last_raised_at: float = 0.0
    count: int = 1
    acknowledged_at: float | None = None
    acknowledged_by: str | None = None
    note: str | None = None
    cleared_at: float | None = None
    cleared_by: str | None = None
    entity_id: str | None = None
    escalations_sent: int = 0

    @property
    def state(self) -> AlarmState:
        """active, acknowledged or cleared."""
        if self.cleared_at is not None:
            return AlarmState.CLEARED
        if self.acknowledged_at is not None:
            return AlarmState.ACKNOWLEDGED
        return AlarmState.ACTIVE

    def message(self, language: str) -> str:
        """The message in `language` (zh-CN or en)."""
        return self.messages.get(language) or self.messages[LANGUAGES[0]]

    def as_dict(self, language: str, flapping: bool = False) -> dict[str, Any]:
        """Every field, for events, the API and the entity: `message` in the site's
        language, `messages` in both, times ISO 8601 in UTC."""
        return {
            "id": self.id,
            "key": self.key,
            "state": str(self.state),
            "severity": str(self.severity),
            "message": self.message(language),
            "messages": dict(self.messages),
            "source": self.source,
            "snapshot": self.snapshot,
            "data": dict(self.data),
            "raised_at": _iso(self.raised_at),
            "last_raised_at": _iso(self.last_raised_at),
            "count": self.count,
            "acknowledged_at": _iso(self.acknowledged_at),
            "acknowledged_by": self.acknowledged_by,
            "note": self.note,
            "cleared_at": _iso(self.cleared_at),
            "cleared_by": self.cleared_by,
            "entity_id": self.entity_id,
            "flapping": flapping,
        }

    def stored(self) -> dict[str, Any]:
        """What `.storage` keeps to restore the alarm after a restart."""
        data = self.as_dict(LANGUAGES[0])
        data["escalations_sent"] = self.escalations_sent
        return data

    @classmethod
    def from_stored(cls, data: Mapping[str, Any]) -> Alarm:
        """Read back what `stored` wrote."""
        return cls(
            id=data["id"], key=data["key"], severity=Severity(data["severity"]),
            messages=dict(data["messages"]), raised_at=_timestamp(data["raised_at"]) or 0.0,
            source=data.get("source"), snapshot=data.get("snapshot"),
            data=dict(data.get("data") or {}),
            last_raised_at=_timestamp(data.get("last_raised_at")) or 0.0,
            count=int(data.get("count", 1)),
            acknowledged_at=_timestamp(data.get("acknowledged_at")),
            acknowledged_by=data.get("acknowledged_by"), note=data.get("note"),
            cleared_at=_timestamp(data.get("cleared_at")), cleared_by=data.get("cleared_by"),
            entity_id=data.get("entity_id"),
            escalations_sent=int(data.get("escalations_sent", 0)),
        )


def _iso(timestamp: float | None) -> str | None:
    return None if timestamp is None else from_timestamp(timestamp).isoformat()


def _timestamp(text: str | None) -> float | None:
    return None if text is None else parse_datetime(text).timestamp()
