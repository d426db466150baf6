"""The WebSocket API with a real client: handshake, commands, subscriptions, bad input."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest

from plantpulse.core.auth.const import Role
from plantpulse.core.const import VERSION
from plantpulse.core.http.websocket import connection as ws_connection
from plantpulse.core.services import ServiceCall, SupportsResponse
from tests.core.http.conftest import Api


class Client:
    """A logged-in WebSocket client that numbers its messages."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.next_id = 1

    async def send(self, type_: str, **fields: Any) -> int:
        msg_id = self.next_id
        self.next_id += 1
        await self.ws.send_json({"id": msg_id, "type": type_, **fields})
        return msg_id

    async def receive(self) -> dict[str, Any]:
        return await self.ws.receive_json(timeout=5)

    async def command(self, type_: str, **fields: Any) -> dict[str, Any]:
        """Send a command and return its result message."""
        msg_id = await self.send(type_, **fields)
        message = await self.receive()
        assert message["id"] == msg_id, message
        return message


async def connect(api: Api, token: str) -> Client:
    ws = await api.session.ws_connect(api.url("/api/websocket"))
    assert await ws.receive_json() == {"type": "auth_required", "version": VERSION}
    await ws.send_json({"type": "auth", "access_token": token})
    assert await ws.receive_json() == {"type": "auth_ok", "version": VERSION}
    return Client(ws)


async def assert_closed(ws: aiohttp.ClientWebSocketResponse) -> None:
    message = await ws.receive(timeout=5)
    assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED), message


async def test_auth_required_then_invalid_token_closes(api: Api) -> None:
    ws = await api.session.ws_connect(api.url("/api/websocket"))
    assert (await ws.receive_json())["type"] == "auth_required"
    await ws.send_json({"type": "auth", "access_token": "forged.1.x"})
    assert await ws.receive_json() == {"type": "auth_invalid", "message": "Invalid access token."}
    await assert_closed(ws)


async def test_an_access_token_with_odd_digits_is_refused_not_crashed_on(api: Api) -> None:
    token = await api.token_for(Role.VIEWER)
    token_id, _expiry, signature = token.split(".")
    ws = await api.session.ws_connect(api.url("/api/websocket"))
    await ws.receive_json()
    await ws.send_json({"type": "auth", "access_token": f"{token_id}.²³.{signature}"})
    assert await ws.receive_json() == {"type": "auth_invalid", "message": "Invalid access token."}
    await assert_closed(ws)


@pytest.mark.parametrize("first", [
    '{"id": 1, "type": "get_states"}',
    "this is not json",
    '{"type": "auth"}',
])
async def test_messages_before_auth_are_refused(api: Api, first: str) -> None:
    ws = await api.session.ws_connect(api.url("/api/websocket"))
    await ws.receive_json()
    await ws.send_str(first)
    answer = await ws.receive_json()
    assert answer["type"] == "auth_invalid"
    assert answer["message"] == 'Authenticate first: send {"type": "auth", "access_token": "..."}.'
    await assert_closed(ws)


async def test_reads_and_bad_messages(api: Api) -> None:
    api.hub.states.async_set("sensor.line_power", "12.5", {"unit_of_measurement": "kW"})
    client = await connect(api, await api.token_for(Role.VIEWER))

    states = await client.command("get_states")
    assert states["type"] == "result" and states["success"] is True
    assert [s["entity_id"] for s in states["result"]] == ["sensor.line_power"]
    config = await client.command("get_config")
    assert config["result"]["version"] == VERSION
    services = await client.command("get_services")
    assert "create" in services["result"]["persistent_notification"]
    msg_id = await client.send("ping")
    assert await client.receive() == {"id": msg_id, "type": "pong"}
    me = await client.command("auth/current_user")
    assert me["result"]["role"] == "viewer"
    features = await client.command("supported_features", features={"coalesce_messages": 1})
    assert features["success"] is True
    notes = await client.command("persistent_notification/get")
    assert notes["success"] and isinstance(notes["result"], list)

    # Out of order, reused, unknown, malformed and non-JSON messages each get an error.
    await client.ws.send_json({"id": 2, "type": "get_states"})
    assert await client.receive() == {"id": 2, "type": "result", "success": False, "error": {
        "code": "id_reuse", "message": "Identifier values have to increase."}}
    unknown = await client.command("make_coffee")
    assert unknown["error"] == {"code": "unknown_command",
                                "message": "Unknown command make_coffee."}
    await client.ws.send_str("{broken")
    assert (await client.receive())["error"] == {"code": "invalid_format",
                                                 "message": "Message is not valid JSON."}
    await client.ws.send_json({"type": "get_states"})
    assert (await client.receive())["error"]["code"] == "invalid_format"
    bad_field = await client.command("subscribe_events", event_type="x", extra=1)
    assert bad_field["error"]["code"] == "invalid_format"
    assert "extra" in bad_field["error"]["message"]
    # The connection still works after all that.
    assert (await client.command("get_states"))["success"] is True
    await client.ws.close()


