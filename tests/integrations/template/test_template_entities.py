"""Template sensors and binary sensors: values, availability, errors, delays, ids, reload."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from plantpulse.core.clock import ManualClock
from plantpulse.core.events import Event

# 16:58:30 in Shanghai on Monday 2 March 2026.
NOW = datetime(2026, 3, 2, 8, 58, 30, tzinfo=UTC)

CONFIG = """
template:
  - sensor:
      - name: 总进线功率
        state: "{{ states('sensor.line_1') | float(0) + states('sensor.line_2') | float(0) }}"
        unit_of_measurement: kW
        device_class: power
        state_class: measurement
        icon: "{{ 'mdi:flash' if states('sensor.line_1') | float(0) > 0 else 'mdi:flash-off' }}"
        attributes:
          lines: "{{ 2 }}"
          source: "{{ states('sensor.line_1') }} + {{ states('sensor.line_2') }}"
      - name: Line 1 checked
        state: "{{ states('sensor.line_1') | float }}"
        availability: "{{ has_value('sensor.line_1') }}"
    binary_sensor:
      - name: Night base load high
        state: "{{ states('sensor.zong_jin_xian_gong_lv') | float(0) > 40 and now().hour >= 17 }}"
        device_class: problem
"""

TOTAL = "sensor.zong_jin_xian_gong_lv"
CHECKED = "sensor.line_1_checked"
NIGHT = "binary_sensor.night_base_load_high"


async def test_a_sensor_computes_its_value_from_other_entities(hub_factory) -> None:
    hub = await hub_factory(CONFIG, clock=ManualClock(NOW))
    total = hub.states.get(TOTAL)
    assert total.state == "0"  # float(0) gives its default, the integer 0, as in HA
    assert total.attributes == {
        "lines": 2, "source": "unknown + unknown", "state_class": "measurement",
        "unit_of_measurement": "kW", "device_class": "power", "icon": "mdi:flash-off",
        "friendly_name": "总进线功率",
    }
    hub.states.async_set("sensor.line_1", "12.5")
    hub.states.async_set("sensor.line_2", "30")
    total = hub.states.get(TOTAL)
    assert total.state == "42.5"
    assert total.attributes["icon"] == "mdi:flash"
    assert total.attributes["source"] == "12.5 + 30"


async def test_availability_template_and_recovery(hub_factory) -> None:
    hub = await hub_factory(CONFIG, clock=ManualClock(NOW))
    assert hub.states.get(CHECKED).state == "unavailable"
    hub.states.async_set("sensor.line_1", "7.25")
    assert hub.states.get(CHECKED).state == "7.25"
    hub.states.async_set("sensor.line_1", "unavailable")
    assert hub.states.get(CHECKED).state == "unavailable"
    hub.states.async_set("sensor.line_1", "8")
    assert hub.states.get(CHECKED).state == "8.0"


async def test_a_failing_template_makes_the_entity_unavailable_and_logs_once(
    hub_factory, caplog: pytest.LogCaptureFixture
) -> None:
    hub = await hub_factory("""
        template:
          - sensor:
              - name: Strict
                state: "{{ states('sensor.meter') | float * 2 }}"
    """)
    hub.states.async_set("sensor.meter", "3")
    assert hub.states.get("sensor.strict").state == "6.0"
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="plantpulse.integrations.template"):
        for garbage in ("abc", "def", "ghi"):
            hub.states.async_set("sensor.meter", garbage)
            assert hub.states.get("sensor.strict").state == "unavailable"
        hub.states.async_set("sensor.meter", "4")
    assert hub.states.get("sensor.strict").state == "8.0"
    errors = [record for record in caplog.records if record.levelno == logging.ERROR]
    assert len(errors) == 1
    assert "sensor.strict" in errors[0].getMessage()
    assert "float got invalid input 'abc'" in errors[0].getMessage()
    assert any("render again" in record.getMessage() for record in caplog.records)


async def test_a_state_too_long_for_the_state_machine_fails_the_entity(hub_factory) -> None:
    hub = await hub_factory("""
        template:
          - sensor:
              - name: Long
                state: "{{ 'x' * (states('sensor.n') | int(1)) }}"
    """)
    assert hub.states.get("sensor.long").state == "x"
    hub.states.async_set("sensor.n", "300")
    assert hub.states.get("sensor.long").state == "unavailable"
    hub.states.async_set("sensor.n", "3")
    assert hub.states.get("sensor.long").state == "xxx"


async def test_the_users_after_17_example_turns_on_at_17(hub_factory) -> None:
    clock = ManualClock(NOW)
    hub = await hub_factory(CONFIG, clock=clock)
    hub.states.async_set("sensor.line_1", "20")
    hub.states.async_set("sensor.line_2", "22")
    assert hub.states.get(NIGHT).state == "off"
    assert hub.states.get(NIGHT).attributes["device_class"] == "problem"
    await clock.advance_to(datetime(2026, 3, 2, 8, 59, 59, tzinfo=UTC))
    assert hub.states.get(NIGHT).state == "off"
    await clock.advance(1)  # 17:00:00 in Shanghai: the minute re-render sees it
    assert hub.states.get(NIGHT).state == "on"
    hub.states.async_set("sensor.line_2", "10")
    assert hub.states.get(NIGHT).state == "off"


DELAYS = """
template:
  - binary_sensor:
      - name: Overload
        state: "{{ states('sensor.load') | float(0) > 40 }}"
        delay_on: "00:05:00"
        delay_off: 60
