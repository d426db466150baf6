"""Scripts called by automations and by other scripts: data, responses, waiting or not,
stopping, recursion, and the run modes."""

from __future__ import annotations

import asyncio
import logging

import pytest

from tests.integrations.script.conftest import PlantFactory

SHIFT_LEAD = """
script:
  notify_shift_lead:
    fields:
      line: {required: true}
      load: {required: true, selector: {number: {}}}
    sequence:
      - event: fired
        event_data:
          message: "{{ line }} at {{ load }} kW"
      - variables:
          receipt: {sent_to: shift_lead, line: "{{ line }}"}
      - stop: sent
        response_variable: receipt
"""


async def test_an_automation_calls_a_script_with_data_and_gets_its_response(
    plant: PlantFactory,
) -> None:
    site = await plant(SHIFT_LEAD + """
automation:
  - alias: Evening load
    triggers:
      - trigger: numeric_state
        entity_id: sensor.line_load
        above: 40
    actions:
      - action: script.notify_shift_lead
        data:
          line: anodizing
          load: "{{ trigger.to_state.state }}"
        response_variable: result
      - event: fired
        event_data:
          message: "receipt for {{ result.line }} to {{ result.sent_to }}"
""")

    site.hub.states.async_set("sensor.line_load", "35")
    site.hub.states.async_set("sensor.line_load", "42")
    await site.hub.async_block_till_done()

    assert site.messages() == ["anodizing at 42 kW", "receipt for anodizing to shift_lead"]
    assert site.attributes("script.notify_shift_lead")["last_triggered"] is not None


async def test_scripts_call_scripts_waiting_or_not(plant: PlantFactory) -> None:
    site = await plant("""
    script:
      inner:
        mode: parallel
        fields:
          step: {required: true}
        sequence:
          - delay: 10
          - event: fired
            event_data: {message: "inner {{ step }}"}
          - stop: done
            response_variable: answer
        variables:
          answer: {step: "{{ step }}"}
      outer:
        sequence:
          - action: script.inner
            data: {step: waited}
            response_variable: got
          - event: fired
            event_data: {message: "outer after {{ got.step }}"}
          - action: script.turn_on
            target: {entity_id: script.inner}
            data:
              variables: {step: started}
          - event: fired
            event_data: {message: outer done}
    """)

    call = asyncio.ensure_future(site.call("script.outer"))
    await site.advance(10)
    assert site.messages() == ["inner waited", "outer after waited", "outer done"]
    await call
    assert site.state("script.inner") == "on"  # the run started by turn_on goes on
    await site.advance(10)
    assert site.messages()[-1] == "inner started"
    assert site.state("script.inner") == "off"


async def test_stopping_a_caller_stops_the_script_it_waits_for(plant: PlantFactory) -> None:
    site = await plant("""
    script:
      slow:
        sequence:
          - delay: 60
          - event: fired
            event_data: {message: slow finished}
      caller:
        sequence:
          - action: script.slow
          - event: fired
            event_data: {message: caller finished}
    """)

    await site.call("script.turn_on", {"entity_id": "script.caller"})
    await site.advance(1)
    assert site.state("script.slow") == "on"
    await site.call("script.turn_off", {"entity_id": "script.caller"})
    await site.hub.async_block_till_done()
    assert site.state("script.slow") == "off"
    await site.advance(120)
    assert site.fired == []


async def test_a_script_that_would_wait_for_itself_is_refused(
    plant: PlantFactory, caplog: pytest.LogCaptureFixture,
) -> None:
    site = await plant("""
    script:
      ping:
        mode: queued
        sequence:
          - event: fired
            event_data: {message: ping}
          - action: script.pong
      pong:
        sequence:
          - action: script.ping
    """)

    with caplog.at_level(logging.WARNING):
        await asyncio.wait_for(site.call("script.ping"), timeout=5)
    assert site.messages() == ["ping"]
    assert "Script ping called itself through ping -> pong" in caplog.text
    assert site.state("script.ping") == "off"


async def test_run_modes(plant: PlantFactory, caplog: pytest.LogCaptureFixture) -> None:
    site = await plant("""
    script:
      single_run:
        sequence: &work
          - event: fired
            event_data: {message: "{{ this.entity_id }} {{ n }}"}
          - delay: 10
      restarted:
        mode: restart
        sequence:
          - event: fired
            event_data: {message: "restart {{ n }}"}
          - delay: 10
          - event: fired
            event_data: {message: "restart {{ n }} done"}
      queue:
        mode: queued
        max: 2
        sequence: *work
      side_by_side:
        mode: parallel
        sequence: *work
    """)

    async def start(script: str, n: int) -> None:
        await site.call("script.turn_on", {"entity_id": script, "variables": {"n": n}})

    with caplog.at_level(logging.WARNING):
        await start("script.single_run", 1)
        await start("script.single_run", 2)
    assert site.messages() == ["script.single_run 1"]
    assert "already running; this run is dropped (mode single)" in caplog.text

    site.fired.clear()
    await start("script.restarted", 1)
    await site.advance(5)
    await start("script.restarted", 2)
    await site.advance(10)
    assert site.messages() == ["restart 1", "restart 2", "restart 2 done"]

    site.fired.clear()
    for n in (1, 2, 3):
        await start("script.queue", n)
    assert site.attributes("script.queue")["current"] == 2  # the third is over max
    await site.advance(10)
    assert site.messages() == ["script.queue 1", "script.queue 2"]

    site.fired.clear()
    for n in (1, 2, 3):
        await start("script.side_by_side", n)
    await site.hub.async_block_till_done()
    assert site.messages() == [f"script.side_by_side {n}" for n in (1, 2, 3)]
    attributes = site.attributes("script.side_by_side")
    assert (attributes["mode"], attributes["current"], attributes["max"]) == ("parallel", 3, 10)
    await site.advance(10)
    assert site.state("script.side_by_side") == "off"
