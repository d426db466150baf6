"""Service-call actions: both spellings, data and target with templates, errors and
`continue_on_error`, `enabled: false`, and `event` actions."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from plantpulse.automations.trace import TraceStore
from plantpulse.core.exceptions import PlantPulseError
from plantpulse.core.services import ServiceCall, SupportsResponse
from tests.automations.conftest import Plant, PlantFactory


class Recorder:
    """A `test.record` service that keeps every call's data; `test.broken` always fails."""

    def __init__(self, site: Plant) -> None:
        self.calls: list[dict[str, Any]] = []
        site.hub.services.async_register("test", "record", self._record)
        site.hub.services.async_register("test", "broken", self._broken)
        site.hub.services.async_register("test", "crash", self._crash)

    def _record(self, call: ServiceCall) -> None:
        self.calls.append({"service": call.service, **call.data})

    @staticmethod
    def _broken(call: ServiceCall) -> None:
        raise PlantPulseError(f"line {call.data.get('line', '?')} does not answer")

    @staticmethod
    def _crash(_call: ServiceCall) -> None:
        raise RuntimeError("bug in a service")


def last_trace(site: Plant, item_id: str) -> dict[str, Any]:
    """The full trace of an automation's latest run."""
    store = TraceStore.of(site.hub)
    assert store is not None
    summary = store.list("automation", item_id)[-1]
    trace = store.get("automation", item_id, summary["run_id"])
    assert trace is not None
    return trace


async def test_both_spellings_with_data_target_and_templates(plant: PlantFactory) -> None:
    site = await plant("""
    automation:
      - id: call
        triggers:
          - trigger: state
            entity_id: sensor.line_load
        actions:
          - action: test.record
            data:
              message: "Load {{ trigger.to_state.state }} kW on {{ trigger.entity_id }}"
              level: "{{ 40 + 2 }}"
              fixed: [1, 2]
            target:
              entity_id: switch.fan
              area_id: [workshop, "{{ 'ware' ~ 'house' }}"]
              device_id: meter_1
          - service: test.record
            entity_id: "{{ 'switch.' ~ 'pump' }}"
            data_template:
              old: "{{ trigger.from_state.state }}"
    """, states={"sensor.line_load": "38"})
    recorder = Recorder(site)

    await site.set("sensor.line_load", "42.5")

    assert recorder.calls == [
        {"service": "record", "message": "Load 42.5 kW on sensor.line_load", "level": 42,
         "fixed": [1, 2], "entity_id": ["switch.fan"], "area_id": ["workshop", "warehouse"],
         "device_id": ["meter_1"]},
        {"service": "record", "entity_id": "switch.pump", "old": 38},
    ]


async def test_service_name_from_a_template(plant: PlantFactory) -> None:
    site = await plant("""
    automation:
      - triggers:
          - trigger: event
            event_type: go
        actions:
          - action: "test.{{ trigger.event.data.which }}"
            data: {n: 1}
    """)
    recorder = Recorder(site)

    site.hub.bus.async_fire("go", {"which": "record"})
    await site.hub.async_block_till_done()

    assert recorder.calls == [{"service": "record", "n": 1}]


async def test_target_area_reaches_entities_of_that_area(plant: PlantFactory) -> None:
    site = await plant("""
    automation:
      - id: hall_watch
        alias: Hall watch
        triggers: [{trigger: event, event_type: never}]
        actions: [{event: fired}]
      - id: yard_watch
        alias: Yard watch
        triggers: [{trigger: event, event_type: never}]
        actions: [{event: fired}]
      - alias: Switch the hall off
        triggers: [{trigger: event, event_type: go}]
        actions:
          - action: automation.turn_off
            target:
              area_id: hall
    """)
    hall = site.hub.area_registry.async_get_or_create("Hall")
    site.hub.entity_registry.async_update("automation.hall_watch", area_id=hall.id)

    site.hub.bus.async_fire("go", {})
    await site.hub.async_block_till_done()

    assert site.hub.states.get("automation.hall_watch").state == "off"
    assert site.hub.states.get("automation.yard_watch").state == "on"


