"""The recorder: states, events and statistics in SQLite, with history and statistics queries.

Configured by the `recorder:` block (an empty block means defaults). Other parts reach the
running recorder with `get_recorder(hub)`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from plantpulse.core.recorder.config import CONFIG_SCHEMA, RecorderConfig
from plantpulse.core.recorder.const import DATA_RECORDER, DOMAIN
from plantpulse.core.recorder.core import Recorder

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub

__all__ = ["CONFIG_SCHEMA", "DOMAIN", "Recorder", "async_setup", "get_recorder"]


async def async_setup(hub: Hub, config: dict[str, Any]) -> bool:
    """Open the database and start recording; a database that cannot be used raises."""
    recorder = Recorder(hub, RecorderConfig.from_block(hub.config_dir, config))
    await recorder.async_start()
    hub.data[DATA_RECORDER] = recorder
    return True


def get_recorder(hub: Hub) -> Recorder | None:
    """The hub's running recorder, or None when `recorder:` is not configured."""
    return hub.data.get(DATA_RECORDER)
