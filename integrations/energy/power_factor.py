"""Power-factor adjustment of the electricity bill (力调电费), the one place its table lives.

Source: 《功率因数调整电费办法》, issued by the Ministry of Water Resources and Electric Power
and the State Price Bureau in 1983 ((83)水电财字第215号), still applied by the grid companies
to the monthly bills of two-part tariff customers. The customer's standard (考核标准) is
0.90 (high-voltage industrial customers of 160 kVA and more), 0.85 (other customers of
100 kVA and more) or 0.80 (agricultural customers of 100 kVA and more). The month's power
factor, rounded to two places, is looked up in the table of that standard; the percentage
found there is added to (a power factor below the standard) or taken off (above it) the
month's energy charge plus basic charge.

The table, per 0.01 of power factor above (reduction, 减收) or below (surcharge, 增收) the
standard:

- 0.90: reductions 0.91 0.15 %, 0.92 0.30 %, 0.93 0.45 %, 0.94 0.60 %, 0.95–1.00 0.75 %;
  surcharges 0.5 % per 0.01 down to 0.70 (10 %), 1 % per 0.01 down to 0.65 (15 %), then
  2 % per 0.01.
- 0.85: reductions 0.1 % per 0.01 up to 0.90 (0.50 %), 0.91 0.65 %, 0.92 0.80 %,
  0.93 0.95 %, 0.94–1.00 1.10 %; surcharges 0.5 % per 0.01 down to 0.65 (10 %), 1 % per
  0.01 down to 0.60 (15 %), then 2 % per 0.01.
- 0.80: reductions 0.1 % per 0.01 up to 0.90 (1.00 %), 0.91 1.15 %, 0.92–1.00 1.30 %;
  surcharges 0.5 % per 0.01 down to 0.60 (10 %), 1 % per 0.01 down to 0.55 (15 %), then
  2 % per 0.01.

Percentages are kept in hundredths of a percent (basis points of the charge) so the table
has no floating-point noise.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Final

SOURCE: Final = "《功率因数调整电费办法》(83)水电财字第215号"
STANDARDS: Final = (0.90, 0.85, 0.80)

# Reduction in hundredths of a percent for a power factor 0.01, 0.02, ... above the standard;
# beyond the last entry the last one applies.
_REDUCTIONS: Final[Mapping[int, tuple[int, ...]]] = {
    90: (15, 30, 45, 60, 75),
    85: (10, 20, 30, 40, 50, 65, 80, 95, 110),
    80: (10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 115, 130),
}
# Below the standard, in hundredths of a percent per 0.01: the first 20 steps at 0.5 %,
# the next 5 at 1 %, every further one at 2 % (the same for each standard).
_SURCHARGE_BANDS: Final = ((20, 50), (5, 100))
_SURCHARGE_BEYOND: Final = 200


def round_power_factor(value: float) -> float:
    """A power factor as the bill states it: two places, halves rounded up."""
    return float(Decimal(repr(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def power_factor_of(kwh: float, kvarh: float) -> float | None:
    """The mean power factor of active and reactive energy, P / √(P² + Q²); None for none."""
    if kwh <= 0:
        return None
    return kwh / math.hypot(kwh, kvarh)


def adjustment_basis_points(power_factor: float, standard: float) -> int:
    """The adjustment in hundredths of a percent: positive a surcharge, negative a reduction.

    `power_factor` is rounded to two places first, as the bill does.
    """
    key = round(standard * 100)
    if key not in _REDUCTIONS:
        raise ValueError(f"power factor standard {standard} is not one of "
                         f"{', '.join(f'{item:.2f}' for item in STANDARDS)}")
    hundredths = round(round_power_factor(power_factor) * 100)
    if hundredths >= key:
        steps = hundredths - key
        if steps == 0:
            return 0
        reductions = _REDUCTIONS[key]
        return -reductions[min(steps, len(reductions)) - 1]
    steps = key - hundredths
    total = 0
    for count, per_step in _SURCHARGE_BANDS:
        taken = min(steps, count)
        total += taken * per_step
        steps -= taken
    return total + steps * _SURCHARGE_BEYOND


def adjustment_percent(power_factor: float, standard: float) -> float:
    """The adjustment in percent of (energy + basic) charge: + surcharge, − reduction."""
    return adjustment_basis_points(power_factor, standard) / 100
