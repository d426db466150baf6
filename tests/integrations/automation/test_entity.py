"""Automation entities: ids from aliases, on/off, last_triggered, the services, initial_state
and the state kept over a restart."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from plantpulse.automations.trace import TraceStore
from plantpulse.core.clock import ManualClock
from plantpulse.core.hub import Hub
from plantpulse.core.services import ServiceCall
from tests.conftest import HubFactory

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

CONFIG = """
automation:
  - id: load_watch
    alias: Line load high
    triggers:
      - trigger: numeric_state
        entity_id: sensor.line_load
        above: 40
    conditions:
      - condition: state
        entity_id: input_boolean.production
        state: "on"
    actions:
      - event: fired
        event_data:
          id: "{{ trigger.to_state.state if trigger.to_state is defined else 'manual' }}"
          note: "{{ note | default('') }}"
      - delay: 60
      - event: fired
        event_data: {id: done}
  - alias: 夜班巡检 Night round
    initial_state: false
    triggers: [{trigger: event, event_type: round}]
    actions: [{event: fired, event_data: {id: round}}]
"""


async def start(hub_factory: HubFactory, text: str = CONFIG, **kwargs: Any
                ) -> tuple[Hub, ManualClock, list[Any]]:
    """A started hub on a ManualClock, and the data of every `fired` event it sees."""
    clock = ManualClock(START)
    hub = await hub_factory(text, clock=clock, start=False, **kwargs)
    fired: list[Any] = []
    hub.bus.async_listen("fired", lambda event: fired.append(event.data["id"]))
    hub.states.async_set("sensor.line_load", "30")
    hub.states.async_set("input_boolean.production", "on")
    await hub.async_start()
    await hub.async_block_till_done()
    return hub, clock, fired


async def set_load(hub: Hub, value: str) -> None:
    hub.states.async_set("sensor.line_load", value)
    await hub.async_block_till_done()


async def call(hub: Hub, service: str, **data: Any) -> None:
    await hub.services.async_call("automation", service, data)
    await hub.async_block_till_done()


async def test_entities_named_from_aliases_with_their_attributes(
    hub_factory: HubFactory,
) -> None:
    hub, _clock, _fired = await start(hub_factory)

    load = hub.states.get("automation.line_load_high")
    assert load.state == "on"
    assert load.attributes == {
        "friendly_name": "Line load high", "id": "load_watch", "last_triggered": None,
        "mode": "single", "current": 0,
    }
    night = [state for state in hub.states.all("automation") if state.entity_id != load.entity_id]
    assert len(night) == 1
    assert night[0].state == "off"  # initial_state: false
    assert night[0].attributes["friendly_name"] == "夜班巡检 Night round"


async def test_a_run_sets_last_triggered_and_current(hub_factory: HubFactory) -> None:
    hub, clock, fired = await start(hub_factory)

    await clock.advance(30)
    await set_load(hub, "42")
    state = hub.states.get("automation.line_load_high")
    assert state.attributes["last_triggered"] == "2026-03-02T09:00:30+00:00"
    assert state.attributes["current"] == 1
    await clock.advance(60)

    assert fired == [42, "done"]
    assert hub.states.get("automation.line_load_high").attributes["current"] == 0


async def test_failed_conditions_do_not_set_last_triggered(hub_factory: HubFactory) -> None:
    hub, _clock, fired = await start(hub_factory)
    hub.states.async_set("input_boolean.production", "off")

    await set_load(hub, "42")

    assert fired == []
    assert hub.states.get("automation.line_load_high").attributes["last_triggered"] is None
    summaries = TraceStore.of(hub).list("automation", "load_watch")
    assert [item["script_execution"] for item in summaries] == ["failed_conditions"]


async def test_turn_off_stops_triggering_and_the_running_run(hub_factory: HubFactory) -> None:
    hub, clock, fired = await start(hub_factory)
    await set_load(hub, "42")

    await call(hub, "turn_off", entity_id="automation.line_load_high")
    await clock.advance(60)
    await set_load(hub, "30")
    await set_load(hub, "45")

    assert fired == [42]
    assert hub.states.get("automation.line_load_high").state == "off"
    executions = [item["script_execution"]
                  for item in TraceStore.of(hub).list("automation", "load_watch")]
    assert executions == ["cancelled"]


async def test_turn_off_with_stop_actions_false_lets_the_run_finish(
    hub_factory: HubFactory,
) -> None:
    hub, clock, fired = await start(hub_factory)
    await set_load(hub, "42")

    await call(hub, "turn_off", entity_id="automation.line_load_high", stop_actions=False)
    await clock.advance(60)

    assert fired == [42, "done"]


async def test_turn_on_and_toggle(hub_factory: HubFactory) -> None:
    hub, clock, fired = await start(hub_factory)
    await call(hub, "turn_off", entity_id="automation.line_load_high")
    await set_load(hub, "42")
    await set_load(hub, "30")

    await call(hub, "turn_on", entity_id="automation.line_load_high")
    await set_load(hub, "43")
    await clock.advance(60)
    await call(hub, "toggle", entity_id="automation.line_load_high")
    await set_load(hub, "30")
    await set_load(hub, "44")
    assert hub.states.get("automation.line_load_high").state == "off"
    await call(hub, "toggle", entity_id="automation.line_load_high")

    assert hub.states.get("automation.line_load_high").state == "on"
    assert fired == [43, "done"]


async def test_trigger_service_skips_conditions_unless_told(hub_factory: HubFactory) -> None:
    hub, clock, fired = await start(hub_factory)
    hub.states.async_set("input_boolean.production", "off")

    await call(hub, "trigger", entity_id="automation.line_load_high",
               variables={"note": "by hand"})
    await clock.advance(60)
    await call(hub, "trigger", entity_id="automation.line_load_high", skip_condition=False)
    await clock.advance(60)

    assert fired == ["manual", "done"]
    summaries = TraceStore.of(hub).list("automation", "load_watch")
    assert [item["script_execution"] for item in summaries] == ["finished",
                                                                "failed_conditions"]
    assert summaries[0]["trigger"] == "manual trigger"


async def test_trigger_service_runs_an_automation_that_is_off(hub_factory: HubFactory) -> None:
    # As in Home Assistant: `trigger` runs the actions even while the automation is off.
    hub, _clock, fired = await start(hub_factory)
    night = next(state.entity_id for state in hub.states.all("automation")
                 if state.state == "off")

    hub.bus.async_fire("round", {})
    await hub.async_block_till_done()
    await call(hub, "trigger", entity_id=night)

    assert fired == ["round"]


async def test_off_stays_off_after_a_restart_and_last_triggered_is_kept(
    hub_factory: HubFactory,
) -> None:
    hub, clock, _fired = await start(hub_factory)
    await set_load(hub, "42")
    await clock.advance(60)
    await call(hub, "turn_off", entity_id="automation.line_load_high")
    night = next(state.entity_id for state in hub.states.all("automation")
                 if state.entity_id != "automation.line_load_high")
    await call(hub, "turn_on", entity_id=night)
    await hub.async_stop()

    again, _clock, fired = await start(hub_factory, config_dir=hub.config_dir)
    await set_load(again, "30")
    await set_load(again, "45")

    load = again.states.get("automation.line_load_high")
    assert load.state == "off"
    assert load.attributes["last_triggered"] == "2026-03-02T09:00:00+00:00"
    assert fired == []
    # initial_state wins over the restored state, as in Home Assistant.
    assert again.states.get(night).state == "off"


async def test_initial_state_true_overrides_a_restored_off(hub_factory: HubFactory) -> None:
    text = CONFIG.replace("    alias: Line load high\n",
                          "    alias: Line load high\n    initial_state: true\n")
    hub, _clock, _fired = await start(hub_factory, text)
    await call(hub, "turn_off", entity_id="automation.line_load_high")
    await hub.async_stop()

    again, _clock, fired = await start(hub_factory, text, config_dir=hub.config_dir)
    await set_load(again, "45")

    assert again.states.get("automation.line_load_high").state == "on"
    assert fired == [45]


async def test_automations_start_triggering_once_the_hub_has_started(
    hub_factory: HubFactory,
) -> None:
    clock = ManualClock(START)
    hub = await hub_factory(CONFIG, clock=clock, start=False)
    fired: list[Any] = []
    hub.bus.async_listen("fired", lambda event: fired.append(event.data["id"]))
    hub.states.async_set("input_boolean.production", "on")
    hub.states.async_set("sensor.line_load", "30")
    hub.states.async_set("sensor.line_load", "50")
    await hub.async_block_till_done()
    assert fired == []

    await hub.async_start()
    await hub.async_block_till_done()
    await set_load(hub, "30")
    await set_load(hub, "50")

    assert fired == [50]


async def test_stopping_the_hub_ends_runs_and_lets_shutdown_automations_finish(
    hub_factory: HubFactory,
) -> None:
    text = CONFIG + """
  - id: goodbye
    triggers: [{trigger: plantpulse, event: shutdown}]
    actions:
      - action: test.slow_goodbye
      - event: fired
        event_data: {id: goodbye}
"""
    hub, _clock, fired = await start(hub_factory, text)
    said: list[str] = []

    async def slow_goodbye(_call: ServiceCall) -> None:
        await asyncio.sleep(0.05)  # real I/O, such as a mail going out
        said.append("goodbye")

    hub.services.async_register("test", "slow_goodbye", slow_goodbye)
    await set_load(hub, "42")  # now in its 60 s delay
    await hub.async_stop()

    assert said == ["goodbye"] and fired == [42, "goodbye"]
    again, _clock, _fired = await start(hub_factory, text, config_dir=hub.config_dir)
    store = TraceStore.of(again)
    assert [item["script_execution"] for item in store.list("automation", "load_watch")] == [
        "cancelled"]
    assert [item["script_execution"] for item in store.list("automation", "goodbye")] == [
        "finished"]
