"""energy.analyze_tou_targets flags the deck's Yang 36 line table (PRODUCT.md E8).

Targets sharp 5 %, peak 20 % (ceilings) and valley 40 % (floor): in every month of
2022-02..05 sharp and peak are above and valley below, so all twelve flags are expected,
with gaps computed exactly from the table's kWh (the data is test_yang36's: 15-minute
consumption with those monthly totals, imported into hourly statistics) and the money if
shifted at the month's prices (a tariff version change on 2022-04-01).
"""

from __future__ import annotations

import pytest

from plantpulse.core.exceptions import ServiceValidationError
from plantpulse.core.hub import Hub
from tests.integrations.energy.test_yang36 import ENTITY, PRICES, TABLE, yang36  # noqa: F401

TARGETS = {"sharp": 5, "peak": 20, "valley": 40}


def expected_flags(month: str) -> list[dict]:
    (total, sharp, peak, valley), _shares = TABLE[month]
    prices = PRICES[month]
    kwh = {"sharp": sharp, "peak": peak, "valley": valley}
    flags = []
    for period in ("sharp", "peak", "valley"):
        ceiling = period != "valley"
        gap = abs(kwh[period] - TARGETS[period] / 100 * total)
        source = prices[period] if ceiling else prices["flat"]
        flags.append({"period": period, "status": "above" if ceiling else "below",
                      "gap_kwh": gap, "saving_if_shifted": gap * (source - prices["valley"]),
                      "share_pct": kwh[period] / total * 100})
    return flags


async def test_flags_every_month_of_the_yang36_table(yang36: Hub) -> None:  # noqa: F811
    result = await yang36.services.async_call("energy", "analyze_tou_targets", {
        "entity_id": ENTITY, "start_month": "2022-02", "end_month": "2022-05"},
        return_response=True)
    assert result["targets_pct"] == TARGETS
    assert result["months_off_target"] == list(TABLE)
    for entry in result["months"]:
        (total, *_kwh), (sharp_pct, peak_pct, valley_pct) = TABLE[entry["month"]]
        assert entry["total_kwh"] == total
        # The deck truncates shares: the report's rounded ones are equal or 0.01 higher.
        for name, deck in (("sharp", sharp_pct), ("peak", peak_pct), ("valley", valley_pct)):
            assert 0 <= round(entry["shares_pct"][name] - deck, 2) <= 0.01
        expected = expected_flags(entry["month"])
        assert [flag["period"] for flag in entry["flags"]] == ["sharp", "peak", "valley"]
        for flag, want in zip(entry["flags"], expected, strict=True):
            assert flag["status"] == want["status"]
            assert flag["gap_kwh"] == pytest.approx(want["gap_kwh"], abs=0.001)
            assert flag["share_pct"] == pytest.approx(want["share_pct"], abs=1e-4)
            assert flag["saving_if_shifted"] == pytest.approx(want["saving_if_shifted"],
                                                              abs=0.01)
    february = result["months"][0]["flags"]
    # 40 % of 2,487,240 kWh is 994,896 kWh; the valley had 624,120: 370,776 short.
    assert february[2]["gap_kwh"] == pytest.approx(370_776)


async def test_errors(yang36: Hub) -> None:  # noqa: F811
    async def call(**data: object) -> dict:
        return await yang36.services.async_call("energy", "analyze_tou_targets", data,
                                                return_response=True)

    with pytest.raises(ServiceValidationError, match="must not come before"):
        await call(entity_id=ENTITY, start_month="2022-05", end_month="2022-02")
    with pytest.raises(ServiceValidationError, match="YYYY-MM"):
        await call(entity_id=ENTITY, start_month="2022-13")
    with pytest.raises(ServiceValidationError, match="not a meter of the energy meter tree"):
        await call(entity_id="sensor.other_kwh", start_month="2022-02")
    with pytest.raises(ServiceValidationError):
        await call(start_month="2022-02")
