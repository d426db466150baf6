"""Conditions of automations: state, numeric_state, time (across midnight), template, trigger,
and/or/not, shorthand template strings, both spellings of the key; errors in traces."""

from __future__ import annotations

from plantpulse.automations.trace import TraceStore
from tests.automations.conftest import Plant, PlantFactory


async def check(site: Plant, event_type: str = "check") -> bool:
    """Fire the automation's event trigger; whether its conditions let the action run."""
    before = len(site.fired)
    site.hub.bus.async_fire(event_type)
    await site.hub.async_block_till_done()
    return len(site.fired) > before


def automation(conditions: str, key: str = "conditions") -> str:
    """One automation run by the `check` event, with `conditions` (YAML at 8 spaces)."""
    return f"""
    automation:
      - triggers:
          - trigger: event
            event_type: check
        {key}:
{conditions}
        actions:
          - event: fired
    """


async def test_state_condition(plant: PlantFactory) -> None:
    site = await plant(automation("""
          - condition: state
            entity_id: switch.line
            state: "on"
          - condition: state
            entity_id: [sensor.mode_a, sensor.mode_b]
            state: [auto, remote]
    """), states={"switch.line": "on", "sensor.mode_a": "auto", "sensor.mode_b": "remote"})

    assert await check(site)
    await site.set("sensor.mode_b", "manual")
    assert not await check(site)  # every entity must match (match: all)
    await site.set("sensor.mode_b", "auto")
    await site.set("switch.line", "off")
    assert not await check(site)


async def test_state_condition_match_any_missing_entity_and_booleans(
    plant: PlantFactory,
) -> None:
    site = await plant(automation("""
          - condition: state
            entity_id: [switch.a, switch.missing]
            state: on
            match: any
    """), states={"switch.a": "off"})

    assert not await check(site)
    await site.set("switch.a", "on")
    assert await check(site)


async def test_state_condition_on_an_attribute(plant: PlantFactory) -> None:
    site = await plant(automation("""
          - condition: state
            entity_id: climate.oven
            attribute: setpoint
            state: 180
          - condition: state
            entity_id: climate.oven
            attribute: door_locked
            state: true
    """))

    await site.set("climate.oven", "heat", {"setpoint": 180, "door_locked": True})
    assert await check(site)
    await site.set("climate.oven", "heat", {"setpoint": 170, "door_locked": True})
    assert not await check(site)
    await site.set("climate.oven", "heat", {"setpoint": 180})
    assert not await check(site)


async def test_state_condition_for(plant: PlantFactory) -> None:
    site = await plant(automation("""
          - condition: state
            entity_id: binary_sensor.door
            state: "on"
            for: {minutes: 5}
    """), states={"binary_sensor.door": "off"})

    await site.set("binary_sensor.door", "on")
    await site.advance(299)
    assert not await check(site)
    await site.advance(1)
    assert await check(site)


async def test_numeric_state_condition(plant: PlantFactory) -> None:
    site = await plant(automation("""
          - condition: numeric_state
            entity_id: sensor.line_load
            above: 40
            below: 100
    """), states={"sensor.line_load": "42"})

    assert await check(site)
    for value, expected in (("40", False), ("100", False), ("99.9", True),
                            ("unavailable", False), ("abc", False)):
        await site.set("sensor.line_load", value)
        assert await check(site) is expected, value


async def test_numeric_state_condition_attribute_template_and_helper_limit(
    plant: PlantFactory,
) -> None:
    site = await plant("""
    input_number:
      limit:
        min: 0
        max: 500
        initial: 200
    """ + automation("""
          - condition: numeric_state
            entity_id: climate.oven
            attribute: current_temperature
            above: input_number.limit
          - condition: numeric_state
            entity_id: sensor.power_w
            value_template: "{{ state.state | float(0) / 1000 }}"
            below: 5
    """))

    await site.set("climate.oven", "heat", {"current_temperature": 210})
    await site.set("sensor.power_w", "4000")
    assert await check(site)
    await site.set("sensor.power_w", "6000")
    assert not await check(site)
    await site.set("sensor.power_w", "1000")
    await site.hub.services.async_call("input_number", "set_value",
                                       {"entity_id": "input_number.limit", "value": 250})
    assert not await check(site)


async def test_time_condition_after_17(plant: PlantFactory) -> None:
    site = await plant(automation("""
          - condition: time
            after: "17:00:00"
    """))  # the site starts at 17:00 local

    assert await check(site)
    await site.advance_to_local(23, 59, 59)
    assert await check(site)
    await site.advance_to_local(0, 0, day=3)
    assert not await check(site)
    await site.advance_to_local(16, 59, 59, day=3)
    assert not await check(site)


async def test_time_condition_across_midnight(plant: PlantFactory) -> None:
    site = await plant(automation("""
          - condition: time
            after: "22:00"
            before: "06:00"
    """))

    # Monday 17:00 -> Tuesday noon, local time.
    for day, hour, minute, second, expected in (
        (2, 21, 59, 59, False), (2, 22, 0, 0, True), (2, 23, 30, 0, True),
        (3, 0, 0, 0, True), (3, 5, 59, 59, True), (3, 6, 0, 0, False), (3, 12, 0, 0, False),
    ):
        await site.advance_to_local(hour, minute, second, day=day)
        assert await check(site) is expected, (day, hour, minute, second)


