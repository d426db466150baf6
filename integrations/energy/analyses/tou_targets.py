"""Time-of-use shares per meter and month against targets (the deck's Yang 36 line table:
sharp 5 %, peak 20 % at most, valley 40 % at least).

    service: energy.analyze_tou_targets
    data: {entity_id: sensor.yang36_kwh, start_month: 2022-02, end_month: 2022-05}

Each month's TOU report (report.py, from the recorder's statistics) is compared with the
node's targets: sharp, peak and flat are ceilings, valley and deep valley floors. A month off
target gets a flag with the gap in kWh (the energy that would have to move to meet the
target) and the money that moving it would save: sharp/peak/flat energy moved to the valley
saves its month's average price less the valley's; energy moved into the valley is taken as
coming from flat, the cheapest daytime period (a conservative figure). Flags of one month
overlap (sharp and peak energy moved to the valley also raises the valley share), so their
savings are not to be added up.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

from plantpulse.core.config import validation as cv
from plantpulse.integrations.energy.analyses.common import AnalysisError, recorder_of, rounded
from plantpulse.integrations.energy.config import EnergyConfig
from plantpulse.integrations.energy.const import Period
from plantpulse.integrations.energy.report import (
    Month,
    async_month,
    find_node,
    parse_month,
    tou_report,
)

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub

SERVICE: Final = "analyze_tou_targets"
SCHEMA: Final = vol.Schema(vol.All(vol.Schema({
    vol.Exclusive("entity_id", "subject"): cv.entity_id,
    vol.Exclusive("node", "subject"): cv.slug,
    vol.Required("start_month"): cv.string,
    vol.Optional("end_month"): cv.string,
}), vol.Any(vol.Schema({vol.Required("entity_id"): object}, extra=vol.ALLOW_EXTRA),
            vol.Schema({vol.Required("node"): object}, extra=vol.ALLOW_EXTRA),
            msg="give 'entity_id' (a meter of the tree) or 'node'")))
DESCRIPTION: Final = ("Sharp/peak/valley shares per month against the node's targets: months "
                      "off target with the gap in kWh and the money if that energy moved.")
CEILINGS: Final = (Period.SHARP, Period.PEAK, Period.FLAT)
FLOORS: Final = (Period.VALLEY, Period.DEEP_VALLEY)
MAX_MONTHS: Final = 36


def months_between(first: Month, last: Month) -> list[Month]:
    """The months from `first` to `last`, both included."""
    months = [first]
    while months[-1].first < last.first:
        months.append(parse_month(f"{months[-1].end.year:04d}-{months[-1].end.month:02d}",
                                  first.zone))
        if len(months) > MAX_MONTHS:
            raise AnalysisError(f"ask for at most {MAX_MONTHS} months at once")
    return months


def _average_price(periods: Mapping[str, Any], period: Period) -> float | None:
    entry = periods[period.value]
    return entry["cost"] / entry["kwh"] if entry["kwh"] else None


def flags(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The periods of one month's TOU report that miss their target."""
    total, periods = report["total_kwh"], report["periods"]
    valley_price = _average_price(periods, Period.VALLEY)
    result = []
    for period in (*CEILINGS, *FLOORS):
        entry = periods[period.value]
        target = entry["target_pct"]
        if target is None or not total:
            continue
        share = entry["kwh"] / total * 100
        ceiling = period in CEILINGS
        if (share <= target) if ceiling else (share >= target):
            continue
        gap = abs(entry["kwh"] - target / 100 * total)
        source = _average_price(periods, period if ceiling else Period.FLAT)
        saving = (gap * (source - valley_price)
                  if source is not None and valley_price is not None else None)
        result.append({
            "period": period.value,
            "status": "above" if ceiling else "below",
            "share_pct": rounded(share, 4),
            "target_pct": target,
            "gap_pct": rounded(share - target, 4),
            "gap_kwh": rounded(gap, 3),
            "saving_if_shifted": rounded(saving) if saving is not None else None,
        })
    return result


async def async_analyze(hub: Hub, config: EnergyConfig, data: Mapping[str, Any]) -> dict[str, Any]:
    """The service: a TOU report per month, and its flags."""
    zone = hub.site.tz
    first = parse_month(data["start_month"], zone)
    last = parse_month(data.get("end_month", data["start_month"]), zone)
    if last.first < first.first:
        raise AnalysisError("'end_month' must not come before 'start_month'")
    node = find_node(config, data.get("entity_id"), data.get("node"))
    if not node.targets:
        raise AnalysisError(f"node '{node.node_id}' has no TOU share targets: set 'targets:' "
                            "under energy: or on the node (such as {sharp: 5, peak: 20, "
                            "valley: 40})")
    recorder = recorder_of(hub)
    months = []
    for month in months_between(first, last):
        results = await async_month(hub, recorder, config, [node.node_id], month)
        report = tou_report(results[node.node_id], month, config.coefficients,
                            hub.site.currency)
        months.append({"month": month.label, "total_kwh": report["total_kwh"],
                       "approximate": report["approximate"],
                       "shares_pct": {name: entry["share_pct"]
                                      for name, entry in report["periods"].items()},
                       "flags": flags(report)})
    return {"entity_id": node.entity_id, "node": node.node_id, "name": node.name,
            "currency": hub.site.currency,
            "targets_pct": {period.value: target for period, target in node.targets.items()},
            "months": months,
            "months_off_target": [entry["month"] for entry in months if entry["flags"]]}
