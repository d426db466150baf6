"""Read planning: the fewest requests that cover every value a device's sensors need.

Values of one table (holding, input, coil, discrete input) are sorted by address and merged
into one request while the hole between them is at most `max_gap` and the request stays within
the protocol's limit (125 registers or 2000 bits per read).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

HOLDING: Final = "holding"
INPUT: Final = "input"
COIL: Final = "coil"
DISCRETE_INPUT: Final = "discrete_input"
TABLES: Final = (HOLDING, INPUT, COIL, DISCRETE_INPUT)
BIT_TABLES: Final = (COIL, DISCRETE_INPUT)

# Modbus application protocol v1.1b3, 6.1-6.4: quantity limits of one read.
MAX_REGISTERS: Final = 125
MAX_BITS: Final = 2000


@dataclass(frozen=True, slots=True)
class Span:
    """Registers (or bits) one value occupies."""

    table: str
    address: int
    count: int

    @property
    def end(self) -> int:
        """The address after the last one."""
        return self.address + self.count


@dataclass(frozen=True, slots=True)
class Block:
    """One read request: `count` items of `table` from `address`."""

    table: str
    address: int
    count: int

    def offset(self, span: Span) -> int:
        """Where `span` starts inside this block's answer."""
        return span.address - self.address


def limit_of(table: str) -> int:
    """The most registers or bits one read of `table` may ask for."""
    return MAX_BITS if table in BIT_TABLES else MAX_REGISTERS


def plan_reads(spans: Iterable[Span], max_gap: int = 0) -> list[Block]:
    """Blocks covering every span, merged across holes of at most `max_gap` addresses."""
    blocks: list[Block] = []
    ordered = sorted(set(spans), key=lambda span: (TABLES.index(span.table), span.address))
    start = end = -1
    table = ""
    for span in ordered:
        limit = limit_of(span.table)
        if span.count > limit:
            raise ValueError(f"{span.count} {span.table} items cannot be read at once "
                             f"(at most {limit})")
        fits = (
            span.table == table and span.address - end <= max_gap
            and max(end, span.end) - start <= limit
        )
        if fits:
            end = max(end, span.end)
            continue
        if table:
            blocks.append(Block(table, start, end - start))
        table, start, end = span.table, span.address, span.end
    if table:
        blocks.append(Block(table, start, end - start))
    return blocks
