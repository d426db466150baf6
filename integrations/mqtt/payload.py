"""Reading values out of MQTT payloads: JSON paths, value templates and source timestamps.

A JSON path names a value inside a JSON payload without a template: `power`,
`data.meters[0].kwh`, `$.data.power`, or `["key.with.dots"]` for keys that contain dots
(a key cannot hold both kinds of quotes).
A source time is epoch seconds, epoch milliseconds (numbers above 10^11) or ISO 8601 text;
ISO text without an offset is read in the site's time zone.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

from plantpulse.core.template import Template

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub

PathStep = str | int
_STEP_RE: Final = re.compile(
    r"""\.?(?P<name>[^.\[\]"']+)|\[(?P<index>-?\d+)\]|\[(?P<quote>["'])(?P<key>.*?)(?P=quote)\]""",
    re.DOTALL,
)
_PLAIN_KEY_RE: Final = re.compile(r"[\w-]+")
# Epoch numbers above this are milliseconds (10^11 s is the year 5138).
_MILLISECONDS_ABOVE: Final = 1e11
# What `decode_json` returns for a payload that is not JSON.
NOT_JSON: Final = object()


class PayloadError(ValueError):
    """A payload does not hold the value the configuration asks for."""


def parse_json_path(text: str) -> tuple[PathStep, ...]:
    """Split a JSON path into keys and list indexes; raises ValueError naming the problem."""
    source = text[1:] if text.startswith(("$.", "$[")) or text == "$" else text
    if not source:
        raise ValueError("a JSON path names at least one key, as in data.power")
    steps: list[PathStep] = []
    position = 0
    while position < len(source):
        match = _STEP_RE.match(source, position)
        if match is None or match.end() == position:
            raise ValueError(f"cannot read JSON path {text!r} at character {position + 1}: "
                             "write keys as a.b, list items as a[0], odd keys as [\"a.b\"]")
        if match.group("name") is not None:
            steps.append(match.group("name"))
        elif match.group("index") is not None:
            steps.append(int(match.group("index")))
        else:
            steps.append(match.group("key"))
        position = match.end()
    return tuple(steps)


def json_path(value: Any) -> tuple[PathStep, ...]:
    """Validator: a JSON path string."""
    if not isinstance(value, str):
        raise vol.Invalid("expected a JSON path such as data.power")
    try:
        return parse_json_path(value)
    except ValueError as err:
        raise vol.Invalid(str(err)) from None


def format_json_path(path: Sequence[PathStep]) -> str:
    """The path as written in messages."""
    text = ""
    for step in path:
        if isinstance(step, int):
            text += f"[{step}]"
        elif _PLAIN_KEY_RE.fullmatch(step):
            text += f".{step}" if text else step
        else:
            quote = "'" if "'" not in step else '"'
            text += f"[{quote}{step}{quote}]"
    return text


def extract(document: Any, path: Sequence[PathStep]) -> Any:
    """The value at `path` in decoded JSON; raises PayloadError when it is not there."""
    value = document
    for step in path:
        if isinstance(step, int):
            found = isinstance(value, list) and -len(value) <= step < len(value)
        else:
            found = isinstance(value, dict) and step in value
        if not found:
            raise PayloadError(f"no {format_json_path(path)} in the payload")
        value = value[step]
    return value


def decode_json(text: str) -> Any:
    """The decoded JSON payload, or NOT_JSON."""
    try:
        return json.loads(text)
    except ValueError:
        return NOT_JSON


def template_variables(text: str) -> dict[str, Any]:
    """What value templates see: `value` (the payload text) and `value_json` if it is JSON."""
    variables: dict[str, Any] = {"value": text}
    decoded = decode_json(text)
    if decoded is not NOT_JSON:
        variables["value_json"] = decoded
    return variables


class ValueReader:
    """Reads one value from a payload: whole, at a JSON path, or through a template."""

    __slots__ = ("path", "template")

    def __init__(
        self, template: Template | None = None, path: Sequence[PathStep] | None = None
    ) -> None:
        self.template = template
        self.path = tuple(path) if path else None

    @property
    def is_plain(self) -> bool:
        """Whether the value is the payload itself."""
        return self.template is None and self.path is None

    def read(self, hub: Hub, text: str, variables: dict[str, Any] | None = None) -> Any:
        """The value in `text`; raises PayloadError or TemplateError when it cannot be read.

        `variables` (from `template_variables(text)`) may be passed when several readers
        look at the same payload, so it is decoded once.
        """
        if self.path is not None:
            decoded = decode_json(text) if variables is None else variables.get(
                "value_json", NOT_JSON)
            if decoded is NOT_JSON:
                raise PayloadError("the payload is not JSON")
            return extract(decoded, self.path)
        if self.template is not None:
            return self.template.async_render(
                hub, variables if variables is not None else template_variables(text),
                parse_result=False,
            )
        return text


def to_datetime(value: Any, zone: tzinfo) -> datetime:
    """A source time from epoch seconds or milliseconds or ISO 8601 text; raises PayloadError."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=zone)
    if isinstance(value, str):
        text = value.strip()
        try:
            value = float(text)
        except ValueError:
            try:
                moment = datetime.fromisoformat(text)
            except ValueError:
                raise PayloadError(f"{text[:40]!r} is not a time (use ISO 8601 or epoch "
                                   "seconds)") from None
            return moment if moment.tzinfo else moment.replace(tzinfo=zone)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise PayloadError(f"{value!r} is not a time (use ISO 8601 or epoch seconds)")
    seconds = value / 1000 if abs(value) > _MILLISECONDS_ABOVE else value
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        raise PayloadError(f"{value!r} is out of range for a time") from None
