"""Scripts as services: fields (defaults, required, selectors), waiting for the run, the
entity's state, turn_on/turn_off/toggle, script variables and responses."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from plantpulse.automations.runtime import ScriptError
from plantpulse.core.exceptions import ServiceValidationError
from tests.integrations.script.conftest import START, PlantFactory

NOTIFY = """
script:
  notify_shift_lead:
    alias: 通知班长
    description: Tell the shift lead about a line
    icon: mdi:account-hard-hat
    fields:
      line:
        description: Which line
        example: anodizing
        required: true
        selector: {text: {}}
      minutes:
        description: For how long
        default: 10
        selector: {number: {min: 1, max: 120}}
    variables:
      greeting: "{{ '班长' if line == 'anodizing' else 'lead' }}"
    sequence:
      - event: fired
        event_data:
          message: "{{ greeting }}: {{ line }} high for {{ minutes }} min"
      - delay: 30
      - event: fired
        event_data:
          message: done
"""


async def test_the_service_takes_fields_applies_defaults_and_waits_for_the_end(
    plant: PlantFactory,
) -> None:
    site = await plant(NOTIFY)
    assert site.state("script.notify_shift_lead") == "off"

    call = asyncio.ensure_future(site.call("script.notify_shift_lead", {"line": "anodizing"}))
    await site.hub.async_block_till_done()
    assert site.messages() == ["班长: anodizing high for 10 min"]
    assert not call.done()  # the caller waits out the delay
    assert site.state("script.notify_shift_lead") == "on"
    attributes = site.attributes("script.notify_shift_lead")
    assert attributes["current"] == 1
    assert attributes["mode"] == "single"
    assert attributes["last_triggered"] == START.isoformat()
    assert attributes["friendly_name"] == "通知班长"
    assert attributes["icon"] == "mdi:account-hard-hat"

    await site.advance(30)
    assert call.done() and call.result() is None
    assert site.messages()[-1] == "done"
    assert site.state("script.notify_shift_lead") == "off"
    assert site.attributes("script.notify_shift_lead")["current"] == 0


async def test_field_values_are_checked_against_required_and_selectors(
    plant: PlantFactory,
) -> None:
    site = await plant(NOTIFY)

    with pytest.raises(ServiceValidationError,
                       match=r"script\.notify_shift_lead: required field 'line' is missing"):
        await site.call("script.notify_shift_lead", {"minutes": 5})
    with pytest.raises(ServiceValidationError, match="field 'minutes': 500 is above the maximum"):
        await site.call("script.notify_shift_lead", {"line": "a", "minutes": 500})
    assert site.fired == []
    # Keys that are not fields pass through as variables; the caller's wins over `variables:`.
    call = asyncio.ensure_future(site.call(
        "script.notify_shift_lead", {"line": "press", "minutes": "15", "greeting": "hi"}))
    await site.hub.async_block_till_done()
    assert site.messages() == ["hi: press high for 15 min"]
    await site.advance(30)
    await call


async def test_service_is_documented_with_the_fields(plant: PlantFactory) -> None:
    site = await plant(NOTIFY)

    described = site.hub.services.get("script", "notify_shift_lead").as_dict()
    assert described["name"] == "通知班长"
    assert described["description"] == "Tell the shift lead about a line"
    assert described["fields"]["line"] == {"description": "Which line", "example": "anodizing",
                                           "required": True}
    assert described["response"] == {"optional": True}


async def test_turn_on_starts_without_waiting_and_turn_off_stops(plant: PlantFactory) -> None:
    site = await plant(NOTIFY)

    await site.call("script.turn_on", {"entity_id": "script.notify_shift_lead",
                                       "variables": {"line": "press"}})
    assert site.messages() == ["lead: press high for 10 min"]
    assert site.state("script.notify_shift_lead") == "on"

    await site.call("script.turn_off", {"entity_id": "script.notify_shift_lead"})
    assert site.state("script.notify_shift_lead") == "off"
    await site.advance(60)
    assert site.messages() == ["lead: press high for 10 min"]  # never got to "done"

    with pytest.raises(ServiceValidationError, match="required field 'line' is missing"):
        await site.call("script.turn_on", {"entity_id": "script.notify_shift_lead"})


async def test_toggle_starts_a_stopped_script_and_stops_a_running_one(
    plant: PlantFactory,
) -> None:
    site = await plant("""
    script:
      pump_cycle:
        sequence:
          - event: fired
            event_data: {message: started}
          - delay: {minutes: 5}
          - event: fired
            event_data: {message: finished}
    """)

    await site.call("script.toggle", {"entity_id": "script.pump_cycle"})
    assert site.state("script.pump_cycle") == "on"
    await site.call("script.toggle", {"entity_id": "script.pump_cycle"})
    assert site.state("script.pump_cycle") == "off"
    await site.advance(600)
    assert site.messages() == ["started"]


async def test_a_call_waiting_for_a_script_stopped_by_turn_off_returns(
    plant: PlantFactory,
) -> None:
    site = await plant(NOTIFY)

    call = asyncio.ensure_future(site.call("script.notify_shift_lead", {"line": "a"}))
    await site.hub.async_block_till_done()
    await site.call("script.turn_off", {"entity_id": "all"})
    await site.hub.async_block_till_done()
    assert call.done() and call.result() is None


async def test_stop_with_response_variable_answers_the_service_call(
    plant: PlantFactory,
) -> None:
    site = await plant("""
    script:
      line_report:
        fields:
          line: {default: anodizing}
        sequence:
          - variables:
              report:
                line: "{{ line }}"
                load_kw: "{{ states('sensor.line_load') | float(0) }}"
          - stop: reported
            response_variable: report
      no_answer:
        sequence:
          - event: fired
      bad_answer:
        sequence:
          - variables: {text: "just words"}
          - stop: done
            response_variable: text
    """)
    site.hub.states.async_set("sensor.line_load", "42.5")

    assert await site.call("script.line_report", return_response=True) == {
        "line": "anodizing", "load_kw": 42.5}
    assert await site.call("script.line_report", {"line": "press"}) is None
    assert await site.call("script.no_answer", return_response=True) == {}
    with pytest.raises(ScriptError, match="the response must be a mapping"):
        await site.call("script.bad_answer", return_response=True)


async def test_a_failing_script_raises_to_its_caller(plant: PlantFactory) -> None:
    site = await plant("""
    script:
      fails:
        sequence:
          - action: notify.nobody
      stops_with_error:
        sequence:
          - stop: the press is not ready
            error: true
      bad_variable:
        variables:
          limit: "{{ 1 / 0 }}"
        sequence:
          - event: fired
    """)

    with pytest.raises(ScriptError, match=r"script\.fails failed: .*notify\.nobody"):
        await site.call("script.fails")
    with pytest.raises(ScriptError, match="the press is not ready"):
        await site.call("script.stops_with_error")
    with pytest.raises(ScriptError, match=r"script\.bad_variable: variables: limit"):
        await site.call("script.bad_variable")
    assert site.state("script.fails") == "off"
    assert site.fired == []


async def test_last_triggered_is_restored_after_a_restart(plant: PlantFactory) -> None:
    site = await plant(NOTIFY)
    call = asyncio.ensure_future(site.call("script.notify_shift_lead", {"line": "a"}))
    await site.advance(30)
    await call
    config_dir = site.hub.config_dir
    await site.hub.async_stop()

    again = await plant(NOTIFY, config_dir=config_dir)
    await again.advance(timedelta(hours=1).total_seconds())
    assert again.attributes("script.notify_shift_lead")["last_triggered"] == START.isoformat()
    assert again.state("script.notify_shift_lead") == "off"
