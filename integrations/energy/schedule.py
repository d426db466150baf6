"""Scheduled reports: each `reports:` item generated for the last closed period on the hub
clock, written to `<config>/reports/` and sent to its notify targets with the file attached.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from plantpulse.integrations.energy.balance import async_setup_balance

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub
    from plantpulse.integrations.energy.config import EnergyConfig


def async_setup_reporting(hub: Hub, config: EnergyConfig) -> None:
    """Register the balance, allocation and report services and start the schedules."""
    async_setup_balance(hub, config)
