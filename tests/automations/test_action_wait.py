"""Actions that take plant time: `delay` in every spelling, `wait_template` and
`wait_for_trigger` with `timeout`/`continue_on_timeout` and the `wait` variable."""

from __future__ import annotations

import pytest

from tests.automations.conftest import PlantFactory
from tests.automations.test_action_service import last_trace


@pytest.mark.parametrize("delay", [
    "7", "'00:00:07'", "{seconds: 7}", "{seconds: \"{{ 3 + 4 }}\"}", "\"{{ 7 }}\"",
    "\"00:00:{{ '07' }}\"",
])
async def test_delay_spellings_wait_seven_seconds(plant: PlantFactory, delay: str) -> None:
    site = await plant(f"""
    automation:
      - id: waits
        triggers: [{{trigger: event, event_type: go}}]
        actions:
          - event: fired
            event_data: {{id: before}}
          - delay: {delay}
          - event: fired
            event_data: {{id: after}}
    """)

    site.hub.bus.async_fire("go", {})
    await site.hub.async_block_till_done()
    assert site.ids() == ["before"]
    await site.advance(6.9)
    assert site.ids() == ["before"]
    await site.advance(0.1)

    assert site.ids() == ["before", "after"]
    assert last_trace(site, "waits")["trace"]["action/1"][0]["result"] == {
        "delay": 7.0, "done": True}


async def test_delay_in_minutes_and_hours(plant: PlantFactory) -> None:
    site = await plant("""
    automation:
      - triggers: [{trigger: event, event_type: go}]
        actions:
          - delay: {hours: 1, minutes: 30}
          - event: fired
            event_data: {id: late}
    """)

    site.hub.bus.async_fire("go", {})
    await site.advance(5399)
    assert site.fired == []
    await site.advance(1)
    assert site.ids() == ["late"]


async def test_a_delay_template_that_is_not_a_period_ends_the_run_with_an_error(
    plant: PlantFactory,
) -> None:
    site = await plant("""
    automation:
      - id: bad_delay
        triggers: [{trigger: event, event_type: go}]
        actions:
          - delay: "{{ 'soon' }}"
          - event: fired
    """)

    site.hub.bus.async_fire("go", {})
    await site.hub.async_block_till_done()

    trace = last_trace(site, "bad_delay")
    assert site.fired == []
    assert trace["script_execution"] == "error"
    assert "soon" in trace["trace"]["action/0"][0]["error"]


WAIT_TEMPLATE = """
    automation:
      - id: waits
        triggers: [{trigger: event, event_type: go}]
        actions:
          - wait_template: "{{ is_state('binary_sensor.door', 'off') }}"
            %s
          - event: fired
            event_data:
              id: after
              completed: "{{ wait.completed }}"
              remaining: "{{ wait.remaining }}"
"""


async def test_wait_template_goes_on_when_the_template_becomes_true(
    plant: PlantFactory,
) -> None:
    site = await plant(WAIT_TEMPLATE % "timeout: 60",
                       states={"binary_sensor.door": "on"})

    site.hub.bus.async_fire("go", {})
    await site.advance(20)
    await site.set("binary_sensor.door", "on", {"note": "still open"})
    assert site.fired == []
    await site.set("binary_sensor.door", "off")

    assert site.fired == [{"id": "after", "completed": True, "remaining": 40.0}]


async def test_wait_template_already_true_does_not_wait(plant: PlantFactory) -> None:
    site = await plant(WAIT_TEMPLATE % "", states={"binary_sensor.door": "off"})

    site.hub.bus.async_fire("go", {})
    await site.hub.async_block_till_done()

    assert site.fired == [{"id": "after", "completed": True, "remaining": None}]


async def test_wait_template_timeout_continues_by_default(plant: PlantFactory) -> None:
    site = await plant(WAIT_TEMPLATE % "timeout: '00:01:00'",
                       states={"binary_sensor.door": "on"})

    site.hub.bus.async_fire("go", {})
    await site.advance(59)
    assert site.fired == []
    await site.advance(1)

    assert site.fired == [{"id": "after", "completed": False, "remaining": 0.0}]
    trace = last_trace(site, "waits")
    assert trace["trace"]["action/0"][0]["result"] == {"timeout": True}
    assert trace["script_execution"] == "finished"