async def test_subscribe_and_unsubscribe_events(api: Api) -> None:
    hub = api.hub
    client = await connect(api, await api.token_for(Role.ADMIN))
    before = hub.bus.async_listeners().get("shift_change", 0)
    sub = await client.command("subscribe_events", event_type="shift_change")
    assert sub == {"id": sub["id"], "type": "result", "success": True, "result": None}
    hub.bus.async_fire("shift_change", {"shift": "B"})
    event = await client.receive()
    assert event["id"] == sub["id"] and event["type"] == "event"
    assert event["event"]["event_type"] == "shift_change"
    assert event["event"]["data"] == {"shift": "B"}
    assert set(event["event"]) == {"event_type", "data", "origin", "time_fired", "context"}

    everything = await client.command("subscribe_events")
    hub.states.async_set("sensor.a", "1")
    changed = await client.receive()
    assert changed["id"] == everything["id"]
    assert changed["event"]["data"]["new_state"]["state"] == "1"
    assert changed["event"]["data"]["old_state"] is None

    assert (await client.command("unsubscribe_events", subscription=sub["id"]))["success"]
    missing = await client.command("unsubscribe_events", subscription=sub["id"])
    assert missing["error"] == {"code": "not_found", "message": "Subscription not found."}
    assert hub.bus.async_listeners().get("shift_change", 0) == before
    await client.command("unsubscribe_events", subscription=everything["id"])
    hub.bus.async_fire("shift_change", {"shift": "C"})
    assert (await client.command("ping"))["type"] == "pong"

    # Closing the socket removes what it still subscribed to.
    await client.command("subscribe_events")
    assert hub.bus.async_listeners().get("*", 0) == 1
    await client.ws.close()
    for _ in range(50):
        if hub.bus.async_listeners().get("*", 0) == 0:
            break
        await asyncio.sleep(0.02)
    assert hub.bus.async_listeners().get("*", 0) == 0


async def test_non_admins_subscribe_only_to_what_they_may_read(api: Api) -> None:
    hub = api.hub
    hub.services.async_register("pump", "start", lambda call: None)
    for role in (Role.VIEWER, Role.OPERATOR):
        client = await connect(api, await api.token_for(role))
        for event_type in ("call_service", "shift_change", None):
            fields = {"event_type": event_type} if event_type else {}
            denied = await client.command("subscribe_events", **fields)
            assert denied["success"] is False and denied["error"]["code"] == "unauthorized"
            what = f"{event_type} events" if event_type else "every event"
            assert denied["error"]["message"].startswith(
                f"Your role ({role}) may not subscribe to {what}: only admins may.")
        for event_type in ("state_changed", "persistent_notifications_updated",
                           "entity_registry_updated", "area_registry_updated",
                           "device_registry_updated", "component_loaded",
                           "service_registered", "plantpulse_stop"):
            allowed = await client.command("subscribe_events", event_type=event_type)
            assert allowed["success"] is True, event_type
        await client.ws.close()

    # An operator's service call, with its data, reaches admins only.
    operator = await connect(api, await api.token_for(Role.OPERATOR))
    admin = await connect(api, await api.token_for(Role.ADMIN))
    watching = await admin.command("subscribe_events", event_type="call_service")
    await operator.command("call_service", domain="pump", service="start",
                           service_data={"secret": 1})
    seen = await admin.receive()
    assert seen["id"] == watching["id"]
    assert seen["event"]["data"]["service_data"] == {"secret": 1}
    await operator.ws.close()
    await admin.ws.close()


async def test_an_event_that_cannot_be_sent_as_json_is_skipped(api: Api) -> None:
    client = await connect(api, await api.token_for(Role.ADMIN))
    sub = await client.command("subscribe_events", event_type="reading")
    api.hub.bus.async_fire("reading", {"value": float("nan")})
    api.hub.bus.async_fire("reading", {"value": object()})
    api.hub.bus.async_fire("reading", {"value": 1.5})
    text = await client.ws.receive_str(timeout=5)
    assert "NaN" not in text
    event = json.loads(text)
    assert event["id"] == sub["id"] and event["event"]["data"] == {"value": 1.5}
    await client.ws.close()


