"""`event` and `template` triggers; trigger ids, trigger variables and both spellings."""

from __future__ import annotations

import logging

import pytest

from plantpulse.core.events import Context
from tests.automations.conftest import PlantFactory


async def test_event_type_and_event_data_match(plant: PlantFactory) -> None:
    site = await plant("""
    automation:
      - triggers:
          - trigger: event
            event_type: [scanner_read, manual_scan]
            event_data:
              station: packing
              reading: {ok: true}
        actions:
          - event: fired
            event_data:
              type: "{{ trigger.event.event_type }}"
              code: "{{ trigger.event.data.code }}"
    """)
    bus = site.hub.bus

    bus.async_fire("scanner_read", {"station": "packing", "code": "A1",
                                    "reading": {"ok": True, "rssi": -40}})
    bus.async_fire("scanner_read", {"station": "welding", "code": "A2",
                                    "reading": {"ok": True}})
    bus.async_fire("scanner_read", {"station": "packing", "code": "A3",
                                    "reading": {"ok": False}})
    bus.async_fire("scanner_read", {"code": "A4"})
    bus.async_fire("manual_scan", {"station": "packing", "code": "B1", "reading": {"ok": True}})
    bus.async_fire("other", {"station": "packing", "code": "C1", "reading": {"ok": True}})
    await site.hub.async_block_till_done()

    assert site.fired == [{"type": "scanner_read", "code": "A1"},
                          {"type": "manual_scan", "code": "B1"}]


async def test_event_data_templates_use_trigger_variables(plant: PlantFactory) -> None:
    site = await plant("""
    automation:
      - trigger_variables:
          station: packing
        triggers:
          - trigger: event
            event_type: scanner_read
            event_data:
              station: "{{ station }}"
        actions:
          - event: fired
            event_data:
              code: "{{ trigger.event.data.code }}"
    """)

    site.hub.bus.async_fire("scanner_read", {"station": "welding", "code": "A1"})
    site.hub.bus.async_fire("scanner_read", {"station": "packing", "code": "A2"})
    await site.hub.async_block_till_done()

    assert site.fired == [{"code": "A2"}]


async def test_event_context_user_id_and_run_context(plant: PlantFactory) -> None:
    site = await plant("""
    automation:
      - triggers:
          - trigger: event
            event_type: door_opened
            context:
              user_id: [operator_1, operator_2]
        actions:
          - event: fired
            event_data:
              user: "{{ trigger.event.context.user_id }}"
    """)
    caused_by = Context(user_id="operator_2")

    site.hub.bus.async_fire("door_opened", {}, context=Context(user_id="visitor"))
    site.hub.bus.async_fire("door_opened", {})
    site.hub.bus.async_fire("door_opened", {}, context=caused_by)
    await site.hub.async_block_till_done()

    assert site.fired == [{"user": "operator_2"}]
    # The run's context is a child of the event's, so the action can be traced to its cause.
    assert site.contexts[0].parent_id == caused_by.id


async def test_template_fires_on_false_to_true_only(plant: PlantFactory) -> None:
    site = await plant("""
    automation:
      - triggers:
          - trigger: template
            value_template: >
              {{ states('sensor.line_load') | float(0) > 40
                 and is_state('switch.line', 'on') }}
        actions:
          - event: fired
            event_data:
              load: "{{ states('sensor.line_load') }}"
    """, states={"sensor.line_load": "10", "switch.line": "on"})

    await site.set("sensor.line_load", "45")
    await site.set("sensor.line_load", "50")   # still true: nothing
    await site.set("switch.line", "off")      # false
    await site.set("sensor.line_load", "55")   # still false
    await site.set("switch.line", "on")       # true again

    assert [event["load"] for event in site.fired] == [45, 55]


async def test_template_already_true_at_start_must_turn_false_first(
    plant: PlantFactory,
) -> None:
    site = await plant("""
    automation:
      - triggers:
          - trigger: template
            value_template: "{{ is_state('binary_sensor.smoke', 'on') }}"
        actions:
          - event: fired
    """, states={"binary_sensor.smoke": "on"})

    await site.set("binary_sensor.smoke", "on", {"battery": 90})
    assert site.fired == []
    await site.set("binary_sensor.smoke", "off")
    await site.set("binary_sensor.smoke", "on")

    assert len(site.fired) == 1


async def test_template_for_and_its_cancellation(plant: PlantFactory) -> None:
    site = await plant("""
    automation:
      - triggers:
          - trigger: template
            value_template: "{{ states('sensor.temperature') | float(0) > 80 }}"
            for: "00:02:00"
        actions:
          - event: fired
            event_data:
              for: "{{ trigger.for.total_seconds() }}"
    """, states={"sensor.temperature": "20"})

    await site.set("sensor.temperature", "85")
    await site.advance(100)
    await site.set("sensor.temperature", "70")  # cancelled
    await site.advance(100)
    await site.set("sensor.temperature", "90")
    await site.advance(119)
    assert site.fired == []
    await site.advance(1)

    assert site.fired == [{"for": 120.0}]


async def test_template_using_now_is_rendered_each_minute(plant: PlantFactory) -> None:
    site = await plant("""
    automation:
      - triggers:
          - trigger: template
            value_template: "{{ now().hour == 17 and now().minute >= 2 }}"
        actions:
          - event: fired
            event_data:
              at: "{{ now().strftime('%H:%M') }}"
    """)

    await site.advance_to_local(17, 5)

    assert site.fired == [{"at": "17:02"}]


