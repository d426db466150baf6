"""Recording states and events into SQLite: rows, de-duplication, filters, contexts, config."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest

from plantpulse.core.events import Context
from plantpulse.core.hub import Hub
from plantpulse.core.recorder import CONFIG_SCHEMA, async_setup, get_recorder
from plantpulse.core.recorder.filters import EntityFilter
from tests.conftest import HubFactory
from tests.core.recorder.conftest import POWER_ATTRIBUTES, RecorderHub, query


async def test_states_and_events_are_recorded(recorder_hub: RecorderHub) -> None:
    hub, rec = await recorder_hub()
    hub.states.async_set("sensor.line_power", "12.5", POWER_ATTRIBUTES)
    hub.states.async_set("sensor.line_power", "13.0", POWER_ATTRIBUTES)
    hub.bus.async_fire("shift_started", {"shift": "night", "team": 3})
    await rec.async_flush()

    rows = query(rec.db_path, "SELECT m.entity_id, s.state FROM states s JOIN states_meta m "
                 "ON m.metadata_id = s.metadata_id ORDER BY s.ts_us")
    assert rows == [("sensor.line_power", "12.5"), ("sensor.line_power", "13.0")]
    events = query(rec.db_path, "SELECT t.event_type, d.shared_data FROM events e "
                   "JOIN event_types t ON t.event_type_id = e.event_type_id "
                   "JOIN event_data d ON d.data_id = e.data_id WHERE t.event_type = ?",
                   ("shift_started",))
    assert events == [("shift_started", '{"shift":"night","team":3}')]
    assert query(rec.db_path, "SELECT COUNT(*) FROM event_types WHERE event_type = ?",
                 ("state_changed",)) == [(0,)]
    assert query(rec.db_path, "PRAGMA journal_mode") == [("wal",)]


async def test_commit_interval_commits_without_flush(recorder_hub: RecorderHub) -> None:
    hub, rec = await recorder_hub("commit_interval: 0.05")
    hub.states.async_set("sensor.a", "1")
    for _ in range(100):
        await asyncio.sleep(0.02)
        if query(rec.db_path, "SELECT COUNT(*) FROM states") == [(1,)]:
            break
    assert query(rec.db_path, "SELECT state FROM states") == [("1",)]


async def test_attributes_are_stored_once(recorder_hub: RecorderHub) -> None:
    hub, rec = await recorder_hub()
    warm = {"unit_of_measurement": "°C", "friendly_name": "炉温"}
    for value in range(50):
        hub.states.async_set("sensor.furnace", str(value), warm)
    hub.states.async_set("sensor.furnace", "60", {**warm, "alarm": True})
    hub.states.async_set("sensor.furnace", "61", dict(warm))
    await rec.async_flush()

    blobs = query(rec.db_path, "SELECT shared_attrs FROM state_attributes ORDER BY 1")
    assert blobs == [('{"unit_of_measurement":"°C","friendly_name":"炉温","alarm":true}',),
                     ('{"unit_of_measurement":"°C","friendly_name":"炉温"}',)]
    per_state = query(rec.db_path, "SELECT COUNT(DISTINCT attributes_id), COUNT(*) FROM states")
    assert per_state == [(2, 52)]


async def test_attributes_found_again_after_restart(
    recorder_hub: RecorderHub, tmp_path
) -> None:
    folder = tmp_path / "plant"
    hub, rec = await recorder_hub(config_dir=folder)
    hub.states.async_set("sensor.a", "1", {"unit_of_measurement": "kW"})
    await hub.async_stop()
    hub, rec = await recorder_hub(config_dir=folder)
    hub.states.async_set("sensor.a", "2", {"unit_of_measurement": "kW"})
    await rec.async_flush()
    assert query(rec.db_path, "SELECT COUNT(*) FROM state_attributes") == [(1,)]
    assert query(rec.db_path, "SELECT COUNT(*) FROM states") == [(2,)]


async def test_include_and_exclude(recorder_hub: RecorderHub) -> None:
    hub, rec = await recorder_hub("""
        include:
          domains: [sensor, switch]
          entities: light.kept_anyway
        exclude:
          entity_globs: ["sensor.debug_*"]
          entities: [switch.noisy]
          event_types: [heartbeat]
        """)
    for entity_id in ("sensor.line_power", "sensor.debug_counter", "switch.pump",
                      "switch.noisy", "light.hall", "light.kept_anyway"):
        hub.states.async_set(entity_id, "on")
    hub.bus.async_fire("heartbeat")
    hub.bus.async_fire("shift_started")
    await rec.async_flush()

    recorded = query(rec.db_path, "SELECT m.entity_id FROM states s JOIN states_meta m "
                     "ON m.metadata_id = s.metadata_id ORDER BY 1")
    assert recorded == [("light.kept_anyway",), ("sensor.line_power",), ("switch.pump",)]
    types = {row[0] for row in query(rec.db_path, "SELECT event_type FROM event_types")}
    assert "shift_started" in types
    assert "heartbeat" not in types


async def test_context_is_stored_only_with_user_or_parent(recorder_hub: RecorderHub) -> None:
    hub, rec = await recorder_hub()
    hub.states.async_set("switch.pump", "on")
    by_user = Context(user_id="u-operator")
    hub.states.async_set("switch.pump", "off", context=by_user)
    caused = Context(parent_id="01HPARENT")
    hub.states.async_set("switch.pump", "on", context=caused)
    await rec.async_flush()

    rows = query(rec.db_path, "SELECT state, context_id, context_user_id, context_parent_id "
                 "FROM states ORDER BY ts_us")
    assert rows == [
        ("on", None, None, None),
        ("off", by_user.id, "u-operator", None),
        ("on", caused.id, None, "01HPARENT"),
    ]


async def test_measured_time_is_the_row_time(recorder_hub: RecorderHub) -> None:
    hub, rec = await recorder_hub()
    measured = datetime.now(UTC) - timedelta(minutes=3)
    hub.states.async_set("sensor.gateway_meter", "100.0", measured_at=measured)
    hub.states.async_set("sensor.gateway_meter", "99.0",
                         measured_at=measured - timedelta(minutes=1))
    await rec.async_flush()

    rows = query(rec.db_path, "SELECT state, ts_us FROM states ORDER BY ts_us")
    expected_us = round(measured.timestamp() * 1_000_000)
    assert rows == [("99.0", expected_us - 60_000_000), ("100.0", expected_us)]


async def test_same_entity_and_time_is_replaced(recorder_hub: RecorderHub) -> None:
    hub, rec = await recorder_hub()
    reading_time = datetime.now(UTC) - timedelta(hours=1)
    hub.states.async_set("sensor.buffered", "5.0", measured_at=reading_time + timedelta(minutes=1))
    hub.states.async_set("sensor.buffered", "4.0", measured_at=reading_time)
    hub.states.async_set("sensor.buffered", "4.5", measured_at=reading_time)
    await rec.async_flush()
    rows = query(rec.db_path, "SELECT state FROM states ORDER BY ts_us")
    assert rows == [("4.5",), ("5.0",)]


async def test_states_set_before_the_recorder_are_kept(hub: Hub) -> None:
    hub.states.async_set("sensor.early", "1")
    assert await async_setup(hub, CONFIG_SCHEMA(None))
    recorder = get_recorder(hub)
    assert recorder is not None
    hub.states.async_set("sensor.early", "2")
    await recorder.async_flush()
    assert query(recorder.db_path, "SELECT state FROM states ORDER BY ts_us") == [("1",), ("2",)]


async def test_postgresql_url_is_refused_clearly(hub_factory: HubFactory) -> None:
    hub = await hub_factory("recorder:\n  db_url: postgresql://plant@db/plantpulse\n")
    messages = [issue.message for issue in hub.config_issues]
    assert any("PostgreSQL is not supported yet" in message for message in messages), messages
    assert hub.data["recorder"].db_path == hub.config_dir / "plantpulse.db"


async def test_relative_db_url_is_in_the_config_dir(recorder_hub: RecorderHub) -> None:
    hub, rec = await recorder_hub("db_url: sqlite:///data/history.db")
    assert rec.db_path == hub.config_dir / "data" / "history.db"
    hub.states.async_set("sensor.a", "1")
    await rec.async_flush()
    assert rec.db_path.is_file()


async def test_stop_flushes_the_queue(recorder_hub: RecorderHub) -> None:
    hub, rec = await recorder_hub("commit_interval: 30")
    for value in range(1000):
        hub.states.async_set("sensor.a", str(value))
    await hub.async_stop()
    assert query(rec.db_path, "SELECT COUNT(*) FROM states") == [(1000,)]


def test_filter_follows_home_assistant_rules() -> None:
    only_include = EntityFilter(include_domains=frozenset({"sensor"}))
    assert only_include("sensor.a") and not only_include("switch.a")

    only_exclude = EntityFilter(exclude_globs=("sensor.debug_*",))
    assert only_exclude("sensor.a") and not only_exclude("sensor.debug_1")

    both = EntityFilter(include_globs=("sensor.line_*",),
                        include_domains=frozenset({"switch"}),
                        include_entities=frozenset({"sensor.main"}),
                        exclude_domains=frozenset({"sensor"}),
                        exclude_globs=("switch.test_*",),
                        exclude_entities=frozenset({"sensor.line_9"}))
    assert both("sensor.main")
    assert both("sensor.line_1"), "an include glob wins over an excluded domain"
    assert not both("sensor.line_9")
    assert both("switch.pump")
    assert not both("switch.test_1")
    assert not both("sensor.other") and not both("light.hall")

    exclude_domain = EntityFilter(include_entities=frozenset({"sensor.main"}),
                                  exclude_domains=frozenset({"sensor"}))
    assert exclude_domain("sensor.main") and exclude_domain("light.hall")
    assert not exclude_domain("sensor.other")

    lists_only = EntityFilter(include_entities=frozenset({"sensor.a"}),
                              exclude_entities=frozenset({"sensor.b"}))
    assert lists_only("sensor.a") and not lists_only("sensor.c")


async def test_event_data_json_cannot_hold_is_stored_marked(
    recorder_hub: RecorderHub, caplog: pytest.LogCaptureFixture
) -> None:
    hub, rec = await recorder_hub()

    class Valve:
        def __repr__(self) -> str:
            return "<Valve V-12>"

    hub.bus.async_fire("valve_moved", {"valve": Valve(), "position": 3})
    hub.bus.async_fire("valve_moved", {"valve": Valve(), "position": 4})
    hub.bus.async_fire("flow_sampled", {"litres": float("nan")})
    hub.bus.async_fire("shift_started", {"shift": "night"})
    hub.states.async_set("sensor.flow", "12")
    await asyncio.wait_for(rec.async_flush(), 10)

    stored = query(rec.db_path, "SELECT t.event_type, d.shared_data FROM events e "
                   "JOIN event_types t ON t.event_type_id = e.event_type_id "
                   "JOIN event_data d ON d.data_id = e.data_id ORDER BY e.event_id")
    mine = [(kind, json.loads(data)) for kind, data in stored
            if kind in ("valve_moved", "flow_sampled", "shift_started")]
    assert mine == [
        ("valve_moved", {"unserializable": "{'valve': <Valve V-12>, 'position': 3}"}),
        ("valve_moved", {"unserializable": "{'valve': <Valve V-12>, 'position': 4}"}),
        ("flow_sampled", {"unserializable": "{'litres': nan}"}),
        ("shift_started", {"shift": "night"}),
    ]
    assert query(rec.db_path, "SELECT state FROM states") == [("12",)]
    refusals = [record.getMessage() for record in caplog.records
                if "cannot store" in record.getMessage()]
    assert len(refusals) == 2, "one line per event type"
    assert "data of valve_moved events" in refusals[0]


async def test_purge_is_for_admins_and_may_keep_no_days(recorder_hub: RecorderHub) -> None:
    hub, rec = await recorder_hub()
    assert hub.services.get("recorder", "purge").admin_only
    hub.states.async_set("sensor.a", "1", measured_at=datetime.now(UTC) - timedelta(hours=1))
    hub.states.async_set("sensor.a", "2")
    await rec.async_flush()
    await hub.services.async_call("recorder", "purge", {"keep_days": 0})
    await rec.async_flush()
    assert query(rec.db_path, "SELECT state FROM states") == [("2",)]
