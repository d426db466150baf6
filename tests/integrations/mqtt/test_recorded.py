"""Buffered gateway readings over MQTT land in the statistics periods they were measured in."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from pytest import approx

from plantpulse.core.recorder import get_recorder
from tests.integrations.mqtt.conftest import Broker, state_of, wait_until

HOUR = 3600
# The start of the UTC hour two hours ago: its 5-minute periods are closed.
P = int(time.time() // HOUR * HOUR) - 2 * HOUR


def at(seconds: float) -> datetime:
    return datetime.fromtimestamp(P + seconds, UTC)


def label(seconds: float) -> str:
    return at(seconds).astimezone(ZoneInfo("Asia/Shanghai")).isoformat()


async def test_buffered_readings_fill_their_own_periods(
    broker: Broker, gateway, hub_factory
) -> None:
    hub = await hub_factory("recorder:\n  commit_interval: 0\n" + broker.yaml("""
  sensor:
    - name: Kiln meter
      state_topic: gw/kiln/energy
      json_path: kwh
      timestamp_path: ts
      unit_of_measurement: kWh
      device_class: energy
      state_class: total_increasing
"""))
    await wait_until(lambda: hub.data["mqtt"].connected)
    meter = "sensor.kiln_meter"
    # The gateway was cut off for two hours; it sends its buffer, oldest first, then now.
    for minute, kwh in ((0, 1000.0), (5, 1004.0), (10, 1010.5), (15, 1011.0)):
        await gateway.publish("gw/kiln/energy", json.dumps(
            {"kwh": kwh, "ts": at(minute * 60).isoformat()}))
    await gateway.publish("gw/kiln/energy", json.dumps({"kwh": 1200.0, "ts": time.time()}))
    await wait_until(lambda: state_of(hub, meter) == "1200.0")
    # A reading the gateway found later in its buffer is filed under its own time.
    await gateway.publish("gw/kiln/energy", json.dumps(
        {"kwh": 1007.0, "ts": at(7 * 60).isoformat()}))
    rec = get_recorder(hub)
    await wait_until(lambda: hub.states.get(meter).state == "1200.0")

    async def changes() -> list[tuple[str, float | None]]:
        rows = await rec.async_get_statistics([meter], "5minute", at(0), at(20 * 60),
                                              types={"change"})
        return [(row["start"], row["change"]) for row in rows.get(meter, [])]

    # Each reading counts in the period it was measured in: 1000 at :00, 1004 at :05, the
    # late 1007 at :07, 1010.5 at :10, 1011 at :15.
    expected = [(label(0), 0.0), (label(300), 7.0), (label(600), 3.5), (label(900), 0.5)]
    deadline = time.monotonic() + 5
    while (found := await changes()) != expected and time.monotonic() < deadline:
        await rec.async_flush()  # the late reading recompiles a closed period
    assert found == [(start, approx(change)) for start, change in expected]
