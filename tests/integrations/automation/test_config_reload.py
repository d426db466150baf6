"""Where automations come from (`!include automations.yaml`, packages), duplicate ids, and
`automation.reload` after editing the files on disk."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime
from typing import Any

import pytest

from plantpulse.automations.trace import TraceStore
from plantpulse.core.clock import ManualClock
from plantpulse.core.exceptions import ServiceValidationError
from plantpulse.core.hub import Hub
from tests.conftest import HubFactory

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

MAIN = """
plantpulse:
  packages: !include_dir_named packages
automation: !include automations.yaml
"""

AUTOMATIONS = """
- id: line_a
  alias: Line A
  triggers: [{trigger: event, event_type: go}]
  actions:
    - event: fired
      event_data: {id: a1}

- id: line_b
  alias: Line B
  mode: queued
  triggers: [{trigger: event, event_type: go}]
  actions:
    - delay: 60
    - event: fired
      event_data: {id: b1}
"""

PACKAGE = """
automation:
  - id: press
    alias: Press line
    triggers: [{trigger: event, event_type: go}]
    actions:
      - event: fired
        event_data: {id: press}
"""


async def start(hub_factory: HubFactory, files: dict[str, str]
                ) -> tuple[Hub, ManualClock, list[Any]]:
    clock = ManualClock(START)
    hub = await hub_factory(MAIN, extra_files=files, clock=clock)
    fired: list[Any] = []
    hub.bus.async_listen("fired", lambda event: fired.append(event.data["id"]))
    return hub, clock, fired


async def go(hub: Hub) -> None:
    hub.bus.async_fire("go", {})
    await hub.async_block_till_done()


def write(hub: Hub, name: str, text: str) -> None:
    (hub.config_dir / name).write_text(textwrap.dedent(text), encoding="utf-8")


def problems(hub: Hub) -> str | None:
    """The text of the notification listing the automations' configuration problems."""
    for notification in hub.notifications.all():
        if notification.notification_id == "invalid_config_automation":
            return notification.message
    return None


async def reload(hub: Hub) -> None:
    await hub.services.async_call("automation", "reload", {})
    await hub.async_block_till_done()


async def test_automations_from_an_include_and_from_packages(hub_factory: HubFactory) -> None:
    hub, clock, fired = await start(hub_factory, {"automations.yaml": AUTOMATIONS,
                                                  "packages/press.yaml": PACKAGE})

    await go(hub)
    await clock.advance(60)

    assert sorted(fired) == ["a1", "b1", "press"]
    assert sorted(hub.states.entity_ids("automation")) == [
        "automation.line_a", "automation.line_b", "automation.press_line"]


async def test_a_duplicate_id_names_both_places(hub_factory: HubFactory) -> None:
    hub, _clock, fired = await start(hub_factory, {
        "automations.yaml": AUTOMATIONS,
        "packages/press.yaml": PACKAGE.replace("id: press", "id: line_a"),
    })

    await go(hub)

    messages = [str(issue) for issue in hub.config_issues]
    duplicate = [text for text in messages if "duplicate" in text]
    assert len(duplicate) == 1, messages
    assert "duplicate id 'line_a'" in duplicate[0]
    assert "automations.yaml, line 2" in duplicate[0]
    assert "press.yaml, line 3" in duplicate[0]
    # The first keeps running, the second is left out.
    assert hub.states.get("automation.press_line") is None
    assert sorted(fired) == ["a1"]


async def test_a_duplicate_id_in_one_file(hub_factory: HubFactory) -> None:
    hub, _clock, _fired = await start(hub_factory, {
        "automations.yaml": AUTOMATIONS.replace("id: line_b", "id: line_a")})

    duplicate = [str(issue) for issue in hub.config_issues if "duplicate" in str(issue)]

    assert len(duplicate) == 1
    assert "automations.yaml, line 2" in duplicate[0]
    assert "automations.yaml, line 9" in duplicate[0]


