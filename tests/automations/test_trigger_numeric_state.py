"""`numeric_state` trigger: fires on entering the range, not while staying in it."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from tests.automations.conftest import START, PlantFactory

REPORT = """
        actions:
          - event: fired
            event_data:
              id: "{{ trigger.id }}"
              entity: "{{ trigger.entity_id }}"
              value: "{{ trigger.to_state.state }}"
              above: "{{ trigger.above }}"
              below: "{{ trigger.below }}"
"""


async def test_fires_on_crossing_above_and_not_again_while_above(plant: PlantFactory) -> None:
    site = await plant("""
    automation:
      - triggers:
          - trigger: numeric_state
            entity_id: sensor.line_load
            above: 40
    """ + REPORT, states={"sensor.line_load": "30"})

    for value in ("39.9", "40", "41", "45", "50", "38", "42", "42.5"):
        await site.set("sensor.line_load", value)

    assert [event["value"] for event in site.fired] == [41, 42]
    assert site.fired[0]["above"] == 40.0


async def test_below_and_both_limits(plant: PlantFactory) -> None:
    site = await plant("""
    automation:
      - triggers:
          - id: low
            trigger: numeric_state
            entity_id: sensor.pressure
            below: 2
    """ + REPORT + """
      - triggers:
          - id: band
            trigger: numeric_state
            entity_id: sensor.pressure
            above: 5
            below: 8
    """ + REPORT, states={"sensor.pressure": "3"})

    for value in ("1.5", "1", "6", "9", "7", "2"):
        await site.set("sensor.pressure", value)

    assert [(event["id"], event["value"]) for event in site.fired] == [
        ("low", 1.5), ("band", 6), ("band", 7),
    ]


async def test_already_matching_at_start_must_leave_the_range_first(
    plant: PlantFactory,
) -> None:
    site = await plant("""
    automation:
      - triggers:
          - trigger: numeric_state
            entity_id: sensor.line_load
            above: 40
    """ + REPORT, states={"sensor.line_load": "50"})

    await site.set("sensor.line_load", "55")
    assert site.fired == []
    await site.set("sensor.line_load", "10")
    await site.set("sensor.line_load", "60")

    assert [event["value"] for event in site.fired] == [60]


async def test_unavailable_and_non_numeric_states_do_not_match_or_crash(
    plant: PlantFactory, caplog: pytest.LogCaptureFixture,
) -> None:
    site = await plant("""
    automation:
      - triggers:
          - trigger: numeric_state
            entity_id: sensor.line_load
            above: 40
    """ + REPORT, states={"sensor.line_load": "10"})
    caplog.set_level(logging.ERROR)

    for value in ("unavailable", "unknown", "abc", "", "nan?", "50"):
        await site.set("sensor.line_load", value)
    await site.set("sensor.line_load", "unavailable")
    await site.set("sensor.line_load", "51")

    # Unavailable is "not matching": coming back above 40 counts as a new crossing.
    assert [event["value"] for event in site.fired] == [50, 51]
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]


async def test_several_entities_are_armed_separately(plant: PlantFactory) -> None:
    site = await plant("""
    automation:
      - mode: parallel
        triggers:
          - trigger: numeric_state
            entity_id: [sensor.a, sensor.b]
            above: 10
    """ + REPORT, states={"sensor.a": "0", "sensor.b": "20"})

    await site.set("sensor.a", "11")
    await site.set("sensor.b", "21")  # b started above: not armed
    await site.set("sensor.b", "5")
    await site.set("sensor.b", "15")
    await site.set("sensor.a", "12")

    assert [(event["entity"], event["value"]) for event in site.fired] == [
        ("sensor.a", 11), ("sensor.b", 15),
    ]


async def test_attribute(plant: PlantFactory) -> None:
    site = await plant("""
    automation:
      - triggers:
          - trigger: numeric_state
            entity_id: climate.oven
            attribute: current_temperature
            above: 200
        actions:
          - event: fired
            event_data:
              temperature: "{{ trigger.to_state.attributes.current_temperature }}"
    """)

    await site.set("climate.oven", "heat", {"current_temperature": 180})
    await site.set("climate.oven", "heat", {})  # attribute missing: not matching
    await site.set("climate.oven", "heat", {"current_temperature": 205})
    await site.set("climate.oven", "heat", {"current_temperature": 210})

    assert [event["temperature"] for event in site.fired] == [205]


async def test_value_template_reads_the_state(plant: PlantFactory) -> None:
    site = await plant("""
    automation:
      - triggers:
          - trigger: numeric_state
            entity_id: sensor.line_power_w
            value_template: "{{ state.state | float(0) / 1000 }}"
            above: 40
    """ + REPORT, states={"sensor.line_power_w": "1000"})

    await site.set("sensor.line_power_w", "39000")
    await site.set("sensor.line_power_w", "42000")

    assert [event["value"] for event in site.fired] == [42000]


async def test_limits_from_an_input_number(plant: PlantFactory) -> None:
    site = await plant("""
    input_number:
      load_limit:
        min: 0
        max: 100
        initial: 40
    automation:
      - triggers:
          - trigger: numeric_state
            entity_id: sensor.line_load
            above: input_number.load_limit
    """ + REPORT, states={"sensor.line_load": "30"})

    await site.set("sensor.line_load", "45")
    await site.set("sensor.line_load", "30")
    await site.hub.services.async_call("input_number", "set_value",
                                       {"entity_id": "input_number.load_limit", "value": 50})
    await site.set("sensor.line_load", "45")
    await site.set("sensor.line_load", "55")

    assert [event["value"] for event in site.fired] == [45, 55]


async def test_for_fires_after_staying_in_range(plant: PlantFactory) -> None:
    site = await plant("""
    automation:
      - triggers:
          - trigger: numeric_state
            entity_id: sensor.line_load
            above: 40
            for: {minutes: 10}
        actions:
          - event: fired
            event_data:
              value: "{{ trigger.to_state.state }}"
              for: "{{ trigger.for.total_seconds() }}"
    """, states={"sensor.line_load": "30"})

    await site.set("sensor.line_load", "45")
    await site.advance(300)
    await site.set("sensor.line_load", "47")  # still above: keeps waiting
    await site.advance(299)
    assert site.fired == []
    await site.advance(1)

    assert site.fired == [{"value": 45, "for": 600.0}]


async def test_for_is_cancelled_when_leaving_the_range(plant: PlantFactory) -> None:
    site = await plant("""
    automation:
      - triggers:
          - trigger: numeric_state
            entity_id: sensor.line_load
            above: 40
            for: 600
    """ + REPORT, states={"sensor.line_load": "30"})

    await site.set("sensor.line_load", "45")
    await site.advance(500)
    await site.set("sensor.line_load", "35")
    await site.advance(200)
    assert site.fired == []

    await site.set("sensor.line_load", "41")
    await site.advance(600)
    assert [event["value"] for event in site.fired] == [41]


async def test_for_as_template(plant: PlantFactory) -> None:
    site = await plant("""
    automation:
      - triggers:
          - trigger: numeric_state
            entity_id: sensor.line_load
            above: 40
            for: "{{ '00:00:30' if trigger.to_state.state | float > 80 else '00:05:00' }}"
    """ + REPORT, states={"sensor.line_load": "30"})

    await site.set("sensor.line_load", "90")
    await site.advance(30)

    assert [event["value"] for event in site.fired] == [90]


async def test_line_load_above_40_kw_after_17_00(plant: PlantFactory) -> None:
    """The user's example: "if line load > 40 kW after 17:00 -> notify" (here an event)."""
    site = await plant("""
    automation:
      - alias: 产线晚间负荷过高 Line load high after 17:00
        triggers:
          - trigger: numeric_state
            entity_id: sensor.line_load
            above: 40
        conditions:
          - condition: time
            after: "17:00:00"
        actions:
          - event: fired
            event_data:
              load: "{{ trigger.to_state.state }}"
              at: "{{ now().strftime('%H:%M') }}"
    """, start=START - timedelta(hours=1), states={"sensor.line_load": "20"})

    await site.set("sensor.line_load", "45")  # 16:00: crosses, but before 17:00
    await site.advance_to_local(17, 10)
    await site.set("sensor.line_load", "46")  # still above: no new crossing
    await site.set("sensor.line_load", "38")
    await site.advance_to_local(17, 20)
    await site.set("sensor.line_load", "42.5")

    assert site.fired == [{"load": 42.5, "at": "17:20"}]
