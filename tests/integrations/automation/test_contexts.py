"""Who caused what, as Home Assistant users read it from events: contexts link a user's call
to the automation run it started and to the state changes that run made."""

from __future__ import annotations

from plantpulse.core.events import Context, Event
from tests.conftest import HubFactory

CONFIG = """
alarm:
automation:
  - id: pump_overload
    alias: Pump overload
    triggers:
      - trigger: numeric_state
        entity_id: sensor.pump_current
        above: 90
    actions:
      - action: alarm.raise
        data: {key: pump_overload, severity: major, message: "Pump overload"}
"""


async def test_a_manual_trigger_links_the_run_to_the_callers_context(
    hub_factory: HubFactory,
) -> None:
    hub = await hub_factory(CONFIG)
    seen: list[Event] = []
    hub.bus.async_listen("automation_triggered", seen.append)
    hub.bus.async_listen("alarm_raised", seen.append)
    call = Context(user_id="user-owner")
    await hub.services.async_call("automation", "trigger",
                                  {"entity_id": "automation.pump_overload"}, context=call)
    await hub.async_block_till_done()

    triggered, raised = seen
    assert triggered.event_type == "automation_triggered"
    assert triggered.data == {"name": "Pump overload", "entity_id": "automation.pump_overload",
                              "source": "manual trigger"}
    assert triggered.context.parent_id == call.id
    assert triggered.context.user_id is None  # the run acts as the system, as in HA
    assert raised.context is triggered.context
    alarm = hub.states.get("alarm.pump_overload")
    assert alarm is not None and alarm.context is triggered.context
    assert alarm.attributes["count"] == 1


async def test_state_changes_carry_the_call_that_made_them(hub_factory: HubFactory) -> None:
    hub = await hub_factory(CONFIG)
    hub.states.async_set("sensor.pump_current", "80")
    writer = Context(user_id="user-operator")
    hub.states.async_set("sensor.pump_current", "95", context=writer)
    await hub.async_block_till_done()
    raised = hub.states.get("alarm.pump_overload")
    assert raised is not None and raised.context.parent_id == writer.id
    assert raised.attributes["raised_at"] is not None

    acknowledging = Context(user_id="user-owner")
    await hub.services.async_call("alarm", "acknowledge", {"key": "pump_overload"},
                                  context=acknowledging)
    assert hub.states.get("alarm.pump_overload").context is acknowledging
    assert hub.states.get("sensor.active_alarms").context is acknowledging

    await hub.services.async_call("automation", "turn_off",
                                  {"entity_id": "automation.pump_overload"}, context=acknowledging)
    assert hub.states.get("automation.pump_overload").context is acknowledging
