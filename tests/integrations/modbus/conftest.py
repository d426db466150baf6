"""A real pymodbus server speaking the CHINT DTSU666 register map, for the Modbus tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass

import pytest

from plantpulse.core.hub import Hub
from plantpulse.core.states import State
from plantpulse.integrations.modbus.simulator import MeterSimulator, SimRegion

# The DTSU666 defines 0x2000-0x2045 (electrical values) and 0x4000-0x4031 (energies).
DTSU666_REGIONS = (SimRegion("holding", 0x2000, 0x46), SimRegion("holding", 0x4000, 0x32))


@dataclass
class Dtsu666Reading:
    """What a DTSU666 on a 200/5 A CT measures, on its secondary side, in plain units."""

    voltage: float = 230.1
    current: float = 1.234
    power_factor: float = 0.95
    frequency: float = 50.0
    import_kwh: float = 12345.67
    export_kwh: float = 0.0

    @property
    def power_w(self) -> float:
        """Three phases of voltage × current × power factor."""
        return 3 * self.voltage * self.current * self.power_factor


def load_dtsu666(server: MeterSimulator, device_id: int, reading: Dtsu666Reading) -> None:
    """Write `reading` in the standard firmware's units (0.1 V, 0.001 A, 0.1 W...)."""
    for offset in range(3):
        server.set_value(device_id, 0x2000 + 2 * offset, reading.voltage * 3**0.5 * 10)
        server.set_value(device_id, 0x2006 + 2 * offset, reading.voltage * 10)
        server.set_value(device_id, 0x200C + 2 * offset, reading.current * 1000)
        server.set_value(device_id, 0x2014 + 2 * offset, reading.power_w / 3 * 10)
    server.set_value(device_id, 0x2012, reading.power_w * 10)
    server.set_value(device_id, 0x202A, reading.power_factor * 1000)
    server.set_value(device_id, 0x2044, reading.frequency * 100)
    server.set_value(device_id, 0x401E, reading.import_kwh)
    server.set_value(device_id, 0x4028, reading.export_kwh)


@pytest.fixture
async def meter_server() -> AsyncIterator[MeterSimulator]:
    """Devices 1 and 3 are DTSU666 meters; device 2 a machine with holding, input and coils."""
    server = MeterSimulator({
        1: DTSU666_REGIONS,
        2: (SimRegion("holding", 0, 40), SimRegion("input", 0, 10), SimRegion("coil", 0, 16)),
        3: DTSU666_REGIONS,
    })
    await server.async_start()
    load_dtsu666(server, 1, Dtsu666Reading())
    load_dtsu666(server, 3, Dtsu666Reading(voltage=229.0, current=0.5, import_kwh=100.0))
    yield server
    await server.async_stop()


def by_name(hub: Hub) -> Mapping[str, State]:
    """Every state by its friendly name (`1号进线 有功功率`)."""
    return {state.attributes.get("friendly_name", state.entity_id): state
            for state in hub.states.all()}
