"""Ratios with effective dates, and meter totals that stay continuous when a ratio changes."""

from __future__ import annotations

from plantpulse.integrations.modbus.multiplier import ContinuousTotal, RatioSchedule


def test_ratios_apply_from_their_start() -> None:
    schedule = RatioSchedule(200, 1, [(2000.0, 300, None), (1000.0, None, 10)])
    assert schedule.at(999.0).factor("ct_pt") == 200
    assert schedule.at(1000.0).factor("pt") == 10
    assert schedule.at(1999.0).factor("ct") == 200
    assert schedule.at(2000.0).factor("ct_pt") == 3000
    assert schedule.at(2000.0).factor("none") == 1


def test_a_total_keeps_counting_at_the_old_ratio_up_to_the_change() -> None:
    total = ContinuousTotal()
    assert total.value(100.0, 200) == 20_000
    assert total.value(110.0, 200) == 22_000
    # CT changed 200 -> 300: the next 5 kWh on the meter count 1 500, not a 11 000 jump.
    assert total.value(115.0, 300) == 22_000 + 5 * 300
    kept = total.as_dict()
    restarted = ContinuousTotal()
    restarted.restore(kept)
    assert restarted.value(120.0, 300) == 22_000 + 10 * 300


def test_a_replaced_meter_starts_again_from_its_reading() -> None:
    total = ContinuousTotal()
    total.value(500.0, 1)
    total.value(510.0, 2)
    assert total.value(3.0, 2) == 6.0