async def test_subscribe_entities_sends_compressed_changes(api: Api) -> None:
    hub = api.hub
    hub.states.async_set("sensor.power", "10", {"unit_of_measurement": "kW", "phase": "L1"})
    hub.states.async_set("sensor.other", "x")
    client = await connect(api, await api.token_for(Role.VIEWER))

    sub = await client.command("subscribe_entities")
    assert sub["success"] and sub["result"] is None
    first = await client.receive()
    assert first["id"] == sub["id"] and first["type"] == "event"
    power = first["event"]["a"]["sensor.power"]
    assert power["s"] == "10" and power["a"] == {"unit_of_measurement": "kW", "phase": "L1"}
    assert isinstance(power["lc"], float) and isinstance(power["c"], str)
    assert set(first["event"]["a"]) == {"sensor.power", "sensor.other"}

    hub.states.async_set("sensor.power", "11", {"unit_of_measurement": "kW"})
    change = (await client.receive())["event"]["c"]["sensor.power"]
    assert change["+"]["s"] == "11" and "lc" in change["+"]
    assert "a" not in change["+"] and change["-"] == {"a": ["phase"]}
    hub.states.async_set("sensor.power", "11", {"unit_of_measurement": "MW"})
    change = (await client.receive())["event"]["c"]["sensor.power"]
    assert change["+"]["a"] == {"unit_of_measurement": "MW"}
    assert "s" not in change["+"] and "lu" in change["+"]
    hub.states.async_set("sensor.new", "5")
    assert (await client.receive())["event"]["a"]["sensor.new"]["s"] == "5"
    hub.states.async_remove("sensor.other")
    assert (await client.receive())["event"] == {"r": ["sensor.other"]}

    only = await client.command("subscribe_entities", entity_ids=["sensor.new"])
    assert list((await client.receive())["event"]["a"]) == ["sensor.new"]
    hub.states.async_set("sensor.power", "12")
    hub.states.async_set("sensor.new", "6")
    messages = [await client.receive(), await client.receive(), await client.receive()]
    for_only = [m for m in messages if m["id"] == only["id"]]
    assert [m["event"] for m in for_only] == [{"c": {"sensor.new": {"+": {
        "s": "6", "lc": hub.states.get("sensor.new").last_changed_timestamp,
        "c": hub.states.get("sensor.new").context.id}}}}]
    await client.ws.close()


async def test_call_service_and_fire_event_need_an_operator(api: Api) -> None:
    hub = api.hub

    def start(call: ServiceCall) -> None:
        for entity_id in call.data["entity_id"]:
            hub.states.async_set(entity_id, "on", context=call.context)

    hub.services.async_register("pump", "start", start)
    hub.services.async_register("energy", "report", lambda call: {"kwh": 42},
                                supports_response=SupportsResponse.ONLY)
    viewer = await connect(api, await api.token_for(Role.VIEWER))
    denied = await viewer.command("call_service", domain="pump", service="start",
                                  target={"entity_id": ["switch.p1"]})
    assert denied["success"] is False and denied["error"]["code"] == "unauthorized"
    assert hub.states.get("switch.p1") is None

    operator = await connect(api, await api.token_for(Role.OPERATOR))
    done = await operator.command("call_service", domain="pump", service="start",
                                  target={"entity_id": ["switch.p1"]})
    assert done["success"] is True and done["result"]["response"] is None
    assert done["result"]["context"]["user_id"] is not None
    assert hub.states.get("switch.p1").context.id == done["result"]["context"]["id"]
    report = await operator.command("call_service", domain="energy", service="report",
                                    return_response=True)
    assert report["result"]["response"] == {"kwh": 42}
    missing = await operator.command("call_service", domain="pump", service="explode")
    assert missing["error"] == {"code": "not_found", "message": "Service pump.explode not found."}
    fired = await operator.command("fire_event", event_type="shift_change",
                                   event_data={"shift": "A"})
    assert fired["success"] and fired["result"]["context"]["user_id"] is not None
    for hub_event in ("state_changed", "entity_registry_updated", "service_registered",
                      "persistent_notifications_updated", "plantpulse_started"):
        reserved = await operator.command("fire_event", event_type=hub_event)
        assert reserved["error"] == {"code": "unauthorized", "message": (
            f"Event type {hub_event} is fired only by the hub itself; fire an event type of "
            "your own instead.")}
    await viewer.ws.close()
    await operator.ws.close()


