"""The grid company's bill of a billing account, and advice on how to pay the basic charge.

`energy.bill` (`account`, `month: YYYY-MM`, optional `max_demand_kw` from the grid's own
bill): the billing month's energy and cost per TOU period (from the meter's statistics, as
the TOU report), the maximum 15-minute demand (demand.py), the basic charge by the account's
method, the power-factor adjustment (power_factor.py) on energy plus basic charge, and the
total. A billing month is the calendar month, or with `reading_day: 25` the span from the
25th 00:00 of the month before to the 25th 00:00 of the month named, in the site's zone.

`energy.basic_charge_advice` (`account`, `months: N` closed billing months back, default 6;
`horizon` months ahead, default 3 since 1583号 lets a customer switch per quarter): each
month's measured maximum demand and energy, the basic charge each way would have cost (by
capacity, by actual maximum demand, by the configured contract demand, and by the contract
demand that would have been cheapest over those months), and which is cheaper for the
coming months if they repeat the measured ones, with the figures.

Rules and their sources: billing_config.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import voluptuous as vol

from plantpulse.core.config import validation as cv
from plantpulse.core.exceptions import ServiceValidationError
from plantpulse.core.hub import StopStage
from plantpulse.core.services import ServiceCall, ServiceField, SupportsResponse
from plantpulse.integrations.energy.billing_config import (
    BasicChargeSettings,
    BillingAccount,
    Method,
)
from plantpulse.integrations.energy.config import EnergyConfig
from plantpulse.integrations.energy.const import DOMAIN, PERIODS, Period
from plantpulse.integrations.energy.cost import consumption_by_segment, tidy
from plantpulse.integrations.energy.demand import DemandTracker, Peak, async_peak
from plantpulse.integrations.energy.power_factor import SOURCE as PF_SOURCE
from plantpulse.integrations.energy.power_factor import (
    adjustment_percent,
    power_factor_of,
    round_power_factor,
)
from plantpulse.integrations.energy.report import (
    Month,
    ReportError,
    async_fetch_series,
    async_month,
    parse_month,
)
from plantpulse.integrations.energy.tariff import Segments, TariffError

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub

ATTR_ACCOUNT: Final = "account"
ATTR_MONTH: Final = "month"
ATTR_MAX_DEMAND: Final = "max_demand_kw"
ATTR_MONTHS: Final = "months"
ATTR_HORIZON: Final = "horizon"


@dataclass(frozen=True, slots=True)
class BillingPeriod(Month):
    """A billing month: local midnight of `first` to local midnight of `end`."""

    name: str = ""

    @property
    def label(self) -> str:
        """'YYYY-MM' of the month the period ends in (calendar: the month itself)."""
        return self.name

    @property
    def start_time(self) -> datetime:
        """Local midnight of the first day."""
        return datetime(self.first.year, self.first.month, self.first.day, tzinfo=self.zone)

    @property
    def end_time(self) -> datetime:
        """Local midnight of the day after the last."""
        return datetime(self.end.year, self.end.month, self.end.day, tzinfo=self.zone)


def _shift_month(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + month - 1 + months
    return index // 12, index % 12 + 1


def billing_period(year: int, month: int, reading_day: int | None,
                   zone: tzinfo) -> BillingPeriod:
    """The billing month labelled `year-month` (see the module docstring)."""
    name = f"{year:04d}-{month:02d}"
    if reading_day is None:
        following = _shift_month(year, month, 1)
        return BillingPeriod(date(year, month, 1), date(*following, 1), zone, name)
    before = _shift_month(year, month, -1)
    return BillingPeriod(date(*before, reading_day), date(year, month, reading_day), zone,
                         name)


def period_containing(moment: datetime, reading_day: int | None,
                      zone: tzinfo) -> BillingPeriod:
    """The billing month that holds `moment`."""
    local = moment.astimezone(zone)
    if reading_day is None or local.day < reading_day:
        return billing_period(local.year, local.month, reading_day, zone)
    return billing_period(*_shift_month(local.year, local.month, 1), reading_day, zone)


def parse_billing_month(text: str, reading_day: int | None, zone: tzinfo) -> BillingPeriod:
    """'YYYY-MM' as the billing month of an account; ReportError otherwise."""
    month = parse_month(text, zone)
    return billing_period(month.first.year, month.first.month, reading_day, zone)


def basic_charge(settings: BasicChargeSettings, method: Method, max_kw: float | None,
                 kwh: float, contract_kw: float | None = None) -> dict[str, Any]:
    """The basic charge of a month by `method`, with how it was reached.

    By demand, a month that used `high_use_kwh_per_kva` or more per kVA pays the demand price
    times `high_use_price_ratio` (526号). By contract demand, the contract (at least
    `min_contract_ratio` of the capacity) is charged up to `over_ratio` times it, and the
    demand above that at `over_factor` times the price (1583号).
    """
    result: dict[str, Any] = {"method": method.value, "charge": 0.0}
    if method is Method.NONE:
        return result
    if method is Method.CAPACITY:
        if settings.capacity_kva is None or settings.capacity_price is None:
            return {**result, "charge": None, "missing": "capacity_kva and capacity_price"}
        return {**result, "capacity_kva": settings.capacity_kva,
                "price": settings.capacity_price,
                "charge": round(settings.capacity_kva * settings.capacity_price, 2)}
    if settings.demand_price is None:
        return {**result, "charge": None, "missing": "demand_price"}
    if max_kw is None:
        return {**result, "charge": None, "missing": "the month's maximum demand"}
    price = settings.demand_price
    if settings.capacity_kva and settings.high_use_kwh_per_kva:
        per_kva = kwh / settings.capacity_kva
        result["kwh_per_kva"] = round(per_kva, 2)
        if per_kva >= settings.high_use_kwh_per_kva:
            price *= settings.high_use_price_ratio
    result["price"] = round(price, 6)
    if method is Method.ACTUAL_DEMAND:
        return {**result, "billed_kw": round(max_kw, 3), "charge": round(max_kw * price, 2)}
    contract = contract_kw if contract_kw is not None else settings.contract_kw
    if contract is None:
        return {**result, "charge": None, "missing": "contract_demand"}
    if settings.capacity_kva:
        contract = max(contract, settings.min_contract_ratio * settings.capacity_kva)
    band = contract * settings.over_ratio
    excess = max(0.0, max_kw - band)
    charge = contract * price if excess == 0 else band * price + excess * price * \
        settings.over_factor
    return {**result, "contract_kw": round(contract, 3), "band_kw": round(band, 3),
            "excess_kw": round(excess, 3), "charge": round(charge, 2)}


async def async_span_amount(recorder: Any, entity_ids: Sequence[str], start: datetime,
                            end: datetime) -> float:
    """What meters used from `start` to `end`, together, from their statistics."""
    series = await async_fetch_series(recorder, entity_ids, start, end)
    span = Segments(np.array([start.timestamp()]), np.array([end.timestamp()]),
                    np.array([PERIODS.index(Period.FLAT)]), np.array([0.0]))
    return float(sum(consumption_by_segment(meter, span)[0].sum()
                     for meter in series.values()))


async def async_mean(recorder: Any, entity_id: str, start: datetime, end: datetime) -> \
        float | None:
    """The time-weighted mean of a measurement over whole hours from its hourly means."""
    rows = await recorder.async_get_statistics([entity_id], "hour", start, end, {"mean"})
    means = [row["mean"] for row in rows.get(entity_id, ()) if row.get("mean") is not None]
    return sum(means) / len(means) if means else None


async def async_bill(hub: Hub, recorder: Any, config: EnergyConfig, account: BillingAccount,
                     period: BillingPeriod, max_demand_kw: float | None = None) -> dict[str, Any]:
    """The bill of `account` for `period` (see the module docstring)."""
    results = await async_month(hub, recorder, config, [account.node_id], period)
    node_month = results[account.node_id]
    totals = node_month.totals
    kwh = totals.total
    energy_cost = round(float(totals.costs.sum()), 2)
    start, end = period.start_time, period.end_time
    if max_demand_kw is not None:
        peak = Peak(max_demand_kw, None, "given", 0, "maximum demand given with the request")
    else:
        peak = await async_peak(recorder, account, start, end)
    basic = basic_charge(account.basic, account.basic.method, peak.max_kw, kwh)
    base = energy_cost + (basic["charge"] or 0.0)
    power_factor = await _async_power_factor(recorder, account, kwh, start, end)
    adjustment = 0.0
    if power_factor.get("adjustment_pct") is not None:
        adjustment = round(base * power_factor["adjustment_pct"] / 100, 2)
        power_factor["adjustment"] = adjustment
    return {
        "account": account.account_id,
        "name": account.name,
        "entity_id": account.entity_id,
        "month": period.label,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "reading_day": account.reading_day,
        "currency": hub.site.currency,
        "energy": {
            "kwh": tidy(kwh),
            "cost": energy_cost,
            "approximate": node_month.approximate,
            "periods": {period_name.value: {"kwh": tidy(totals.amounts[index]),
                                            "cost": round(float(totals.costs[index]), 2)}
                        for index, period_name in enumerate(PERIODS)},
        },
        "demand": peak.as_dict(),
        "basic_charge": basic,
        "power_factor": power_factor,
        "total": round(base + adjustment, 2),
    }


async def _async_power_factor(recorder: Any, account: BillingAccount, kwh: float,
                              start: datetime, end: datetime) -> dict[str, Any]:
    result: dict[str, Any] = {"standard": account.pf_standard, "source": PF_SOURCE}
    if account.pf_standard is None:
        return {**result, "value": None, "adjustment_pct": None,
                "note": "no power_factor standard configured"}
    if account.reactive_entities:
        kvarh = await async_span_amount(recorder, account.reactive_entities, start, end)
        value = power_factor_of(kwh, kvarh)
        result["kvarh"] = tidy(kvarh)
    elif account.pf_entity is not None:
        value = await async_mean(recorder, account.pf_entity, start, end)
    else:
        value = None
    if value is None:
        return {**result, "value": None, "adjustment_pct": None,
                "note": "no reactive energy or power factor recorded in this month"}
    return {**result, "value": round_power_factor(value), "measured": round(value, 4),
            "adjustment_pct": adjustment_percent(value, account.pf_standard)}


def best_contract(settings: BasicChargeSettings, months: Sequence[tuple[float, float]]) -> \
        float | None:
    """The contract demand that would have cost least over `months` ((max kW, kWh) each):
    the cost is piecewise linear in the contract, so one of max/over_ratio (or the floor)."""
    if settings.demand_price is None or not months:
        return None
    floor = settings.min_contract_ratio * (settings.capacity_kva or 0.0)
    candidates = {max(floor, peak / settings.over_ratio) for peak, _kwh in months}
    if floor > 0:
        candidates.add(floor)

    def total(contract: float) -> float:
        return sum(basic_charge(settings, Method.CONTRACT_DEMAND, peak, kwh, contract)["charge"]
                   for peak, kwh in months)

    return min(sorted(candidates), key=total)


async def async_advice(hub: Hub, recorder: Any, config: EnergyConfig, account: BillingAccount,
                       count: int, horizon: int) -> dict[str, Any]:
    """Basic charge each way over the last `count` closed billing months (module doc)."""
    zone = hub.site.tz
    current = period_containing(hub.clock.now(), account.reading_day, zone)
    year, month = int(current.label[:4]), int(current.label[5:])
    history = []
    for back in range(count, 0, -1):
        period = billing_period(*_shift_month(year, month, -back), account.reading_day, zone)
        peak = await async_peak(recorder, account, period.start_time, period.end_time)
        kwh = await async_span_amount(recorder, [account.entity_id], period.start_time,
                                      period.end_time)
        history.append((period, peak, kwh))
    measured = [(peak.max_kw, kwh) for _period, peak, kwh in history if peak.max_kw is not None]
    settings = account.basic
    options: dict[str, tuple[Method, float | None]] = {
        "capacity": (Method.CAPACITY, None),
        "actual_demand": (Method.ACTUAL_DEMAND, None),
    }
    if settings.contract_kw is not None:
        options["contract_demand"] = (Method.CONTRACT_DEMAND, settings.contract_kw)
    suggested = best_contract(settings, measured)
    if suggested is not None:
        options["best_contract_demand"] = (Method.CONTRACT_DEMAND, suggested)
    months = []
    sums = dict.fromkeys(options, 0.0)
    usable = dict.fromkeys(options, True)
    for period, peak, kwh in history:
        charges = {}
        for name, (method, contract) in options.items():
            charge = basic_charge(settings, method, peak.max_kw, kwh, contract)["charge"]
            charges[name] = charge
            if charge is None:
                usable[name] = False
            else:
                sums[name] += charge
        months.append({"month": period.label, "start": period.start_time.isoformat(),
                       "kwh": tidy(kwh), "max_demand": peak.as_dict(), "charges": charges})
    complete = len(measured)
    averages = {name: round(sums[name] / complete, 2) for name in options
                if usable[name] and complete}
    cheapest = min(averages, key=averages.__getitem__) if averages else None
    notes = sorted({peak.note for _period, peak, _kwh in history if peak.note})
    result: dict[str, Any] = {
        "account": account.account_id,
        "current_method": settings.method.value,
        "months": months,
        "monthly_average": averages,
        "horizon_months": horizon,
        "projected": {name: round(value * horizon, 2) for name, value in averages.items()},
        "suggested_contract_kw": None if suggested is None else round(suggested, 3),
        "cheapest": cheapest,
        "currency": hub.site.currency,
        "notes": notes,
    }
    current_name = {Method.CAPACITY: "capacity", Method.ACTUAL_DEMAND: "actual_demand",
                    Method.CONTRACT_DEMAND: "contract_demand"}.get(settings.method)
    if cheapest is not None and current_name in averages:
        result["saving_per_month"] = round(averages[current_name] - averages[cheapest], 2)
        result["saving_over_horizon"] = round(result["saving_per_month"] * horizon, 2)
    return result


BILL_SCHEMA: Final = vol.Schema({
    vol.Optional(ATTR_ACCOUNT): cv.slug,
    vol.Required(ATTR_MONTH): cv.string,
    vol.Optional(ATTR_MAX_DEMAND): vol.All(vol.Coerce(float), vol.Range(min=0)),
})
ADVICE_SCHEMA: Final = vol.Schema({
    vol.Optional(ATTR_ACCOUNT): cv.slug,
    vol.Optional(ATTR_MONTHS, default=6): vol.All(vol.Coerce(int), vol.Range(min=1, max=36)),
    vol.Optional(ATTR_HORIZON, default=3): vol.All(vol.Coerce(int), vol.Range(min=1, max=36)),
})


def _account(config: EnergyConfig, account_id: str | None) -> BillingAccount:
    accounts = config.billing
    if account_id is None and len(accounts) == 1:
        return next(iter(accounts.values()))
    if account_id in accounts:
        return accounts[account_id]
    raise ReportError(f"name a billing account with 'account': one of "
                      f"{', '.join(accounts) or 'none (add energy: billing:)'}")


def async_setup_billing(hub: Hub, config: EnergyConfig) -> None:
    """Start the demand sensors of each billing account and register the billing services."""
    if not config.billing:
        return
    from plantpulse.core.recorder import get_recorder

    zone = hub.site.tz
    trackers = []
    for account in config.billing.values():

        def label(timestamp: float, reading_day: int | None = account.reading_day) -> str:
            return period_containing(datetime.fromtimestamp(timestamp, zone), reading_day,
                                     zone).label

        trackers.append(DemandTracker(hub, account, label))

    async def add_sensors() -> None:
        for tracker in trackers:
            await hub.entities.async_add(DOMAIN, [tracker.running, tracker.maximum])
            tracker.async_start()

    hub.async_create_task(add_sensors(), "energy demand sensors")

    def stop() -> None:
        for tracker in trackers:
            tracker.async_stop()

    hub.async_on_stop(stop, StopStage.INTEGRATIONS)

    def recorder() -> Any:
        found = get_recorder(hub)
        if found is None:
            raise ReportError("bills read the recorder's statistics: add 'recorder:' to the "
                              "configuration")
        return found

    async def bill(call: ServiceCall) -> dict[str, Any]:
        try:
            account = _account(config, call.data.get(ATTR_ACCOUNT))
            period = parse_billing_month(call.data[ATTR_MONTH], account.reading_day, zone)
            return await async_bill(hub, recorder(), config, account, period,
                                    call.data.get(ATTR_MAX_DEMAND))
        except (ReportError, TariffError) as err:
            raise ServiceValidationError(str(err)) from None

    async def advice(call: ServiceCall) -> dict[str, Any]:
        try:
            account = _account(config, call.data.get(ATTR_ACCOUNT))
            return await async_advice(hub, recorder(), config, account,
                                      call.data[ATTR_MONTHS], call.data[ATTR_HORIZON])
        except (ReportError, TariffError) as err:
            raise ServiceValidationError(str(err)) from None

    account_field = ServiceField("A billing account id (optional when there is one)",
                                 example="main")
    hub.services.async_register(
        DOMAIN, "bill", bill, BILL_SCHEMA, supports_response=SupportsResponse.ONLY,
        name="Electricity bill",
        description="A billing month's bill: energy and cost per TOU period, maximum "
        "15-minute demand, basic charge, power-factor adjustment and total.",
        fields={ATTR_ACCOUNT: account_field,
                ATTR_MONTH: ServiceField("The billing month (ending on the reading day)",
                                         example="2024-03", required=True),
                ATTR_MAX_DEMAND: ServiceField("The maximum demand from the grid's bill (kW), "
                                              "instead of the measured one", example=812)},
    )
    hub.services.async_register(
        DOMAIN, "basic_charge_advice", advice, ADVICE_SCHEMA,
        supports_response=SupportsResponse.ONLY,
        name="Basic charge advice",
        description="The basic charge by capacity, by actual and by contract maximum demand "
        "over the last months' measured demand, and which is cheaper for the coming months.",
        fields={ATTR_ACCOUNT: account_field,
                ATTR_MONTHS: ServiceField("Closed billing months to look back on", example=6),
                ATTR_HORIZON: ServiceField("Months ahead to project", example=3)},
    )

