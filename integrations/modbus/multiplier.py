"""Transformer ratios (倍率) with effective dates, and meter totals that stay continuous.

A value's multiplier is the CT ratio, the PT ratio or their product at the moment it was
read: a ratio changed on a date applies from then; readings before keep the old one. A meter
total (kWh) is not simply `raw × ratio` after a change, or it would jump by the whole history
times the difference: from the change on, only what the meter counts after it is multiplied
by the new ratio.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Ratios:
    """CT and PT ratios in force from `start` (a timestamp)."""

    start: float
    ct: float
    pt: float

    def factor(self, kind: str) -> float:
        """The multiplier of a value scaled by `kind` (none, ct, pt or ct_pt)."""
        if kind == "ct":
            return self.ct
        if kind == "pt":
            return self.pt
        if kind == "ct_pt":
            return self.ct * self.pt
        return 1.0


class RatioSchedule:
    """The ratios of one device over time: initial ratios, then changes from given times."""

    def __init__(self, ct: float, pt: float,
                 changes: Sequence[tuple[float, float | None, float | None]] = ()) -> None:
        periods = [Ratios(float("-inf"), ct, pt)]
        for start, new_ct, new_pt in sorted(changes):
            last = periods[-1]
            periods.append(Ratios(start, last.ct if new_ct is None else new_ct,
                                  last.pt if new_pt is None else new_pt))
        self._periods = periods
        self._starts = [period.start for period in periods]

    def at(self, timestamp: float) -> Ratios:
        """The ratios in force at `timestamp`."""
        return self._periods[bisect.bisect_right(self._starts, timestamp) - 1]


class ContinuousTotal:
    """Turns a meter's raw total into the primary-side total across ratio changes.

    Keeps `base` (the primary total at raw reading `raw_base`) and the factor in force; when
    the factor changes, what the meter counted up to the last reading is closed at the old
    factor. A raw total below the start of the current period means the meter was reset or
    replaced: the total starts again from the raw reading, which the recorder's statistics
    count as a meter reset (small dips pass through as they are: statistics treat them as noise).
    """

    def __init__(self) -> None:
        self.factor: float | None = None
        self.base = 0.0
        self.raw_base = 0.0
        self.raw_last: float | None = None

    def value(self, raw: float, factor: float) -> float:
        """The primary total for raw reading `raw` read while `factor` applies."""
        if self.factor is None:
            self.factor = factor
        if raw < self.raw_base:
            self.base = self.raw_base = 0.0
        if factor != self.factor and self.raw_last is not None:
            self.base += (self.raw_last - self.raw_base) * self.factor
            self.raw_base = self.raw_last
        self.factor = factor
        self.raw_last = raw
        return self.base + (raw - self.raw_base) * factor

    def as_dict(self) -> dict[str, Any]:
        """What to keep across a restart."""
        return {"factor": self.factor, "base": self.base, "raw_base": self.raw_base,
                "raw_last": self.raw_last}

    def restore(self, data: Mapping[str, Any]) -> None:
        """Continue from what `as_dict` kept."""
        self.factor = data.get("factor")
        self.base = float(data.get("base") or 0.0)
        self.raw_base = float(data.get("raw_base") or 0.0)
        raw_last = data.get("raw_last")
        self.raw_last = None if raw_last is None else float(raw_last)
