"""Energy analyses as services that answer with data (`energy.analyze_<name>`).

- `analyze_twin` (twin.py): two identical machines, mean load gap, extra kWh and cost;
- `analyze_stop_delay` (stop_delay.py): how long a follower runs on after its leader stops;
- `analyze_unit_drift` (unit_drift.py): unit consumption drift and the day it started;
- `analyze_tou_targets` (tou_targets.py): sharp/peak/valley shares per month vs targets;
- `analyze_base_load` (base_load.py): recurring load in hours without production;
- `analyze_baseline` (baseline.py): energy vs production regression, CUSUM of savings.

The checks (twin, stop delay, base load) take a `threshold` and then raise or clear an
alarm, so an automation with a time trigger runs them on a schedule. Heavy numeric work
runs in the executor.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from types import ModuleType
from typing import TYPE_CHECKING, Any

from plantpulse.core.exceptions import ServiceValidationError
from plantpulse.core.services import ServiceCall, SupportsResponse
from plantpulse.integrations.energy.analyses import (
    base_load,
    baseline,
    stop_delay,
    tou_targets,
    twin,
    unit_drift,
)
from plantpulse.integrations.energy.analyses.common import AnalysisError
from plantpulse.integrations.energy.config import EnergyConfig
from plantpulse.integrations.energy.const import DOMAIN
from plantpulse.integrations.energy.report import ReportError
from plantpulse.integrations.energy.tariff import TariffError

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub

ANALYSES: tuple[ModuleType, ...] = (twin, stop_delay, unit_drift, tou_targets, base_load,
                                    baseline)


def async_register_analyses(hub: Hub, config: EnergyConfig) -> None:
    """Register one `energy.analyze_<name>` service per analysis module."""
    for module in ANALYSES:
        hub.services.async_register(
            DOMAIN, module.SERVICE, _handler(hub, config, module.async_analyze),
            module.SCHEMA, supports_response=SupportsResponse.ONLY,
            description=module.DESCRIPTION)


def _handler(hub: Hub, config: EnergyConfig,
             analyze: Callable[[Hub, EnergyConfig, Mapping[str, Any]],
                               Awaitable[dict[str, Any]]],
             ) -> Callable[[ServiceCall], Awaitable[dict[str, Any]]]:
    async def handle(call: ServiceCall) -> dict[str, Any]:
        try:
            return await analyze(hub, config, call.data)
        except (AnalysisError, ReportError, TariffError) as err:
            raise ServiceValidationError(str(err)) from None

    return handle