"""


async def test_delay_on_and_delay_off_need_the_condition_to_hold(hub_factory) -> None:
    clock = ManualClock(NOW)
    hub = await hub_factory(DELAYS, clock=clock)
    overload = "binary_sensor.overload"
    hub.states.async_set("sensor.load", "30")
    assert hub.states.get(overload).state == "off"

    hub.states.async_set("sensor.load", "45")
    await clock.advance(299)
    assert hub.states.get(overload).state == "off"
    await clock.advance(1)
    assert hub.states.get(overload).state == "on"

    hub.states.async_set("sensor.load", "30")
    await clock.advance(30)
    hub.states.async_set("sensor.load", "50")  # back above before delay_off ran out
    await clock.advance(600)
    assert hub.states.get(overload).state == "on"

    hub.states.async_set("sensor.load", "30")
    await clock.advance(59)
    assert hub.states.get(overload).state == "on"
    await clock.advance(1)
    assert hub.states.get(overload).state == "off"

    # A spike shorter than delay_on never shows.
    hub.states.async_set("sensor.load", "90")
    await clock.advance(120)
    hub.states.async_set("sensor.load", "10")
    await clock.advance(600)
    assert hub.states.get(overload).state == "off"


async def test_the_first_value_shows_at_once_despite_delays(hub_factory) -> None:
    clock = ManualClock(NOW)
    config = DELAYS + "        availability: \"{{ has_value('sensor.load') }}\"\n"
    hub = await hub_factory(config, clock=clock)
    overload = "binary_sensor.overload"
    assert hub.states.get(overload).state == "unavailable"
    hub.states.async_set("sensor.load", "45")
    assert hub.states.get(overload).state == "on"


async def test_unique_id_freezes_the_entity_id_across_renames(hub_factory) -> None:
    config = """
        template:
          - unique_id: plant
            sensor:
              - name: Base load
                unique_id: base_load
                state: "{{ 1 }}"
    """
    hub = await hub_factory(config)
    assert hub.states.get("sensor.base_load").state == "1"
    assert hub.entity_registry.get("sensor.base_load").unique_id == "plant-base_load"
    await hub.async_stop()

    again = await hub_factory(config.replace("Base load", "夜间基荷"), config_dir=hub.config_dir)
    state = again.states.get("sensor.base_load")
    assert (state.state, state.attributes["friendly_name"]) == ("1", "夜间基荷")


async def test_reload_replaces_the_entities(hub_factory) -> None:
    hub = await hub_factory(CONFIG, clock=ManualClock(NOW))
    (hub.config_dir / "configuration.yaml").write_text(
        "template:\n  - sensor:\n      - name: Only one\n        state: \"{{ 5 }}\"\n",
        encoding="utf-8",
    )
    await hub.services.async_call("template", "reload", {})
    assert hub.states.entity_ids("sensor") == ["sensor.only_one"]
    assert hub.states.get("sensor.only_one").state == "5"
    assert hub.states.get(NIGHT) is None
    # The removed entities stopped listening.
    events: list[Event] = []
    hub.bus.async_listen("state_changed", events.append)
    hub.states.async_set("sensor.line_1", "99")
    assert [event.data["entity_id"] for event in events] == ["sensor.line_1"]


@pytest.mark.parametrize(("item", "message"), [
    ("- trigger:\n      platform: time", "trigger-based template entities are not supported"),
    ("- sensor:\n      - state: \"{{ 1 }\"", "invalid template"),
    ("- sensor:\n      - state: \"{{ 1 }}\"\n        state_class: sometimes",
     "must be measurement, total or total_increasing"),
    ("- binary_sensor:\n      - state: \"{{ 1 }}\"\n        delay_on: soon",
     "expected a time period"),
    ("- sensor:\n      - name: no state", "required key 'state' is missing"),
])
async def test_bad_entities_are_reported_and_the_others_run(hub_factory, item, message) -> None:
    hub = await hub_factory(
        f"template:\n  {item}\n  - sensor:\n      - name: Fine\n        state: \"{{{{ 2 }}}}\"\n"
    )
    assert hub.states.get("sensor.fine").state == "2"
    assert any(message in str(issue) for issue in hub.config_issues), hub.config_issues
