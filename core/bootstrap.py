"""From a config dir to a running hub: seed the dir, read config, load storage, set up."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
from pathlib import Path
from typing import Final

import plantpulse
from plantpulse.core.clock import Clock
from plantpulse.core.config.errors import ConfigIssue, without_consequences
from plantpulse.core.config.load import RawConfig, read_config_dir, validate_block
from plantpulse.core.config.site import SITE_SCHEMA, SiteConfig
from plantpulse.core.const import CORE_DOMAIN, DEFAULT_CONFIG_DIR, ENV_CONFIG_DIR
from plantpulse.core.exceptions import ConfigError
from plantpulse.core.hub import Hub
from plantpulse.core.loader import async_setup_plan, prepare_setup

_LOGGER = logging.getLogger(__name__)

BUNDLED_CONFIG: Final = Path(plantpulse.__file__).resolve().parent / "config"
CONFIG_NOTIFICATION_ID: Final = "invalid_config"


def resolve_config_dir(argument: str | None) -> Path:
    """`--config DIR`, else `$PLANTPULSE_CONFIG`, else `~/.plantpulse`."""
    chosen = argument or os.environ.get(ENV_CONFIG_DIR) or DEFAULT_CONFIG_DIR
    return Path(chosen).expanduser().resolve()


def seed_config_dir(config_dir: Path) -> bool:
    """Copy the bundled demo configuration into a missing or empty config dir.

    Returns True when it seeded. Raises ConfigError when the dir cannot be created.
    """
    if config_dir.is_dir() and any(config_dir.iterdir()):
        return False
    try:
        config_dir.mkdir(parents=True, exist_ok=True)
        shutil.copytree(BUNDLED_CONFIG, config_dir, dirs_exist_ok=True)
    except OSError as err:
        raise ConfigError(
            f"Cannot create the config dir {config_dir}: {err.strerror}. Choose another with "
            "--config or make it writable."
        ) from err
    return True


def site_from_raw(raw: RawConfig) -> tuple[SiteConfig, list[ConfigIssue]]:
    """Validate the `plantpulse:` block; broken settings fall back to defaults."""
    block, issues = validate_block(CORE_DOMAIN, SITE_SCHEMA, raw.blocks.get(CORE_DOMAIN))
    return (SiteConfig.from_config(block) if block else SiteConfig()), issues


async def async_setup_hub(config_dir: Path, clock: Clock | None = None) -> Hub:
    """Create a hub for `config_dir` and set up everything its configuration asks for.

    Configuration problems are logged and shown as a notification; the valid rest runs. When
    `configuration.yaml` cannot be read at all, the hub runs its HTTP server on defaults so the
    problem can be seen in the browser. Unreadable `.storage` files raise StorageError instead,
    so nothing stored is overwritten. `clock` replaces the system clock (tests, simulations).
    """
    loop = asyncio.get_running_loop()
    raw = await loop.run_in_executor(None, read_config_dir, config_dir)
    site, site_issues = site_from_raw(raw)
    hub = Hub(config_dir, site, clock)
    await asyncio.gather(
        hub.area_registry.async_load(),
        hub.device_registry.async_load(),
        hub.entity_registry.async_load(),
    )
    if not raw.readable:
        hub.recovery_mode = True
        raw.blocks = {"http": None}
    # Reads manifests and imports integration code: off the loop.
    plan = await loop.run_in_executor(None, prepare_setup, config_dir, raw)
    hub.config = plan.configs
    hub.config_issues = without_consequences([*raw.issues, *site_issues, *plan.issues])
    for issue in hub.config_issues:
        _LOGGER.error("%s", issue)
    if hub.config_issues:
        hub.notifications.async_create(
            "\n".join(str(issue) for issue in hub.config_issues),
            title="Configuration problems" if raw.readable
            else "configuration.yaml cannot be read: running the web UI on defaults",
            notification_id=CONFIG_NOTIFICATION_ID,
        )
    await async_setup_plan(hub, plan)
    return hub