async def test_time_condition_weekdays_and_unquoted_times(plant: PlantFactory) -> None:
    site = await plant(automation("""
          - condition: time
            after: 08:00
            before: 18:00
            weekday: [mon, fri]
    """))  # Monday 2 March 2026, 17:00

    assert await check(site)
    await site.advance_to_local(9, day=3)  # Tuesday
    assert not await check(site)
    await site.advance_to_local(9, day=6)  # Friday
    assert await check(site)
    await site.advance_to_local(19, day=6)
    assert not await check(site)


async def test_time_condition_from_input_datetime_helpers(plant: PlantFactory) -> None:
    site = await plant("""
    input_datetime:
      shift_start:
        has_time: true
        initial: "16:30:00"
    """ + automation("""
          - condition: time
            after: input_datetime.shift_start
            before: "20:00"
    """))

    assert await check(site)
    await site.hub.services.async_call("input_datetime", "set_datetime",
                                       {"entity_id": "input_datetime.shift_start",
                                        "time": "17:30:00"})
    assert not await check(site)


async def test_template_condition_and_shorthand_strings(plant: PlantFactory) -> None:
    site = await plant("""
    automation:
      - triggers:
          - trigger: event
            event_type: check
        conditions: "{{ is_state('switch.line', 'on') }}"
        actions:
          - event: fired
            event_data: {id: string}
      - triggers:
          - trigger: event
            event_type: check
        conditions:
          - "{{ states('sensor.line_load') | float(0) > 40 }}"
          - condition: template
            value_template: "{{ is_state('switch.line', 'on') }}"
        actions:
          - event: fired
            event_data: {id: list}
      - triggers:
          - trigger: event
            event_type: check
        condition:
          - condition: "{{ states('sensor.line_load') | float(0) > 40 }}"
        actions:
          - event: fired
            event_data: {id: singular_key}
    """, states={"switch.line": "on", "sensor.line_load": "30"})

    await check(site)
    await site.set("sensor.line_load", "45")
    await check(site)

    assert site.ids() == ["string", "string", "list", "singular_key"]


async def test_trigger_condition_by_id(plant: PlantFactory) -> None:
    site = await plant("""
    automation:
      - mode: queued
        triggers:
          - id: opened
            trigger: event
            event_type: door_opened
          - id: closed
            trigger: event
            event_type: door_closed
          - id: forced
            trigger: event
            event_type: door_forced
        conditions:
          - condition: trigger
            id: [opened, forced]
        actions:
          - event: fired
            event_data: {id: "{{ trigger.id }}"}
    """)

    for event_type in ("door_opened", "door_closed", "door_forced"):
        site.hub.bus.async_fire(event_type)
    await site.hub.async_block_till_done()

    assert site.ids() == ["opened", "forced"]


async def test_and_or_not_in_both_forms(plant: PlantFactory) -> None:
    site = await plant(automation("""
          - or:
              - condition: state
                entity_id: switch.override
                state: "on"
              - and:
                  - "{{ states('sensor.line_load') | float(0) > 40 }}"
                  - condition: not
                    conditions:
                      - condition: state
                        entity_id: binary_sensor.maintenance
                        state: "on"
    """), states={"switch.override": "off", "sensor.line_load": "45",
                  "binary_sensor.maintenance": "off"})

    assert await check(site)
    await site.set("binary_sensor.maintenance", "on")
    assert not await check(site)
    await site.set("switch.override", "on")
    assert await check(site)


async def test_disabled_condition_passes(plant: PlantFactory) -> None:
    site = await plant(automation("""
          - condition: state
            entity_id: switch.line
            state: "on"
            enabled: false
    """), states={"switch.line": "off"})

    assert await check(site)


async def test_results_and_errors_are_recorded_in_the_trace(plant: PlantFactory) -> None:
    site = await plant("""
    automation:
      - id: guarded
        triggers:
          - trigger: event
            event_type: check
        conditions:
          - condition: numeric_state
            entity_id: sensor.line_load
            above: 40
          - condition: time
            after: input_datetime.missing
          - "{{ 1 / 0 }}"
        actions:
          - event: fired
      - id: broken_template
        triggers:
          - trigger: event
            event_type: check
        conditions: "{{ states('sensor.line_load') | float / 0 > 1 }}"
        actions:
          - event: fired
    """, states={"sensor.line_load": "45"})

    assert not await check(site)
    store = TraceStore.of(site.hub)
    assert store is not None
    [summary] = store.list("automation", "guarded")
    assert summary["script_execution"] == "failed_conditions"
    trace = store.get("automation", "guarded", summary["run_id"])
    assert trace is not None
    steps = trace["trace"]
    assert steps["condition/0"][0]["result"] == {"result": True}
    assert steps["condition/1"][0]["result"] == {"result": False}
    assert "input_datetime.missing" in steps["condition/1"][0]["error"]
    assert "condition/2" not in steps  # evaluation stops at the first false condition

    [summary] = store.list("automation", "broken_template")
    trace = store.get("automation", "broken_template", summary["run_id"])
    assert trace is not None
    [step] = trace["trace"]["condition/0"]
    assert step["result"] == {"result": False}
    assert "division" in step["error"]