async def test_target_ids_from_a_template_giving_a_list(plant: PlantFactory) -> None:
    site = await plant("""
    automation:
      - id: a_watch
        alias: A watch
        triggers: [{trigger: event, event_type: never}]
        actions: [{event: fired}]
      - id: b_watch
        alias: B watch
        triggers: [{trigger: event, event_type: never}]
        actions: [{event: fired}]
      - alias: Switch off
        triggers: [{trigger: event, event_type: go}]
        variables:
          watches: "{{ trigger.event.data.watches }}"
        actions:
          - action: automation.turn_off
            target:
              entity_id: "{{ watches }}"
          - action: test.record
            target:
              entity_id: "{{ watches | first }}"
              area_id: "hall, yard"
    """)
    recorder = Recorder(site)

    site.hub.bus.async_fire("go", {"watches": ["automation.a_watch", "automation.b_watch"]})
    await site.hub.async_block_till_done()

    assert site.hub.states.get("automation.a_watch").state == "off"
    assert site.hub.states.get("automation.b_watch").state == "off"
    assert recorder.calls == [{"service": "record", "entity_id": "automation.a_watch",
                               "area_id": ["hall", "yard"]}]


async def test_response_variable_holds_what_the_service_answered(plant: PlantFactory) -> None:
    site = await plant("""
    automation:
      - id: ask
        triggers: [{trigger: event, event_type: go}]
        actions:
          - action: test.shift
            data: {line: A}
            response_variable: shift
          - event: fired
            event_data: {id: "{{ shift.lead }} on line {{ shift.line }}"}
    """)
    site.hub.services.async_register(
        "test", "shift", lambda call: {"lead": "Wang", "line": call.data["line"]},
        supports_response=SupportsResponse.ONLY)

    site.hub.bus.async_fire("go", {})
    await site.hub.async_block_till_done()

    assert site.ids() == ["Wang on line A"]
    step = last_trace(site, "ask")["trace"]["action/0"][0]
    assert step["changed_variables"] == {"shift": {"lead": "Wang", "line": "A"}}


async def test_a_failing_call_ends_the_run_with_the_error_in_its_trace(
    plant: PlantFactory, caplog: pytest.LogCaptureFixture,
) -> None:
    site = await plant("""
    automation:
      - id: report
        triggers:
          - trigger: event
            event_type: go
        actions:
          - action: test.broken
            data: {line: 3}
          - event: fired
            event_data: {id: after}
    """)
    Recorder(site)

    site.hub.bus.async_fire("go", {})
    await site.hub.async_block_till_done()

    assert site.fired == []
    trace = last_trace(site, "report")
    assert trace["script_execution"] == "error"
    assert trace["error"] == "line 3 does not answer"
    assert trace["trace"]["action/0"][0]["error"] == "line 3 does not answer"
    assert "action/1" not in trace["trace"]
    errors = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert len(errors) == 1 and "line 3 does not answer" in errors[0].getMessage()
    # The hub carries on: the next trigger runs again.
    site.hub.bus.async_fire("go", {})
    await site.hub.async_block_till_done()
    assert len(TraceStore.of(site.hub).list("automation", "report")) == 2


async def test_continue_on_error_goes_on_after_a_failing_call(plant: PlantFactory) -> None:
    site = await plant("""
    automation:
      - id: report
        triggers:
          - trigger: event
            event_type: go
        actions:
          - action: test.broken
            continue_on_error: true
          - event: fired
            event_data: {id: after}
    """)
    Recorder(site)

    site.hub.bus.async_fire("go", {})
    await site.hub.async_block_till_done()

    assert site.ids() == ["after"]
    trace = last_trace(site, "report")
    assert trace["script_execution"] == "finished"
    assert trace["trace"]["action/0"][0]["error"] == "line ? does not answer"