async def test_reload_applies_edits_and_keeps_unchanged_runs(hub_factory: HubFactory) -> None:
    hub, clock, fired = await start(hub_factory, {"automations.yaml": AUTOMATIONS,
                                                  "packages/press.yaml": PACKAGE})
    await go(hub)  # line_b now waits 60 s
    await clock.advance(30)
    assert sorted(fired) == ["a1", "press"]
    fired.clear()

    write(hub, "automations.yaml", AUTOMATIONS.replace("{id: a1}", "{id: a2}"))
    write(hub, "packages/press.yaml", "{}\n")
    await reload(hub)

    assert hub.states.get("automation.press_line") is None
    assert hub.states.get("automation.line_b").attributes["current"] == 1
    await clock.advance(30)
    assert fired == ["b1"]  # the unchanged automation's run went on
    await go(hub)
    await clock.advance(60)
    assert sorted(fired) == ["a2", "b1", "b1"]


async def test_reload_picks_up_a_new_automation_and_forgets_removed_traces(
    hub_factory: HubFactory,
) -> None:
    hub, _clock, fired = await start(hub_factory, {"automations.yaml": AUTOMATIONS,
                                                  "packages/press.yaml": PACKAGE})
    await go(hub)
    store = TraceStore.of(hub)
    assert store.list("automation", "press")

    write(hub, "packages/press.yaml", PACKAGE.replace("{id: press}", "{id: two}")
          .replace("id: press", "id: press_2").replace("Press line", "Press line two"))
    await reload(hub)
    fired.clear()
    await go(hub)

    assert "two" in fired and "press" not in fired
    assert hub.states.get("automation.press_line_two").state == "on"
    assert store.list("automation", "press") == []


async def test_reload_reports_a_broken_automation_and_runs_the_rest(
    hub_factory: HubFactory,
) -> None:
    hub, _clock, fired = await start(hub_factory, {"automations.yaml": AUTOMATIONS,
                                                  "packages/press.yaml": PACKAGE})

    write(hub, "automations.yaml", AUTOMATIONS.replace("event_type: go}]\n  actions:\n"
                                                       "    - event: fired\n",
                                                       "event_type: go}]\n  actions:\n"
                                                       "    - delay: soon\n", 1))
    await reload(hub)
    await go(hub)

    assert hub.states.get("automation.line_a") is None
    assert "press" in fired
    assert "automations.yaml, line 6" in problems(hub)

    write(hub, "automations.yaml", AUTOMATIONS)
    await reload(hub)
    assert problems(hub) is None
    assert hub.states.get("automation.line_a").state == "on"


async def test_reload_keeps_the_turned_off_state_of_an_unchanged_automation(
    hub_factory: HubFactory,
) -> None:
    hub, _clock, _fired = await start(hub_factory, {"automations.yaml": AUTOMATIONS})
    await hub.services.async_call("automation", "turn_off", {"entity_id": "automation.line_a"})

    await reload(hub)

    assert hub.states.get("automation.line_a").state == "off"


async def test_reload_keeps_off_and_last_triggered_of_an_edited_automation(
    hub_factory: HubFactory,
) -> None:
    hub, clock, fired = await start(hub_factory, {"automations.yaml": AUTOMATIONS})
    await clock.advance(5)
    await go(hub)
    await hub.services.async_call("automation", "turn_off", {"entity_id": "automation.line_a"})

    write(hub, "automations.yaml", AUTOMATIONS.replace("{id: a1}", "{id: a2}"))
    await reload(hub)
    await go(hub)

    line_a = hub.states.get("automation.line_a")
    assert line_a.state == "off"
    assert line_a.attributes["last_triggered"] == "2026-03-02T09:00:05+00:00"
    assert "a2" not in fired


async def test_reload_of_an_unreadable_file_changes_nothing(hub_factory: HubFactory) -> None:
    hub, _clock, fired = await start(hub_factory, {"automations.yaml": AUTOMATIONS})

    write(hub, "configuration.yaml", "automation: [\n")
    with pytest.raises(ServiceValidationError, match="nothing was changed"):
        await hub.services.async_call("automation", "reload", {})
    await go(hub)

    assert "a1" in fired
