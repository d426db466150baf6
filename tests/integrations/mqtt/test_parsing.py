"""Topic matching, JSON paths, source times and discovery key expansion (no broker needed)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
import voluptuous as vol
from hypothesis import given
from hypothesis import strategies as st

from plantpulse.integrations.mqtt.abbreviations import expand
from plantpulse.integrations.mqtt.discovery import parse_discovery_topic
from plantpulse.integrations.mqtt.payload import (
    PayloadError,
    extract,
    format_json_path,
    parse_json_path,
    to_datetime,
)
from plantpulse.integrations.mqtt.topic import (
    topic_matches,
    valid_publish_topic,
    valid_subscribe_topic,
)

LEVEL = st.text(st.characters(blacklist_characters="/+#\0", blacklist_categories=("Cs",)),
                min_size=1, max_size=6)
TOPIC = st.lists(LEVEL, min_size=1, max_size=6)
SHANGHAI = ZoneInfo("Asia/Shanghai")


@given(TOPIC, st.data())
def test_plus_and_hash_filters_match_the_topics_they_describe(levels, data) -> None:
    topic = "/".join(levels)
    plus = [level if not data.draw(st.booleans()) else "+" for level in levels]
    assert topic_matches("/".join(plus), topic) == (not topic.startswith("$") or plus[0] != "+")
    cut = data.draw(st.integers(0, len(levels)))
    hashed = "/".join([*levels[:cut], "#"])
    assert topic_matches(hashed, topic) == (not topic.startswith("$") or cut > 0)
    valid_subscribe_topic("/".join(plus))
    valid_subscribe_topic(hashed)


@given(TOPIC, st.integers(0, 5), LEVEL)
def test_a_different_level_or_length_does_not_match(levels, index, other) -> None:
    topic = "/".join(levels)
    index %= len(levels)
    changed = [*levels]
    changed[index] = other + "x" if other == levels[index] else other
    assert not topic_matches("/".join(changed), topic)
    assert not topic_matches(topic + "/+", topic)
    assert not topic_matches("/".join(["+"] * (len(levels) + 1)), topic)


def test_topic_examples_from_the_mqtt_standard() -> None:
    assert topic_matches("sport/tennis/player1/#", "sport/tennis/player1")
    assert topic_matches("sport/#", "sport")
    assert topic_matches("+/+", "/finance")
    assert not topic_matches("sport/+", "sport")
    assert not topic_matches("#", "$SYS/broker/load")
    assert topic_matches("$SYS/#", "$SYS/broker/load")
    for bad in ("sport/tennis#", "sport/#/ranking", "sport+", ""):
        with pytest.raises(vol.Invalid):
            valid_subscribe_topic(bad)
    with pytest.raises(vol.Invalid, match="wildcard"):
        valid_publish_topic("plant/+/cmd")


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                  max_size=3),
    max_leaves=8,
)


KEY = st.text(min_size=1, max_size=6).filter(lambda key: not ("'" in key and '"' in key))


@given(st.lists(st.integers(0, 3) | KEY, min_size=1, max_size=5), JSON)
def test_json_paths_find_what_is_at_them(path, leaf) -> None:
    document = leaf
    for step in reversed(path):
        document = [None] * step + [document] if isinstance(step, int) else {step: document}
    assert parse_json_path(format_json_path(path)) == tuple(path)
    assert extract(document, path) == leaf
    with pytest.raises(PayloadError, match="in the payload"):
        extract(document, [*path[:-1], 9] if isinstance(path[-1], str) else [*path[:-1], "x"])


def test_json_path_spellings() -> None:
    assert parse_json_path("$.data.meters[1]['total.kwh']") == ("data", "meters", 1, "total.kwh")
    assert parse_json_path('meters[-1]["Ua"]') == ("meters", -1, "Ua")
    for bad in ("", "$", "a[", "a[x]", "a..b"):
        with pytest.raises(ValueError, match="JSON path"):
            parse_json_path(bad)


@given(st.integers(946684800, 4102444800))
def test_epoch_seconds_and_milliseconds_give_the_same_time(seconds) -> None:
    moment = datetime.fromtimestamp(seconds, UTC)
    assert to_datetime(seconds, SHANGHAI) == moment
    assert to_datetime(seconds * 1000, SHANGHAI) == moment
    assert to_datetime(str(seconds), SHANGHAI) == moment
    assert to_datetime(moment.isoformat(), SHANGHAI) == moment


def test_times_without_an_offset_are_site_time() -> None:
    assert to_datetime("2026-03-02 17:00", SHANGHAI) == datetime(2026, 3, 2, 9, tzinfo=UTC)
    assert to_datetime("2026-03-02T09:00:00Z", SHANGHAI) == datetime(2026, 3, 2, 9, tzinfo=UTC)
    for bad in ("yesterday", True, None, float("nan"), 1e300, {"t": 1}):
        with pytest.raises(PayloadError):
            to_datetime(bad, SHANGHAI)


def test_discovery_topics_and_abbreviations() -> None:
    assert parse_discovery_topic("homeassistant", "homeassistant/sensor/gw/m1/config") == (
        "sensor", "gw m1")
    assert parse_discovery_topic("homeassistant", "homeassistant/sensor/m1/config") == (
        "sensor", "m1")
    for other in ("homeassistant/sensor/config", "homeassistant/sensor/m1/state",
                  "plant/sensor/m1/config", "homeassistant/sensor//config"):
        assert parse_discovery_topic("homeassistant", other) is None
    assert expand({
        "~": "gw/m1", "stat_t": "~/state", "json_attr_t": "attrs/~", "name": "~ stays",
        "avty": [{"t": "~/lwt", "pl_avail": "up"}],
        "dev": {"ids": "m1", "mf": "CHINT", "unknown_key": 1},
    }) == {
        "state_topic": "gw/m1/state", "json_attributes_topic": "attrs/gw/m1", "name": "~ stays",
        "availability": [{"topic": "gw/m1/lwt", "payload_available": "up"}],
        "device": {"identifiers": "m1", "manufacturer": "CHINT"},
    }
