"""`webhook` trigger over real HTTP on loopback, and the hub's start/shutdown triggers."""

from __future__ import annotations

import aiohttp
import pytest

from plantpulse.automations.triggers.webhook import is_local
from plantpulse.integrations.automation import automation_entities
from tests.automations.conftest import PlantFactory
from tests.conftest import free_port

HOOK = "3f9c2a77e1b04d8e9a6c5b1f0d2e4a6c8b0d2f4a6c8e0a2c4e6a8c0e2a4c6e8a"
OTHER_HOOK = "b7e1c9d3f5a7b9c1d3e5f7a9b1c3d5e7f9a1b3c5d7e9f1a3b5c7d9e1f3a5b7c9"


def webhook_config(port: int) -> str:
    return f"""
    http:
      server_host: 127.0.0.1
      server_port: {port}
      use_x_forwarded_for: true
      trusted_proxies: 127.0.0.1
    automation:
      - triggers:
          - trigger: webhook
            webhook_id: {HOOK}
        actions:
          - event: fired
            event_data:
              method: "{{{{ trigger.method }}}}"
              json: "{{{{ trigger.json }}}}"
              form: "{{{{ trigger.data }}}}"
              query: "{{{{ trigger.query }}}}"
      - triggers:
          - trigger: webhook
            webhook_id: {OTHER_HOOK}
            allowed_methods: [GET]
            local_only: false
        actions:
          - event: fired
            event_data:
              method: "{{{{ trigger.method }}}}"
    """


async def test_webhook_json_form_query_and_unknown_ids(plant: PlantFactory) -> None:
    port = free_port()
    site = await plant(webhook_config(port))
    base = f"http://127.0.0.1:{port}/api/webhook"

    async with aiohttp.ClientSession() as session:
        async with session.post(f"{base}/{HOOK}", json={"line": "L1", "load": 42}) as reply:
            assert reply.status == 200
        async with session.post(f"{base}/{HOOK}?source=plc",
                                data={"line": "L2", "load": "43"}) as reply:
            assert reply.status == 200
        # An unknown id answers like a known one (200, empty), so ids cannot be probed.
        async with session.post(f"{base}/not-a-webhook", json={}) as reply:
            assert reply.status == 200
            assert await reply.read() == b""
        # The default methods are POST and PUT: a GET is ignored.
        async with session.get(f"{base}/{HOOK}") as reply:
            assert reply.status == 200
        async with session.get(f"{base}/{OTHER_HOOK}") as reply:
            assert reply.status == 200
    await site.hub.async_block_till_done()

    assert site.fired == [
        {"method": "POST", "json": {"line": "L1", "load": 42}, "form": "", "query": {}},
        {"method": "POST", "json": "", "form": {"line": "L2", "load": "43"},
         "query": {"source": "plc"}},
        {"method": "GET"},
    ]


async def test_local_only_webhook_ignores_calls_from_outside(plant: PlantFactory) -> None:
    port = free_port()
    site = await plant(webhook_config(port))
    base = f"http://127.0.0.1:{port}/api/webhook"

    async with aiohttp.ClientSession() as session:
        # Through a trusted proxy on 127.0.0.1, the caller is the forwarded public address.
        outside = {"X-Forwarded-For": "203.0.113.9"}
        async with session.post(f"{base}/{HOOK}", json={}, headers=outside) as reply:
            assert reply.status == 200
        async with session.get(f"{base}/{OTHER_HOOK}", headers=outside) as reply:
            assert reply.status == 200
        lan = {"X-Forwarded-For": "192.168.10.20"}
        async with session.put(f"{base}/{HOOK}", json={"from": "lan"}, headers=lan) as reply:
            assert reply.status == 200
    await site.hub.async_block_till_done()

    assert [event["method"] for event in site.fired] == ["GET", "PUT"]


@pytest.mark.parametrize(("address", "local"), [
    ("127.0.0.1", True), ("::1", True), ("10.1.2.3", True), ("172.20.0.5", True),
    ("192.168.1.5", True), ("169.254.3.4", True), ("fe80::1", True), ("fd12:3456::1", True),
    ("::ffff:192.168.1.5", True), ("8.8.8.8", False), ("203.0.113.9", False),
    ("100.64.1.1", False), ("2001:db8::1", False), ("unknown", False),
])
def test_which_callers_are_local(address: str, local: bool) -> None:
    assert is_local(address) is local


async def test_a_webhook_id_used_twice_is_attached_once(plant: PlantFactory) -> None:
    site = await plant(f"""
    automation:
      - id: first
        triggers:
          - trigger: webhook
            webhook_id: {HOOK}
        actions:
          - event: fired
      - id: second
        triggers:
          - trigger: webhook
            webhook_id: {HOOK}
          - trigger: event
            event_type: still_works
        actions:
          - event: fired
            event_data: {{id: second}}
    """)

    site.hub.bus.async_fire("still_works")
    await site.hub.async_block_till_done()

    assert site.fired == [{"id": "second"}]


async def test_start_and_shutdown_in_both_spellings(plant: PlantFactory) -> None:
    site = await plant("""
    automation:
      - triggers:
          - trigger: homeassistant
            event: start
          - platform: plantpulse
            event: shutdown
        actions:
          - event: fired
            event_data:
              platform: "{{ trigger.platform }}"
              event: "{{ trigger.event }}"
      - triggers:
          - platform: homeassistant
            event: shutdown
        actions:
          - event: fired
            event_data: {id: second}
    """)
    assert site.fired == [{"platform": "plantpulse", "event": "start"}]

    # A reload is not a start: nothing fires again.
    await site.hub.services.async_call("automation", "reload", {})
    await site.hub.async_block_till_done()
    assert len(site.fired) == 1

    await site.hub.async_stop()

    assert site.fired[1:] == [{"platform": "plantpulse", "event": "shutdown"},
                              {"id": "second"}]


async def test_start_trigger_of_an_automation_turned_on_later_does_not_fire(
    plant: PlantFactory,
) -> None:
    site = await plant("""
    automation:
      - alias: On start
        initial_state: false
        triggers:
          - trigger: homeassistant
            event: start
        actions:
          - event: fired
    """)

    await site.hub.services.async_call("automation", "turn_on",
                                       {"entity_id": "automation.on_start"})
    await site.hub.async_block_till_done()

    assert site.fired == []
    assert automation_entities(site.hub)["on_start"].is_on