async def test_admin_only_services_answer_unauthorized_to_others(api: Api) -> None:
    calls = []
    api.hub.services.async_register("maintenance", "wipe_logs", calls.append, admin_only=True)
    operator = await connect(api, await api.token_for(Role.OPERATOR))
    denied = await operator.command("call_service", domain="maintenance", service="wipe_logs")
    assert denied["error"] == {"code": "unauthorized", "message": (
        "Service maintenance.wipe_logs is for admins only, and your role is operator: ask an "
        "admin to call it or to make you an admin.")}
    assert calls == []
    admin = await connect(api, await api.token_for(Role.ADMIN))
    done = await admin.command("call_service", domain="maintenance", service="wipe_logs")
    assert done["success"] is True and len(calls) == 1
    await operator.ws.close()
    await admin.ws.close()


async def test_registries_for_grouping_by_area(api: Api) -> None:
    hub = api.hub
    area = hub.area_registry.async_get_or_create("一号车间")
    device = hub.device_registry.async_get_or_create(
        "demo", [("demo", "meter-1")], "1号电表", suggested_area="一号车间")
    on_device = hub.entity_registry.async_get_or_create("sensor", "demo", "m1-power", "功率",
                                                        device.id)
    own_area = hub.entity_registry.async_get_or_create("sensor", "demo", "t1", "温度")
    hub.entity_registry.async_update(own_area.entity_id, area_id="outdoor")
    client = await connect(api, await api.token_for(Role.VIEWER))

    areas = (await client.command("config/area_registry/list"))["result"]
    assert {"area_id": area.id, "name": "一号车间", "parent_id": None, "icon": None} in areas
    devices = (await client.command("config/device_registry/list"))["result"]
    assert devices[0]["id"] == device.id and devices[0]["area_id"] == area.id
    entities = {e["entity_id"]: e for e in
                (await client.command("config/entity_registry/list"))["result"]}
    assert entities[on_device.entity_id]["area_id"] == area.id
    assert entities[on_device.entity_id]["device_id"] == device.id
    assert entities[on_device.entity_id]["original_name"] == "功率"
    assert entities[own_area.entity_id]["area_id"] == "outdoor"
    await client.ws.close()


async def test_long_lived_token_over_the_websocket_and_revocation_closes(api: Api) -> None:
    client = await connect(api, await api.token_for(Role.VIEWER))
    created = await client.command("auth/long_lived_access_token", client_name="kiosk",
                                   lifespan=30)
    token = created["result"]
    assert isinstance(token, str) and token.count(".") == 2
    kiosk = await connect(api, token)
    listed = (await client.command("auth/refresh_tokens"))["result"]
    kiosk_entry = next(t for t in listed if t["client_name"] == "kiosk")
    assert kiosk_entry["type"] == "long_lived_access_token"
    removed = await client.command("auth/delete_refresh_token",
                                   refresh_token_id=kiosk_entry["id"])
    assert removed["success"]
    await assert_closed(kiosk.ws)
    assert (await api.request("GET", "/api/", token))[0] == 401
    await client.ws.close()


async def test_a_client_that_falls_too_far_behind_is_cut_off(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ws_connection, "MAX_PENDING_MESSAGES", 100)
    client = await connect(api, await api.token_for(Role.ADMIN))
    await client.command("subscribe_events", event_type="burst")
    for index in range(500):
        api.hub.bus.async_fire("burst", {"index": index})
    received = 0
    while True:
        message = await client.ws.receive(timeout=5)
        if message.type is not aiohttp.WSMsgType.TEXT:
            break
        received += 1
    assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    assert received <= 100
    assert client.ws.close_code == aiohttp.WSCloseCode.POLICY_VIOLATION
    assert not api.hub.data["http"].websockets


async def test_websocket_refuses_a_banned_address(api_factory) -> None:
    api = await api_factory(http_extra="  login_attempts_threshold: 2\n")
    for _ in range(2):
        ws = await api.session.ws_connect(api.url("/api/websocket"))
        await ws.receive_json()
        await ws.send_str(json.dumps({"type": "auth", "access_token": "forged"}))
        assert (await ws.receive_json())["type"] == "auth_invalid"
        await ws.close()
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await api.session.ws_connect(api.url("/api/websocket"))
    assert refused.value.status == 429
