"""`plantpulse bench modbus_poll`: 50 meters × 30 registers on one Modbus TCP line.

A MeterSimulator (a real pymodbus server) runs in a child process on loopback, so the hub's
process measures only its own side. The hub is built from YAML by the same bootstrap
`plantpulse run` uses; each meter has 15 float32 sensors at 0x0000-0x001D (one contiguous
block). A cycle polls all 50 meters at once, as their timers do when they fall due together,
and ends when every meter's entities are written.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import socket
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path

from plantpulse.core.bench import BenchOptions, Figure, benchmark
from plantpulse.core.bootstrap import async_setup_hub

METERS = 50
REGISTERS = 30
# One connection, as to a serial gateway: requests go one at a time.
CONNECTIONS = 1
WARMUP_CYCLES = 5
CYCLES = 100


def _serve(port: int, ready: Connection) -> None:
    """The child process: the simulator until the parent closes the pipe."""
    from plantpulse.integrations.modbus.simulator import MeterSimulator, SimRegion

    async def main() -> None:
        server = MeterSimulator(
            {device: (SimRegion("holding", 0, REGISTERS),) for device in range(1, METERS + 1)},
            port=port,
        )
        await server.async_start()
        for device in range(1, METERS + 1):
            for value in range(REGISTERS // 2):
                server.set_value(device, 2 * value, 230.0 + device + value / 10)
        ready.send("ready")
        await asyncio.get_running_loop().run_in_executor(None, ready.recv_bytes)
        await server.async_stop()

    with contextlib.suppress(EOFError):
        asyncio.run(main())


def _config(port: int) -> str:
    sensors = "".join(
        f"          - {{name: v{value}, address: {2 * value}, data_type: float32,"
        " unit_of_measurement: V, device_class: voltage, state_class: measurement}\n"
        for value in range(REGISTERS // 2)
    )
    devices = "".join(
        f"      - name: meter {device}\n        device_id: {device}\n        sensors:\n{sensors}"
        for device in range(1, METERS + 1)
    )
    return (
        "plantpulse:\n  name: bench\n  time_zone: UTC\n"
        "modbus:\n  - name: bench line\n    host: 127.0.0.1\n"
        f"    port: {port}\n    connections: {CONNECTIONS}\n    scan_interval: 3600\n"
        f"    devices:\n{devices}"
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@benchmark("modbus_poll", "registers/s")
def modbus_poll(_options: BenchOptions) -> Figure:
    """50 meters × 30 registers over Modbus TCP on loopback: registers read per second."""
    port = _free_port()
    parent, child = multiprocessing.get_context("spawn").Pipe()
    server = multiprocessing.get_context("spawn").Process(target=_serve, args=(port, child))
    server.start()
    try:
        if not parent.poll(30):
            raise RuntimeError("the Modbus simulator did not start")
        parent.recv()
        return asyncio.run(_async_measure(port))
    finally:
        parent.close()
        server.join(10)
        if server.is_alive():
            server.kill()


async def _async_measure(port: int) -> Figure:
    with tempfile.TemporaryDirectory(prefix="plantpulse-bench-") as folder:
        (Path(folder) / "configuration.yaml").write_text(_config(port), encoding="utf-8")
        hub = await async_setup_hub(Path(folder))
        await hub.async_start()
        await hub.async_block_till_done()
        try:
            devices = hub.data["modbus"]
            line = devices[0].line
            failed = [d.name for d in devices if not d.coordinator.last_update_success]
            if failed:
                raise RuntimeError(f"meters not answering: {failed}")

            async def cycle() -> None:
                await asyncio.gather(*(d.coordinator.async_refresh() for d in devices))

            for _ in range(WARMUP_CYCLES):
                await cycle()
            requests_before = line.requests
            times = []
            for _ in range(CYCLES):
                start = time.perf_counter()
                await cycle()
                times.append(time.perf_counter() - start)
            if not all(d.coordinator.last_update_success for d in devices):
                raise RuntimeError("a meter failed during the measurement")
            total = sum(times)
            times.sort()
            return Figure(METERS * REGISTERS * CYCLES / total, {
                "cycle ms (mean)": total / CYCLES * 1000,
                "cycle ms (p95)": times[int(CYCLES * 0.95) - 1] * 1000,
                "requests per cycle": (line.requests - requests_before) / CYCLES,
                "blocks per meter": len(devices[0].blocks),
            })
        finally:
            await hub.async_stop()
