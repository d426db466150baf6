"""energy: meter tree, time-of-use tariffs, cost, standard coal and monthly TOU reports.

    energy:
      tariff: ningxia_10kv
      targets: {sharp: 5, peak: 20, valley: 40}
      tariffs:
        ningxia_10kv:
          versions:
            - valid_from: 2022-01-01
              prices: {sharp: 0.98, peak: 0.82, flat: 0.55, valley: 0.28}
              schedule:
                - {from: "00:00", to: "08:00", period: valley}
                - {from: "08:00", to: "18:00", period: flat}
                - {from: "18:00", to: "20:00", period: sharp}
                - {from: "20:00", to: "24:00", period: peak}
      meters:
        - id: yang36
          name: 阳36线
          entity: sensor.yang36_kwh

What it gives: sensors `sensor.<tariff>_period` and `sensor.<tariff>_price`; the template
function `tariff_period(tariff=None, at=None)` (the period name now or at a datetime or ISO
text; the tariff defaults to the `tariff:` of the block, else the only one). Services, all
answering with data (`?return_response` over REST); each module's docstring has the details:
- `energy.report` (report.py): the monthly TOU report of a meter (`entity_id` or `node`,
  `month: YYYY-MM`); `energy.costs`: consumption, cost and tce of every node and cost centre;
- `energy.energy_report` (reports.py): daily, monthly or yearly report of a node;
  `energy.balance` (balance.py): parent vs children, loss and tolerance;
  `energy.allocation` (allocation.py): shared meters split to cost centres;
- with `billing:` accounts (billing.py, demand.py): `energy.bill`,
  `energy.basic_charge_advice`, and 15-minute demand sensors;
- with `shifts:` / `unit_consumption:` (shifts.py, unit_consumption.py):
  `energy.unit_consumption`, `energy.team_ranking`, `energy.unit_consumption_drift`,
  `energy.total_consumption`;
- `energy.analyze_twin`, `_stop_delay`, `_unit_drift`, `_tou_targets`, `_base_load`,
  `_baseline` (analyses/).
Scheduled reports (`reports:`, schedule.py) are written to `<config>/reports/` and mailed
through notify. On the command line: `plantpulse report tou` and `plantpulse report energy`
(cli.py). Config: config.py, options.py, billing_config.py, tariff.py, tree.py.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

from plantpulse.core.config import validation as cv
from plantpulse.core.exceptions import ServiceValidationError
from plantpulse.core.hub import StopStage
from plantpulse.core.recorder import get_recorder
from plantpulse.core.services import ServiceCall, ServiceField, SupportsResponse
from plantpulse.core.template import async_register_template_function
from plantpulse.core.template.info import ACTIVE
from plantpulse.integrations.energy.analyses import async_register_analyses
from plantpulse.integrations.energy.billing import async_setup_billing
from plantpulse.integrations.energy.config import CONFIG_SCHEMA, EnergyConfig
from plantpulse.integrations.energy.const import DATA_ENERGY, DOMAIN
from plantpulse.integrations.energy.report import (
    ReportError,
    async_month,
    cost_report,
    find_node,
    parse_month,
    tou_report,
)
from plantpulse.integrations.energy.schedule import async_setup_reporting
from plantpulse.integrations.energy.sensor import (
    TariffClock,
    TariffPeriodSensor,
    TariffPriceSensor,
)
from plantpulse.integrations.energy.tariff import TariffError
from plantpulse.integrations.energy.unit_consumption import async_setup_unit_consumption

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub

__all__ = ["CONFIG_SCHEMA", "DOMAIN", "async_setup"]

ATTR_ENTITY_ID: Final = "entity_id"
ATTR_NODE: Final = "node"
ATTR_MONTH: Final = "month"



def _has_subject(data: dict[str, Any]) -> dict[str, Any]:
    if ATTR_ENTITY_ID not in data and ATTR_NODE not in data:
        raise vol.Invalid("give 'entity_id' (a meter of the tree) or 'node'")
    return data


REPORT_SCHEMA: Final = vol.Schema(vol.All(vol.Schema({
    vol.Exclusive(ATTR_ENTITY_ID, "subject"): cv.entity_id,
    vol.Exclusive(ATTR_NODE, "subject"): cv.slug,
    vol.Required(ATTR_MONTH): cv.string,
}), _has_subject))
COSTS_SCHEMA: Final = vol.Schema({vol.Required(ATTR_MONTH): cv.string})


async def async_setup(hub: Hub, config: EnergyConfig) -> bool:
    """Set up tariff sensors, the template helper and the report services."""
    hub.data[DATA_ENERGY] = config
    _register_template_function(hub, config)
    clocks = [TariffClock(hub, tariff) for tariff in config.tariffs.values()]
    for clock in clocks:
        clock.sensors = [TariffPeriodSensor(clock), TariffPriceSensor(clock, hub.site.currency)]
        change = clock.read()
        await hub.entities.async_add(DOMAIN, clock.sensors)
        clock.async_follow(change)

    def stop_clocks() -> None:
        for clock in clocks:
            clock.async_stop()

    hub.async_on_stop(stop_clocks, StopStage.INTEGRATIONS)
    _register_services(hub, config)
    async_setup_billing(hub, config)
    async_register_analyses(hub, config)
    async_setup_reporting(hub, config)
    async_setup_unit_consumption(hub, config)
    return True


def _register_template_function(hub: Hub, config: EnergyConfig) -> None:
    tariffs = config.tariffs

    def tariff_period(tariff: str | None = None, at: datetime | str | None = None) -> str | None:
        """The period of `tariff` (default: the tree's, else the only one) now or at `at`
        (a datetime, or ISO 8601 text; without an offset, in the site's time zone)."""
        if isinstance(at, str):
            try:
                at = datetime.fromisoformat(at)
            except ValueError:
                raise ValueError(f"tariff_period(): at={at!r} is not an ISO 8601 time such as "
                                 "'2026-10-02 19:00'") from None
        if tariff is None:
            root_tariffs = {node.tariff for node in config.nodes.values() if node.tariff}
            names = root_tariffs if len(root_tariffs) == 1 else set(tariffs)
            if len(names) != 1:
                raise ValueError("tariff_period(): name the tariff, one of "
                                 f"{', '.join(tariffs) or 'none configured'}")
            tariff = next(iter(names))
        if tariff not in tariffs:
            raise ValueError(f"tariff_period(): no tariff '{tariff}' (configured: "
                             f"{', '.join(tariffs) or 'none'})")
        if at is None:
            if (info := ACTIVE.render) is not None:
                info.uses_time = True
            at = hub.clock.now()
        elif at.tzinfo is None:
            at = at.replace(tzinfo=hub.site.tz)
        try:
            return tariffs[tariff].at(at, hub.site.tz)[0].value
        except TariffError:
            return None

    async_register_template_function(hub, "tariff_period", tariff_period)


def _register_services(hub: Hub, config: EnergyConfig) -> None:

    async def report(call: ServiceCall) -> dict[str, Any]:
        try:
            month = parse_month(call.data[ATTR_MONTH], hub.site.tz)
            node = find_node(config, call.data.get(ATTR_ENTITY_ID), call.data.get(ATTR_NODE))
            recorder = _recorder(hub)
            results = await async_month(hub, recorder, config, [node.node_id], month)
            return tou_report(results[node.node_id], month, config.coefficients,
                              hub.site.currency)
        except (ReportError, TariffError) as err:
            raise ServiceValidationError(str(err)) from None

    async def costs(call: ServiceCall) -> dict[str, Any]:
        try:
            month = parse_month(call.data[ATTR_MONTH], hub.site.tz)
            recorder = _recorder(hub)
            results = await async_month(hub, recorder, config, list(config.nodes), month)
            return cost_report(results, month, config.coefficients, hub.site.currency)
        except (ReportError, TariffError) as err:
            raise ServiceValidationError(str(err)) from None

    hub.services.async_register(
        DOMAIN, "report", report, REPORT_SCHEMA, supports_response=SupportsResponse.ONLY,
        name="TOU report",
        description="The monthly time-of-use report of a meter: kWh, share, target and cost "
        "per period (sharp, peak, flat, valley, deep_valley), from recorder statistics.",
        fields={
            ATTR_ENTITY_ID: ServiceField("A meter entity of the energy tree",
                                         example="sensor.yang36_kwh"),
            ATTR_NODE: ServiceField("Or a node id of the tree", example="yang36"),
            ATTR_MONTH: ServiceField("The month, in the site's time zone", example="2022-03",
                                     required=True),
        },
    )
    hub.services.async_register(
        DOMAIN, "costs", costs, COSTS_SCHEMA, supports_response=SupportsResponse.ONLY,
        name="Costs and standard coal",
        description="Consumption, cost and standard coal (tce, GB/T 2589-2020) of every node "
        "of the meter tree in a month, and cost per cost centre.",
        fields={ATTR_MONTH: ServiceField("The month, in the site's time zone",
                                         example="2022-03", required=True)},
    )


def _recorder(hub: Hub) -> Any:
    recorder = get_recorder(hub)
    if recorder is None:
        raise ReportError("reports read the recorder's statistics: add 'recorder:' to the "
                          "configuration")
    return recorder
