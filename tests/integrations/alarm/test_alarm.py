"""The life of an alarm: raise, repeat, acknowledge, clear; its entity, events and API; who
acknowledged; and what comes back after a restart."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from plantpulse.core.auth.const import Role
from plantpulse.core.clock import ManualClock
from plantpulse.core.events import Context
from plantpulse.core.exceptions import ServiceValidationError
from tests.conftest import HubFactory
from tests.core.http.test_websocket import connect
from tests.integrations.alarm.conftest import ApiHub, events_of

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
PUMP = {"zh-CN": "一号循环泵过载", "en": "Pump 1 overload"}


async def test_raise_repeat_acknowledge_clear(hub_factory: HubFactory) -> None:
    clock = ManualClock(T0)
    hub = await hub_factory("alarm:\n", clock=clock)
    seen = events_of(hub, "alarm_raised", "alarm_updated", "alarm_acknowledged",
                     "alarm_cleared")
    hub.states.async_set("sensor.pump_1_current", "98.5", {"friendly_name": "一号泵 电流"})

    raised = await hub.services.async_call("alarm", "raise", {
        "key": "pump_1_overload", "severity": "major", "message": PUMP,
        "source": "sensor.pump_1_current", "snapshot": "media/pump_1.jpg",
        "data": {"current": 98.5},
    }, return_response=True)
    assert raised["entity_id"] == "alarm.pump_1_overload"
    state = hub.states.get("alarm.pump_1_overload")
    assert state.state == "active"
    assert state.attributes["friendly_name"] == "一号循环泵过载"
    assert state.attributes["messages"] == PUMP
    assert (state.attributes["severity"], state.attributes["source"],
            state.attributes["snapshot"], state.attributes["count"]) == (
        "major", "sensor.pump_1_current", "media/pump_1.jpg", 1)
    assert state.attributes["raised_at"] == T0.isoformat()
    assert hub.states.get("sensor.active_alarms").state == "1"

    await clock.advance(60)
    await hub.services.async_call("alarm", "raise", {
        "key": "pump_1_overload", "severity": "critical", "message": PUMP,
        "data": {"current": 104.0},
    })
    state = hub.states.get("alarm.pump_1_overload")
    assert (state.attributes["count"], state.attributes["severity"]) == (2, "critical")
    assert state.attributes["last_raised_at"] == "2026-03-02T01:01:00+00:00"
    assert state.attributes["snapshot"] == "media/pump_1.jpg"
    assert [entity.entity_id for entity in hub.entities.all("alarm")] == [
        "sensor.active_alarms", "alarm.pump_1_overload"]

    await clock.advance(60)
    await hub.services.async_call("alarm", "acknowledge",
                                  {"entity_id": "alarm.pump_1_overload", "note": "维修班已出发"})
    state = hub.states.get("alarm.pump_1_overload")
    assert state.state == "acknowledged"
    assert (state.attributes["acknowledged_by"], state.attributes["note"]) == (
        "system", "维修班已出发")
    assert hub.states.get("sensor.active_alarms").attributes["unacknowledged"] == 0

    await clock.advance(60)
    cleared = await hub.services.async_call("alarm", "clear", {"key": "pump_1_overload"},
                                            return_response=True)
    assert cleared["cleared"]["cleared_at"] == "2026-03-02T01:03:00+00:00"
    assert hub.states.get("alarm.pump_1_overload") is None
    assert hub.states.get("sensor.active_alarms").state == "0"
    assert await hub.services.async_call("alarm", "clear", {"key": "pump_1_overload"},
                                         return_response=True) == {"cleared": None}

    assert [(kind, data["state"], data["count"]) for kind, data in seen] == [
        ("alarm_raised", "active", 1), ("alarm_updated", "active", 2),
        ("alarm_acknowledged", "acknowledged", 2), ("alarm_cleared", "cleared", 2),
    ]
    _kind, data = seen[0]
    assert (data["key"], data["severity"], data["message"], data["source"]) == (
        "pump_1_overload", "major", "一号循环泵过载", "sensor.pump_1_current")
    assert len({data["id"] for _kind, data in seen}) == 1

    again = await hub.data["alarm"].async_raise("pump_1_overload", "minor", "again")
    assert again.id != raised["id"] and again.count == 1


async def test_integrations_raise_through_the_python_api(hub_factory: HubFactory) -> None:
    hub = await hub_factory("plantpulse:\n  language: en\nalarm:\n")
    alarms = hub.data["alarm"]
    alarm = await alarms.async_raise("vibration_fan_3", "warning",
                                     {"en": "Fan 3 vibration rising"},
                                     data={"velocity_mm_s": 7.1})
    assert alarm.messages == {"zh-CN": "Fan 3 vibration rising", "en": "Fan 3 vibration rising"}
    assert hub.states.get("alarm.vibration_fan_3").attributes["friendly_name"] == (
        "Fan 3 vibration rising")
    await alarms.async_raise("一号窑 温度高", "critical", "一号窑温度 1450 ℃")
    assert [item.key for item in alarms.active()] == ["一号窑 温度高", "vibration_fan_3"]
    assert alarms.get("一号窑 温度高").entity_id == "alarm.yi_hao_yao_wen_du_gao"

    with pytest.raises(ValueError, match="severity"):
        await alarms.async_raise("x", "urgent", "text")
    with pytest.raises(ValueError, match="message"):
        await alarms.async_raise("x", "minor", {"fr": "texte"})
    with pytest.raises(ValueError, match="data"):
        await alarms.async_raise("x", "minor", "big", data={"blob": "x" * 10_000})
    with pytest.raises(ValueError, match="No active alarm"):
        await alarms.async_acknowledge("never_raised")
    with pytest.raises(ServiceValidationError, match="not an active alarm"):
        await hub.services.async_call("alarm", "acknowledge", {"entity_id": "alarm.nothing"})
    with pytest.raises(ServiceValidationError, match="key or by its entity_id"):
        await hub.services.async_call("alarm", "clear", {})


async def test_acknowledged_by_the_calling_user_over_rest(api_hub: ApiHub) -> None:
    api = await api_hub("alarm:\n")
    await api.add_user("wang.li", Role.OPERATOR, "王力")
    token = (await api.login("wang.li"))["access_token"]
    await api.hub.data["alarm"].async_raise("compressor_2_trip", "critical", "二号空压机跳闸")

    status, body = await api.request("POST", "/api/services/alarm/acknowledge", token,
                                     json={"key": "compressor_2_trip"})
    assert status == 200, body
    alarm = api.hub.data["alarm"].get("compressor_2_trip")
    assert alarm.acknowledged_by == "wang.li"

    status, body = await api.request("GET", "/api/alarms", token)
    assert status == 200
    [listed] = body["alarms"]
    assert (listed["key"], listed["state"], listed["acknowledged_by"]) == (
        "compressor_2_trip", "acknowledged", "wang.li")

    client = await connect(api, token)
    reply = await client.command("alarm/list")
    assert reply["success"] and reply["result"]["alarms"][0]["key"] == "compressor_2_trip"
    await client.ws.close()

    user_id = next(user.id for user in api.hub.data["auth"].data.users.values()
                   if user.username == "wang.li")
    await api.hub.data["alarm"].async_raise("fan_1", "minor", "fan")
    await api.hub.data["alarm"].async_acknowledge("fan_1", context=Context(user_id=user_id))
    assert api.hub.data["alarm"].get("fan_1").acknowledged_by == "wang.li"


async def test_active_alarms_survive_a_restart(hub_factory: HubFactory, tmp_path) -> None:
    folder = tmp_path / "plant"
    clock = ManualClock(T0)
    hub = await hub_factory("alarm:\n", config_dir=folder, clock=clock)
    alarms = hub.data["alarm"]
    await alarms.async_raise("pump_1_overload", "major", PUMP, source="sensor.pump_1_current")
    await alarms.async_raise("pump_1_overload", "major", PUMP)
    await alarms.async_raise("kiln_temp", "critical", "窑温过高")
    await alarms.async_acknowledge("kiln_temp", user="zhang.san", note="已降料")
    await alarms.async_raise("door_open", "warning", "门未关")
    await alarms.async_clear("door_open")
    await hub.async_stop()

    hub = await hub_factory("alarm:\n", config_dir=folder, clock=clock)
    alarms = hub.data["alarm"]
    assert [alarm.key for alarm in alarms.active()] == ["kiln_temp", "pump_1_overload"]
    pump = hub.states.get("alarm.pump_1_overload")
    assert (pump.state, pump.attributes["count"], pump.attributes["raised_at"]) == (
        "active", 2, T0.isoformat())
    kiln = hub.states.get("alarm.kiln_temp")
    assert (kiln.state, kiln.attributes["acknowledged_by"], kiln.attributes["note"]) == (
        "acknowledged", "zhang.san", "已降料")
    assert hub.states.get("alarm.door_open") is None
    assert hub.states.get("sensor.active_alarms").state == "2"
    cleared = await alarms.async_clear("pump_1_overload")
    assert cleared is not None and cleared.count == 2


async def test_config_problems_name_the_place(hub_factory: HubFactory) -> None:
    hub = await hub_factory(
        "alarm:\n"
        "  notify:\n    critical: [ops_sms]\n    urgent: [ops_sms]\n"
        "  escalation:\n    - after: '00:10:00'\n    - after: '00:20:00'\n      notify: boss\n"
        "  flapping: false\n"
    )
    messages = [str(issue) for issue in hub.config_issues]
    assert any("urgent" in text and "line 4" in text for text in messages), messages
    assert any("notify" in text and "line 6" in text for text in messages), messages
    manager = hub.data["alarm"]
    assert manager.config.notify == {}  # the broken mapping is dropped, the rest runs
    assert [step.notify for step in manager.config.escalation] == [("boss",)]
    assert not manager.config.flapping.enabled