@pytest.mark.parametrize(("action", "error"), [
    ("action: test.crash", "bug in a service"),
    ("action: test.missing", "test.missing"),
    ("action: automation.turn_off\n            data: {entity_id: not_an_id}",
     "Invalid data for automation.turn_off"),
    ("action: test.record\n            data: {x: '{{ 1 / 0 }}'}", "division by zero"),
])
async def test_continue_on_error_does_not_hide_mistakes(
    plant: PlantFactory, caplog: pytest.LogCaptureFixture, action: str, error: str,
) -> None:
    # As in Home Assistant: only errors the hub raises on purpose at run time are skipped; a
    # bug, a missing service, data a service refuses or a broken template stop the run.
    site = await plant(f"""
    automation:
      - id: report
        triggers:
          - trigger: event
            event_type: go
        actions:
          - {action}
            continue_on_error: true
          - event: fired
            event_data: {{id: after}}
    """)
    Recorder(site)

    site.hub.bus.async_fire("go", {})
    await site.hub.async_block_till_done()

    assert site.fired == []
    trace = last_trace(site, "report")
    assert trace["script_execution"] == "error"
    assert error in trace["error"]
    errors = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert len(errors) == 1


async def test_a_template_error_in_data_is_recorded_and_other_runs_go_on(
    plant: PlantFactory,
) -> None:
    site = await plant("""
    automation:
      - id: bad
        triggers:
          - trigger: event
            event_type: go
        actions:
          - action: test.record
            data:
              value: "{{ trigger.event.data.missing.deeper }}"
      - id: good
        triggers:
          - trigger: event
            event_type: go
        actions:
          - event: fired
            event_data: {id: good}
    """)
    recorder = Recorder(site)

    site.hub.bus.async_fire("go", {})
    await site.hub.async_block_till_done()

    assert recorder.calls == []
    assert site.ids() == ["good"]
    trace = last_trace(site, "bad")
    assert trace["script_execution"] == "error"
    assert "missing" in trace["trace"]["action/0"][0]["error"]


async def test_disabled_steps_are_skipped_and_keep_the_paths(plant: PlantFactory) -> None:
    site = await plant("""
    automation:
      - id: steps
        triggers:
          - trigger: event
            event_type: go
        actions:
          - event: fired
            event_data: {id: one}
          - event: fired
            enabled: false
            event_data: {id: two}
          - action: test.record
            enabled: false
          - event: fired
            event_data: {id: three}
    """)
    recorder = Recorder(site)

    site.hub.bus.async_fire("go", {})
    await site.hub.async_block_till_done()

    assert site.ids() == ["one", "three"]
    assert recorder.calls == []
    assert sorted(last_trace(site, "steps")["trace"]) == ["action/0", "action/3", "trigger/0"]


async def test_event_action_renders_its_data_and_carries_the_run_context(
    plant: PlantFactory,
) -> None:
    site = await plant("""
    automation:
      - triggers:
          - trigger: state
            entity_id: sensor.line_load
        actions:
          - event: line_report
            event_data:
              load: "{{ trigger.to_state.state }}"
              text: "{{ trigger.to_state.state }} kW"
              nested: {unit: kW, values: ["{{ 1 + 1 }}", 3]}
    """, states={"sensor.line_load": "38"})
    reports: list[Any] = []
    site.hub.bus.async_listen("line_report", reports.append)

    await site.set("sensor.line_load", "42")

    assert [event.data for event in reports] == [
        {"load": 42, "text": "42 kW", "nested": {"unit": "kW", "values": [2, 3]}}]
    cause = site.hub.states.get("sensor.line_load").context
    assert reports[0].context.parent_id == cause.id


async def test_an_unknown_action_is_reported_with_file_and_line(plant: PlantFactory) -> None:
    site = await plant("""
    automation:
      - alias: Good
        triggers: [{trigger: event, event_type: go}]
        actions: [{event: fired, event_data: {id: good}}]
      - alias: Bad
        triggers: [{trigger: event, event_type: go}]
        actions:
          - action: not a service
    """)

    site.hub.bus.async_fire("go", {})
    await site.hub.async_block_till_done()

    assert site.ids() == ["good"]
    assert site.hub.states.get("automation.bad") is None
    messages = [str(issue) for issue in site.hub.config_issues]
    assert any("invalid service 'not a service'" in text and "configuration.yaml" in text
               and "line 9" in text for text in messages), messages
