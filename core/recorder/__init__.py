"""The recorder: states, events and statistics in SQLite, with history, event and statistics
queries.

Configured by the `recorder:` block (an empty block means defaults). Other parts reach the
running recorder with `get_recorder(hub)`; `Period`, `StatisticType` and `STATISTIC_TYPES`
name what statistics queries accept.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

from plantpulse.core.recorder.config import CONFIG_SCHEMA, RecorderConfig
from plantpulse.core.recorder.const import (
    DATA_RECORDER,
    DOMAIN,
    STATISTIC_TYPES,
    Period,
    StatisticType,
)
from plantpulse.core.recorder.core import Recorder
from plantpulse.core.services import ServiceCall, ServiceField

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub

__all__ = [
    "CONFIG_SCHEMA",
    "DOMAIN",
    "STATISTIC_TYPES",
    "Period",
    "Recorder",
    "StatisticType",
    "async_setup",
    "get_recorder",
]


SERVICE_PURGE: Final = "purge"
ATTR_KEEP_DAYS: Final = "keep_days"

PURGE_SCHEMA: Final = vol.Schema({
    vol.Optional(ATTR_KEEP_DAYS): vol.All(vol.Coerce(int), vol.Range(min=0)),
})


async def async_setup(hub: Hub, config: dict[str, Any]) -> bool:
    """Open the database and start recording; a database that cannot be used raises."""
    recorder = Recorder(hub, RecorderConfig.from_block(hub.config_dir, config))
    await recorder.async_start()
    hub.data[DATA_RECORDER] = recorder

    def purge(call: ServiceCall) -> None:
        recorder.async_purge(call.data.get(ATTR_KEEP_DAYS))

    hub.services.async_register(
        DOMAIN, SERVICE_PURGE, purge, PURGE_SCHEMA, name="Purge",
        description="Delete recorded states and events older than keep_days (statistics are "
        "kept by their own retention). Runs in the background. Admins only.",
        fields={ATTR_KEEP_DAYS: ServiceField(
            "Days of states and events to keep (default: purge_keep_days)", example=10
        )},
        admin_only=True,
    )
    if "http" in hub.config:
        from plantpulse.core.recorder.import_view import async_register_import_view

        async_register_import_view(hub, recorder)
    return True


def get_recorder(hub: Hub) -> Recorder | None:
    """The hub's running recorder, or None when `recorder:` is not configured."""
    return hub.data.get(DATA_RECORDER)