async def test_template_follows_a_domain_and_what_each_render_reads(
    plant: PlantFactory,
) -> None:
    site = await plant("""
    automation:
      - triggers:
          - id: two_doors_open
            trigger: template
            value_template: >
              {{ states.binary_sensor | selectattr('state', 'eq', 'on') | list | count >= 2 }}
          - id: selected_line_high
            trigger: template
            value_template: >
              {{ states('sensor.' ~ states('input_text.line') ~ '_load') | float(0) > 40 }}
        actions:
          - event: fired
            event_data: {id: "{{ trigger.id }}"}
    """, states={"binary_sensor.door_a": "on", "input_text.line": "l1",
                 "sensor.l1_load": "10", "sensor.l2_load": "10"})

    await site.set("binary_sensor.door_new", "on")  # an entity the first render never saw
    await site.set("input_text.line", "l2")
    await site.set("sensor.l1_load", "50")  # no longer read
    await site.set("sensor.l2_load", "45")

    assert site.ids() == ["two_doors_open", "selected_line_high"]


async def test_template_errors_count_as_false_and_are_logged_once(
    plant: PlantFactory, caplog: pytest.LogCaptureFixture,
) -> None:
    site = await plant("""
    automation:
      - alias: Division
        triggers:
          - trigger: template
            value_template: "{{ 100 / states('sensor.count') | int(0) > 10 }}"
        actions:
          - event: fired
    """, states={"sensor.count": "0"})
    caplog.set_level(logging.WARNING)

    await site.set("sensor.count", "unknown")
    await site.set("sensor.count", "5")

    assert len(site.fired) == 1
    errors = [record for record in caplog.records if "Division" in record.getMessage()]
    assert len(errors) == 1


async def test_both_spellings_of_platform_and_of_the_trigger_key(plant: PlantFactory) -> None:
    site = await plant("""
    automation:
      - trigger:
          platform: event
          event_type: old_style
        action:
          - event: fired
            event_data: {id: "{{ trigger.id }}", platform: "{{ trigger.platform }}"}
      - triggers:
          - trigger: event
            event_type: new_style
        actions:
          - event: fired
            event_data: {id: "{{ trigger.id }}", platform: "{{ trigger.platform }}"}
      - trigger:
          - trigger: event
            event_type: mixed
        conditions: []
        action:
          event: fired
          event_data: {id: mixed}
    """)

    for event_type in ("old_style", "new_style", "mixed"):
        site.hub.bus.async_fire(event_type)
    await site.hub.async_block_till_done()

    assert site.fired == [{"id": 0, "platform": "event"}, {"id": 0, "platform": "event"},
                          {"id": "mixed"}]


async def test_trigger_ids_default_to_the_index(plant: PlantFactory) -> None:
    site = await plant("""
    automation:
      - mode: queued
        triggers:
          - trigger: event
            event_type: first
          - id: named
            alias: The second one
            trigger: event
            event_type: second
        actions:
          - event: fired
            event_data:
              id: "{{ trigger.id }}"
              idx: "{{ trigger.idx }}"
              alias: "{{ trigger.alias }}"
    """)

    site.hub.bus.async_fire("first")
    site.hub.bus.async_fire("second")
    await site.hub.async_block_till_done()

    # Templates parse results, so the default id "0" renders as the number 0.
    assert site.fired == [{"id": 0, "idx": 0, "alias": None},
                          {"id": "named", "idx": 1, "alias": "The second one"}]


async def test_trigger_variables_become_run_variables(plant: PlantFactory) -> None:
    site = await plant("""
    automation:
      - trigger_variables:
          limit: 40
        variables:
          doubled: "{{ line_name * 2 }}"
        triggers:
          - trigger: numeric_state
            entity_id: sensor.line_1_load
            above: 40
            variables:
              line_name: L1
              over_by: "{{ trigger.to_state.state | float - limit }}"
          - trigger: numeric_state
            entity_id: sensor.line_2_load
            above: 40
            variables:
              line_name: L2
              over_by: 0
        actions:
          - event: fired
            event_data:
              line: "{{ line_name }}"
              over_by: "{{ over_by }}"
              doubled: "{{ doubled }}"
    """, states={"sensor.line_1_load": "0", "sensor.line_2_load": "0"})

    await site.set("sensor.line_1_load", "42.5")
    await site.set("sensor.line_2_load", "41")

    assert site.fired == [{"line": "L1", "over_by": 2.5, "doubled": "L1L1"},
                          {"line": "L2", "over_by": 0, "doubled": "L2L2"}]


async def test_disabled_trigger_is_not_attached(plant: PlantFactory) -> None:
    site = await plant("""
    automation:
      - triggers:
          - trigger: event
            event_type: ping
            enabled: false
          - trigger: event
            event_type: pong
        actions:
          - event: fired
            event_data: {type: "{{ trigger.event.event_type }}"}
    """)

    site.hub.bus.async_fire("ping")
    site.hub.bus.async_fire("pong")
    await site.hub.async_block_till_done()

    assert site.fired == [{"type": "pong"}]
