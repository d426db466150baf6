"""MQTT topic names and filters: validation and wildcard matching (MQTT 3.1.1 §4.7)."""

from __future__ import annotations

from typing import Any

import voluptuous as vol

from plantpulse.core.config import validation as cv

_MAX_TOPIC_BYTES = 65535


def _check_common(topic: str, what: str) -> None:
    if not topic:
        raise vol.Invalid(f"an MQTT {what} cannot be empty")
    if "\0" in topic:
        raise vol.Invalid(f"an MQTT {what} cannot contain a NUL character")
    if len(topic.encode("utf-8")) > _MAX_TOPIC_BYTES:
        raise vol.Invalid(f"an MQTT {what} is at most {_MAX_TOPIC_BYTES} bytes")


def valid_publish_topic(value: Any) -> str:
    """A topic to publish to: no `+` or `#` wildcards."""
    topic = cv.string(value)
    _check_common(topic, "topic")
    if "+" in topic or "#" in topic:
        raise vol.Invalid(f"topic {topic!r} contains a wildcard (+ or #); publish to a full "
                          "topic such as plant/line1/power")
    return topic


def valid_subscribe_topic(value: Any) -> str:
    """A topic filter: `+` stands for one whole level, `#` for the rest (last level only)."""
    topic = cv.string(value)
    _check_common(topic, "topic filter")
    levels = topic.split("/")
    for index, level in enumerate(levels):
        if "#" in level and (level != "#" or index != len(levels) - 1):
            raise vol.Invalid(f"topic filter {topic!r}: '#' must be a whole level and the "
                              "last one, as in plant/#")
        if "+" in level and level != "+":
            raise vol.Invalid(f"topic filter {topic!r}: '+' must be a whole level, as in "
                              "plant/+/power")
    return topic


def has_wildcard(topic_filter: str) -> bool:
    """Whether a filter matches more than one topic."""
    return "+" in topic_filter or "#" in topic_filter


def topic_matches(topic_filter: str, topic: str) -> bool:
    """Whether `topic` matches `topic_filter`.

    Wildcards in the first level do not match topics starting with `$` (`$SYS/...`).
    """
    if topic_filter == topic:
        return True
    if topic.startswith("$") and topic_filter[:1] in ("+", "#"):
        return False
    filter_levels = topic_filter.split("/")
    topic_levels = topic.split("/")
    for index, level in enumerate(filter_levels):
        if level == "#":
            return True
        if index >= len(topic_levels):
            return False
        if level != "+" and level != topic_levels[index]:
            return False
    return len(filter_levels) == len(topic_levels)
