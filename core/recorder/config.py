"""The `recorder:` block: options named as Home Assistant users know them, and the DB path."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import voluptuous as vol

from plantpulse.core.config import validation as cv
from plantpulse.core.recorder.const import (
    DEFAULT_COMMIT_INTERVAL,
    DEFAULT_DB_FILE,
    DEFAULT_KEEP_5MINUTE_DAYS,
    DEFAULT_PURGE_KEEP_DAYS,
    DOMAIN,
    SQLITE_URL_PREFIX,
)
from plantpulse.core.recorder.filters import EntityFilter

CONF_DB_URL: Final = "db_url"
CONF_PURGE_KEEP_DAYS: Final = "purge_keep_days"
CONF_COMMIT_INTERVAL: Final = "commit_interval"
CONF_KEEP_5MINUTE_DAYS: Final = "keep_5minute_days"
CONF_KEEP_HOURLY_DAYS: Final = "keep_hourly_days"
CONF_AUTO_PURGE: Final = "auto_purge"
CONF_INCLUDE: Final = "include"
CONF_EXCLUDE: Final = "exclude"
CONF_DOMAINS: Final = "domains"
CONF_ENTITIES: Final = "entities"
CONF_ENTITY_GLOBS: Final = "entity_globs"
CONF_EVENT_TYPES: Final = "event_types"

_LATER_BACKENDS: Final = ("postgresql", "postgres")


def db_url(value: Any) -> str:
    """A `sqlite:///path` URL; PostgreSQL is refused with a word on when it comes."""
    text = cv.string(value).strip()
    scheme = text.partition(":")[0].partition("+")[0].lower()
    if scheme in _LATER_BACKENDS:
        raise vol.Invalid(
            "PostgreSQL is not supported yet (it comes in a later release); use a SQLite "
            f"URL such as '{SQLITE_URL_PREFIX}{DEFAULT_DB_FILE}' for now"
        )
    if not text.startswith(SQLITE_URL_PREFIX) or text == SQLITE_URL_PREFIX:
        raise vol.Invalid(
            f"unsupported database URL {text!r}: use '{SQLITE_URL_PREFIX}FILE' (relative to the "
            f"config dir) or '{SQLITE_URL_PREFIX}/absolute/path.db'"
        )
    if text.endswith(":memory:") or "mode=memory" in text:
        raise vol.Invalid("an in-memory database would lose all history at restart; use a file")
    return text


_positive_days = vol.All(vol.Coerce(int), vol.Range(min=1))

_INCLUDE_SCHEMA: Final = vol.Schema({
    vol.Optional(CONF_DOMAINS, default=[]): vol.All(cv.ensure_list, [cv.string]),
    vol.Optional(CONF_ENTITIES, default=[]): cv.entity_ids,
    vol.Optional(CONF_ENTITY_GLOBS, default=[]): vol.All(cv.ensure_list, [cv.string]),
})

_EXCLUDE_SCHEMA: Final = _INCLUDE_SCHEMA.extend({
    vol.Optional(CONF_EVENT_TYPES, default=[]): vol.All(cv.ensure_list, [cv.string]),
})

CONFIG_SCHEMA: Final = cv.empty_means_defaults(vol.Schema({
    vol.Optional(CONF_DB_URL): db_url,
    vol.Optional(CONF_PURGE_KEEP_DAYS, default=DEFAULT_PURGE_KEEP_DAYS): _positive_days,
    vol.Optional(CONF_COMMIT_INTERVAL, default=DEFAULT_COMMIT_INTERVAL): vol.All(
        vol.Coerce(float), vol.Range(min=0, max=60)
    ),
    vol.Optional(CONF_KEEP_5MINUTE_DAYS, default=DEFAULT_KEEP_5MINUTE_DAYS): _positive_days,
    vol.Optional(CONF_KEEP_HOURLY_DAYS): vol.Any(None, _positive_days),
    vol.Optional(CONF_AUTO_PURGE, default=True): cv.boolean,
    vol.Optional(CONF_INCLUDE, default={}): vol.All(lambda v: v or {}, _INCLUDE_SCHEMA),
    vol.Optional(CONF_EXCLUDE, default={}): vol.All(lambda v: v or {}, _EXCLUDE_SCHEMA),
}))


def database_path(config_dir: Path, url: str | None) -> Path:
    """The SQLite file a `db_url` names, absolute; a relative one is in the config dir."""
    if url is None:
        return Path(os.path.abspath(config_dir / DEFAULT_DB_FILE))
    path = Path(url[len(SQLITE_URL_PREFIX):].partition("?")[0])
    return Path(os.path.abspath(path if path.is_absolute() else config_dir / path))


@dataclass(frozen=True)
class RecorderConfig:
    """The validated `recorder:` block."""

    db_path: Path
    purge_keep_days: int = DEFAULT_PURGE_KEEP_DAYS
    commit_interval: float = DEFAULT_COMMIT_INTERVAL
    keep_5minute_days: int = DEFAULT_KEEP_5MINUTE_DAYS
    keep_hourly_days: int | None = None
    auto_purge: bool = True
    entity_filter: EntityFilter = field(default_factory=EntityFilter)
    exclude_event_types: frozenset[str] = frozenset()

    @classmethod
    def from_block(cls, config_dir: Path, block: dict[str, Any]) -> RecorderConfig:
        """Build from a block validated by CONFIG_SCHEMA."""
        include, exclude = block[CONF_INCLUDE], block[CONF_EXCLUDE]
        return cls(
            db_path=database_path(config_dir, block.get(CONF_DB_URL)),
            purge_keep_days=block[CONF_PURGE_KEEP_DAYS],
            commit_interval=block[CONF_COMMIT_INTERVAL],
            keep_5minute_days=block[CONF_KEEP_5MINUTE_DAYS],
            keep_hourly_days=block.get(CONF_KEEP_HOURLY_DAYS),
            auto_purge=block[CONF_AUTO_PURGE],
            entity_filter=EntityFilter(
                include_domains=frozenset(include[CONF_DOMAINS]),
                include_entities=frozenset(include[CONF_ENTITIES]),
                include_globs=tuple(include[CONF_ENTITY_GLOBS]),
                exclude_domains=frozenset(exclude[CONF_DOMAINS]),
                exclude_entities=frozenset(exclude[CONF_ENTITIES]),
                exclude_globs=tuple(exclude[CONF_ENTITY_GLOBS]),
            ),
            exclude_event_types=frozenset(exclude[CONF_EVENT_TYPES]),
        )


def database_path_of_config_dir(config_dir: Path) -> Path:
    """Where the recorder of `config_dir` keeps its database, read from its configuration.

    Blocking (reads YAML). A missing or invalid `recorder:` block means the default file.
    """
    from plantpulse.core.config.load import read_config_dir, validate_block

    raw = read_config_dir(config_dir)
    block, _issues = validate_block(DOMAIN, CONFIG_SCHEMA, raw.blocks.get(DOMAIN))
    return database_path(config_dir, (block or {}).get(CONF_DB_URL))
