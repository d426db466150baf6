"""The `logger:` block: default level and per-logger levels, as Home Assistant users know it."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

from plantpulse.core.config import validation as cv

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub

LEVELS: Final = {
    "critical": logging.CRITICAL, "fatal": logging.CRITICAL, "error": logging.ERROR,
    "warning": logging.WARNING, "warn": logging.WARNING, "info": logging.INFO,
    "debug": logging.DEBUG, "notset": logging.NOTSET,
}

_level = vol.All(cv.string, vol.Lower, vol.In(LEVELS))

CONFIG_SCHEMA: Final = cv.empty_means_defaults(vol.Schema({
    vol.Optional("default", default="info"): _level,
    vol.Optional("logs", default={}): {cv.string: _level},
}))


async def async_setup(hub: Hub, config: dict[str, Any]) -> bool:
    """Apply the configured log levels."""
    logging.getLogger().setLevel(LEVELS[config["default"]])
    for name, level in config["logs"].items():
        logging.getLogger(name).setLevel(LEVELS[level])
    return True