async def test_wait_template_timeout_without_continue_stops_the_run(
    plant: PlantFactory,
) -> None:
    site = await plant(WAIT_TEMPLATE % "timeout: 60\n            continue_on_timeout: false",
                       states={"binary_sensor.door": "on"})

    site.hub.bus.async_fire("go", {})
    await site.advance(60)
    await site.set("binary_sensor.door", "off")

    assert site.fired == []
    trace = last_trace(site, "waits")
    assert trace["script_execution"] == "aborted"
    assert "error" not in trace


WAIT_FOR_TRIGGER = """
    automation:
      - id: waits
        triggers: [{trigger: event, event_type: go}]
        actions:
          - wait_for_trigger:
              - trigger: state
                entity_id: switch.pump
                to: "on"
                id: pump
              - trigger: event
                event_type: ack
                id: ack
            %s
          - event: fired
            event_data:
              id: after
              which: "{{ wait.trigger.id if wait.trigger else 'none' }}"
              remaining: "{{ wait.remaining }}"
"""


async def test_wait_for_trigger_says_which_trigger_fired(plant: PlantFactory) -> None:
    site = await plant(WAIT_FOR_TRIGGER % "timeout: 30", states={"switch.pump": "off"})

    site.hub.bus.async_fire("go", {})
    await site.advance(10)
    assert site.fired == []
    site.hub.bus.async_fire("ack", {"by": "zhang"})
    await site.hub.async_block_till_done()
    # The triggers are gone once the wait is over.
    await site.set("switch.pump", "on")

    assert site.fired == [{"id": "after", "which": "ack", "remaining": 20.0}]
    step = last_trace(site, "waits")["trace"]["action/0"][0]
    assert step["changed_variables"]["wait"]["trigger"]["event"].data == {"by": "zhang"}


async def test_wait_for_trigger_state_change(plant: PlantFactory) -> None:
    site = await plant(WAIT_FOR_TRIGGER % "", states={"switch.pump": "off"})

    site.hub.bus.async_fire("go", {})
    await site.advance(3600)
    await site.set("switch.pump", "on")

    assert site.fired == [{"id": "after", "which": "pump", "remaining": None}]


async def test_wait_for_trigger_timeout_continues_with_no_trigger(plant: PlantFactory) -> None:
    site = await plant(WAIT_FOR_TRIGGER % "timeout: {minutes: 2}",
                       states={"switch.pump": "off"})

    site.hub.bus.async_fire("go", {})
    await site.advance(120)
    site.hub.bus.async_fire("ack", {})
    await site.hub.async_block_till_done()

    assert site.fired == [{"id": "after", "which": "none", "remaining": 0.0}]


async def test_wait_for_trigger_timeout_can_stop_the_run(plant: PlantFactory) -> None:
    site = await plant(WAIT_FOR_TRIGGER % "timeout: 5\n            continue_on_timeout: false",
                       states={"switch.pump": "off"})

    site.hub.bus.async_fire("go", {})
    await site.advance(5)

    assert site.fired == []
    assert last_trace(site, "waits")["script_execution"] == "aborted"


async def test_wait_for_trigger_sees_the_run_variables(plant: PlantFactory) -> None:
    site = await plant("""
    automation:
      - triggers: [{trigger: event, event_type: go}]
        actions:
          - variables:
              machine: "{{ trigger.event.data.machine }}"
          - wait_for_trigger:
              - trigger: template
                value_template: "{{ is_state('switch.' ~ machine, 'on') }}"
          - event: fired
            event_data: {id: "{{ machine }} on"}
    """, states={"switch.press": "off", "switch.lathe": "off"})

    site.hub.bus.async_fire("go", {"machine": "press"})
    await site.hub.async_block_till_done()
    await site.set("switch.lathe", "on")
    assert site.fired == []
    await site.set("switch.press", "on")

    assert site.ids() == ["press on"]
