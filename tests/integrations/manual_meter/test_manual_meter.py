"""Manual meter reading (人工抄表): readings at the time they were read, checks against the
readings around them, meter replacement, restore, REST through the services API."""

from __future__ import annotations

from datetime import UTC, datetime

import aiohttp
import pytest

from plantpulse.core.auth.audit import Actor
from plantpulse.core.auth.const import Role
from plantpulse.core.clock import ManualClock
from plantpulse.core.exceptions import ServiceValidationError
from plantpulse.core.hub import Hub
from plantpulse.core.recorder import get_recorder
from tests.conftest import HubFactory, free_port

CONFIG = """
plantpulse:
  time_zone: Asia/Shanghai
recorder:
  commit_interval: 0
  auto_purge: false
manual_meter:
  water_main:
    name: 总水表
    energy_type: water
    meter_id: W-2024-001
  boiler_gas:
    energy_type: natural_gas
    unit: Nm³
"""
NOW = datetime(2024, 3, 2, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai


async def record(hub: Hub, **data: object) -> None:
    await hub.services.async_call("manual_meter", "record_reading",
                                  {"entity_id": "sensor.water_main", **data})


async def test_meters_are_total_increasing_sensors(hub_factory: HubFactory) -> None:
    hub = await hub_factory(CONFIG, clock=ManualClock(NOW))
    water = hub.states.get("sensor.water_main")
    assert water is not None and water.state == "unknown"
    assert water.attributes == {
        "state_class": "total_increasing", "unit_of_measurement": "m³", "device_class": "water",
        "energy_type": "water", "meter_id": "W-2024-001", "friendly_name": "总水表"}
    gas = hub.states.get("sensor.boiler_gas")
    assert gas is not None and gas.attributes["unit_of_measurement"] == "Nm³"


async def test_readings_checked_against_the_ones_around_them(hub_factory: HubFactory) -> None:
    clock = ManualClock(NOW)
    hub = await hub_factory(CONFIG, clock=clock)
    await record(hub, reading=100.0, time="2024-03-01T09:00:00+08:00")
    await record(hub, reading=130.0)  # now
    await clock.advance(60)
    state = hub.states.get("sensor.water_main")
    assert state is not None and state.state == "130.0"
    assert state.measured_timestamp == NOW.timestamp()
    with pytest.raises(ServiceValidationError, match=r"below the previous reading 130 at "
                       r"2024-03-02T09:00:00\+08:00; if the meter was replaced"):
        await record(hub, reading=129.0)
    with pytest.raises(ServiceValidationError, match="above the later reading 130"):
        await record(hub, reading=131.0, time="2024-03-01T21:00:00+08:00")
    with pytest.raises(ServiceValidationError, match="below the previous reading 100"):
        await record(hub, reading=99.0, time="2024-03-01T21:00:00")  # site time
    with pytest.raises(ServiceValidationError, match="in the future"):
        await record(hub, reading=140.0, time="2024-03-03T09:00:00+08:00")
    with pytest.raises(ServiceValidationError, match="not a manual meter"):
        await hub.services.async_call("manual_meter", "record_reading",
                                      {"entity_id": "sensor.other", "reading": 1})
    # a reading entered late keeps its time: the state stays the newest, history has it
    await record(hub, reading=115.0, time="2024-03-01T21:00:00+08:00")
    state = hub.states.get("sensor.water_main")
    assert state is not None and state.state == "130.0"
    rec = get_recorder(hub)
    assert rec is not None
    await rec.async_flush()
    history = await rec.async_get_history(["sensor.water_main"],
                                          datetime(2024, 3, 1, tzinfo=UTC))
    assert [(row["state"], row["last_updated"]) for row in history["sensor.water_main"]] == [
        ("100.0", "2024-03-01T01:00:00+00:00"), ("115.0", "2024-03-01T13:00:00+00:00"),
        ("130.0", "2024-03-02T01:00:00+00:00")]


async def test_meter_replacement(hub_factory: HubFactory) -> None:
    clock = ManualClock(NOW)
    hub = await hub_factory(CONFIG, clock=clock)
    await record(hub, reading=9000.0, time="2024-03-01T09:00:00+08:00")
    with pytest.raises(ServiceValidationError, match="needs previous_final_reading"):
        await record(hub, reading=2.0, replaced=True)
    with pytest.raises(ServiceValidationError, match="previous_final_reading 8000 is below"):
        await record(hub, reading=2.0, replaced=True, previous_final_reading=8000)
    with pytest.raises(ServiceValidationError, match="must be below 90%"):
        await record(hub, reading=9500.0, replaced=True, previous_final_reading=9600)
    await record(hub, reading=2.0, replaced=True, previous_final_reading=9040)
    await clock.advance(3600)
    await record(hub, reading=12.0)
    rec = get_recorder(hub)
    assert rec is not None
    await rec.async_flush()
    history = await rec.async_get_history(["sensor.water_main"],
                                          datetime(2024, 3, 1, tzinfo=UTC))
    assert [(row["state"], row["last_updated"]) for row in history["sensor.water_main"]] == [
        ("9000.0", "2024-03-01T01:00:00+00:00"), ("9040.0", "2024-03-02T00:59:59.999999+00:00"),
        ("2.0", "2024-03-02T01:00:00+00:00"), ("12.0", "2024-03-02T02:00:00+00:00")]


async def test_readings_are_restored_after_a_restart(hub_factory: HubFactory, tmp_path) -> None:
    folder = tmp_path / "plant"
    hub = await hub_factory(CONFIG, config_dir=folder, clock=ManualClock(NOW))
    await record(hub, reading=100.0, time="2024-03-01T09:00:00+08:00")
    await record(hub, reading=130.0)
    await hub.async_stop()
    hub = await hub_factory(CONFIG, config_dir=folder, clock=ManualClock(NOW))
    state = hub.states.get("sensor.water_main")
    assert state is not None and state.state == "130.0"
    with pytest.raises(ServiceValidationError, match="above the later reading 130"):
        await record(hub, reading=140.0, time="2024-03-01T21:00:00+08:00")


async def test_rest_through_the_services_api(hub_factory: HubFactory) -> None:
    port = free_port()
    clock = ManualClock(NOW)
    hub = await hub_factory(f"{CONFIG}http:\n  server_host: 127.0.0.1\n  server_port: {port}\n",
                            clock=clock)
    await hub.data["auth"].async_create_user(Actor("test"), "op", "correct horse 42",
                                             Role.OPERATOR)
    base = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{base}/auth/token", data={
            "grant_type": "password", "username": "op", "password": "correct horse 42",
            "client_id": "http://test/"}) as response:
            token = (await response.json())["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        url = f"{base}/api/services/manual_meter/record_reading"
        async with session.post(url, headers=headers, json={
                "entity_id": "sensor.water_main", "reading": 50}) as response:
            assert response.status == 200, await response.text()
        await clock.advance(60)
        async with session.post(url, headers=headers, json={
                "entity_id": "sensor.water_main", "reading": 40}) as response:
            assert response.status == 400
            assert "below the previous reading 50" in (await response.json())["message"]
    state = hub.states.get("sensor.water_main")
    assert state is not None and state.state == "50.0"


async def test_the_reading_says_who_entered_it(hub_factory: HubFactory) -> None:
    from plantpulse.core.events import Context

    hub = await hub_factory(CONFIG, clock=ManualClock(NOW))
    entered = Context(user_id="user-meter-reader")
    await hub.services.async_call("manual_meter", "record_reading",
                                  {"entity_id": "sensor.water_main", "reading": 42.0},
                                  context=entered)
    assert hub.states.get("sensor.water_main").context is entered
