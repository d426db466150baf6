"""Read planning: contiguous and near values share one request, within protocol limits."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from plantpulse.integrations.modbus.plan import (
    MAX_BITS,
    MAX_REGISTERS,
    Block,
    Span,
    plan_reads,
)


def test_contiguous_values_are_one_request() -> None:
    spans = [Span("holding", 0x2000 + 2 * index, 2) for index in range(15)]
    assert plan_reads(spans) == [Block("holding", 0x2000, 30)]


def test_gaps_up_to_max_gap_are_read_through() -> None:
    spans = [Span("holding", 0x2006, 2), Span("holding", 0x200C, 2), Span("holding", 0x2012, 2)]
    assert plan_reads(spans, max_gap=0) == [
        Block("holding", 0x2006, 2), Block("holding", 0x200C, 2), Block("holding", 0x2012, 2),
    ]
    assert plan_reads(spans, max_gap=4) == [Block("holding", 0x2006, 14)]


def test_tables_are_never_mixed_and_limits_split_requests() -> None:
    spans = [Span("input", 0, 2), Span("holding", 0, 2), Span("coil", 5, 1), Span("coil", 7, 1)]
    assert plan_reads(spans, max_gap=2) == [
        Block("holding", 0, 2), Block("input", 0, 2), Block("coil", 5, 3),
    ]
    long_run = [Span("holding", address, 2) for address in range(0, 300, 2)]
    assert plan_reads(long_run) == [
        Block("holding", 0, 124), Block("holding", 124, 124), Block("holding", 248, 52),
    ]
    with pytest.raises(ValueError, match="at most 125"):
        plan_reads([Span("input", 0, 126)])


@given(
    st.lists(st.tuples(st.sampled_from(["holding", "input", "coil"]), st.integers(0, 3000),
                       st.sampled_from([1, 2, 4])), min_size=1, max_size=60),
    st.integers(0, 40),
)
def test_every_span_is_covered_by_one_block_within_limits(
    raw: list[tuple[str, int, int]], max_gap: int,
) -> None:
    spans = [Span(table, address, count) for table, address, count in raw]
    blocks = plan_reads(spans, max_gap)
    for block in blocks:
        assert block.count <= (MAX_BITS if block.table == "coil" else MAX_REGISTERS)
    for span in spans:
        holders = [block for block in blocks if block.table == span.table
                   and block.address <= span.address and span.end <= block.address + block.count]
        assert holders
    # Each block starts at a value: none reads a hole at its start.
    starts = {(span.table, span.address) for span in spans}
    assert all((block.table, block.address) in starts for block in blocks)
