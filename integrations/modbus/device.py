"""One device on a line: its read plan, its poller with backoff, and decoding of answers."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING

from plantpulse.core.coordinator import Coordinator, UpdateFailed
from plantpulse.integrations.modbus.codec import decode
from plantpulse.integrations.modbus.connection import Line, ReadError
from plantpulse.integrations.modbus.multiplier import RatioSchedule
from plantpulse.integrations.modbus.plan import Block, plan_reads
from plantpulse.integrations.modbus.spec import ValueSpec

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub

Reading = dict[str, float | bool | None]


class ModbusDevice:
    """Polls one device id on a line; `coordinator.data` maps value keys to raw numbers.

    Numbers are decoded and scaled (`raw × scale + offset`) but not yet multiplied by the
    transformer ratios: the entities apply those at the time of the reading.
    """

    def __init__(
        self, hub: Hub, line: Line, name: str, device_id: int, values: Sequence[ValueSpec],
        max_gap: int, ratios: RatioSchedule, scan_interval: timedelta,
        manufacturer: str | None = None, model: str | None = None,
    ) -> None:
        self.line = line
        self.name = name
        self.device_id = device_id
        self.values = tuple(values)
        self.ratios = ratios
        self.manufacturer = manufacturer
        self.model = model
        self.blocks = plan_reads((value.span for value in self.values), max_gap)
        self._placement = [
            (value, index, block.offset(value.span))
            for value in self.values
            for index, block in enumerate(self.blocks)
            if block.table == value.table and block.address <= value.address
            and value.span.end <= block.address + block.count
        ]
        self.read_at: float | None = None
        self.coordinator: Coordinator[Reading] = Coordinator(
            hub, f"Modbus {line.name} {name} (id {device_id})", self._async_poll, scan_interval,
        )
        self._clock = hub.clock

    @property
    def unique_prefix(self) -> str:
        """The start of this device's entities' unique ids: line name and device id."""
        return f"modbus_{self.line.name}_{self.device_id}"

    async def _async_poll(self) -> Reading:
        answers: list[list[int] | list[bool]] = []
        for block in self.blocks:
            try:
                answers.append(await self.line.async_read(self.device_id, block))
            except ReadError as err:
                raise UpdateFailed(str(err)) from err
        self.read_at = self._clock.time()
        return self.decode(answers)

    def decode(self, answers: Sequence[Sequence[int] | Sequence[bool]]) -> Reading:
        """Values from the answers to `self.blocks` (in order)."""
        reading: Reading = {}
        for value, index, offset in self._placement:
            answer = answers[index]
            if value.is_bit:
                reading[value.key] = bool(answer[offset])
                continue
            number = decode(answer[offset:offset + value.span.count],  # type: ignore[arg-type]
                            value.data_type, value.word_order, value.byte_order)  # type: ignore[arg-type]
            if isinstance(number, float) and not math.isfinite(number):
                reading[value.key] = None
                continue
            scaled = number * value.scale + value.offset
            # Whole numbers scaled by whole numbers stay whole (a counter reads 93, not 93.0).
            whole = isinstance(number, int) and scaled.is_integer() and (
                value.scale.is_integer() and value.offset.is_integer())
            reading[value.key] = int(scaled) if whole else scaled
        return reading


def block_summary(blocks: Sequence[Block]) -> str:
    """`holding 0x2000+44, holding 0x2044+2` for logs."""
    return ", ".join(f"{block.table} {block.address:#06x}+{block.count}" for block in blocks)
