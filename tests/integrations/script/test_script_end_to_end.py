"""The deck's case through a script: line load above 40 kW after 17:00 makes an automation call
`script.notify_shift_lead` with data, and the script's notification reaches a real HTTP hook."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from plantpulse.core.events import Event
from tests.integrations.notify.servers import JsonReceiver
from tests.integrations.script.conftest import PlantFactory


@pytest.fixture
async def receiver() -> AsyncIterator[JsonReceiver]:
    """A JSON web hook receiver (apprise `json://`), listening on loopback."""
    server = JsonReceiver()
    await server.start()
    yield server
    await server.stop()


async def test_an_automation_notifies_the_shift_lead_through_a_script(
    plant: PlantFactory, receiver: JsonReceiver,
) -> None:
    site = await plant(f"""
notify:
  - name: shift_lead
    urls: {receiver.url("shift_lead")}
script:
  notify_shift_lead:
    alias: 通知班长
    fields:
      line: {{required: true, selector: {{text: {{}}}}}}
      load: {{required: true, selector: {{number: {{unit_of_measurement: kW}}}}}}
      title: {{default: 负荷告警}}
    sequence:
      - action: notify.shift_lead
        data:
          title: "{{{{ title }}}}"
          message: "{{{{ line }}}} 负荷 {{{{ load }}}} kW（17:00 后）"
automation:
  - alias: Line load high after 17:00
    triggers:
      - trigger: numeric_state
        entity_id: sensor.line_load
        above: 40
    conditions:
      - condition: time
        after: "17:00:00"
    actions:
      - action: script.notify_shift_lead
        data:
          line: 阳极氧化线
          load: "{{{{ trigger.to_state.state }}}}"
""")

    runs_ended: list[Event] = []
    both_queued = asyncio.Event()

    def ended(event: Event) -> None:
        if event.data["entity_id"] == "script.notify_shift_lead" and \
                event.data["new_state"].state == "off":
            runs_ended.append(event)
            if len(runs_ended) == 2:
                both_queued.set()

    site.hub.bus.async_listen("state_changed", ended)
    for value in ("35", "42", "45", "38", "43.5"):
        site.hub.states.async_set("sensor.line_load", value)
        await site.hub.async_block_till_done()
    # The runs wait in background tasks; then the notify integration posts over real HTTP.
    await asyncio.wait_for(both_queued.wait(), timeout=10)
    await site.hub.async_block_till_done()

    assert [(body["title"], body["message"]) for body in receiver.to("shift_lead")] == [
        ("负荷告警", "阳极氧化线 负荷 42 kW（17:00 后）"),
        ("负荷告警", "阳极氧化线 负荷 43.5 kW（17:00 后）"),
    ]
    assert site.state("script.notify_shift_lead") == "off"
