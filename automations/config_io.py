"""Reading a block again for a reload, and reporting configuration problems as the core does.

Problems are logged one by one and shown in one persistent notification per domain
(`invalid_config_<domain>`), replaced on every reload and dismissed when none are left.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from plantpulse.core.config.errors import ConfigIssue
from plantpulse.core.config.load import read_config_dir, validate_block
from plantpulse.core.exceptions import ServiceValidationError

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub

_LOGGER = logging.getLogger(__name__)


def notification_id(domain: str) -> str:
    """The id of the notification listing `domain`'s configuration problems."""
    return f"invalid_config_{domain}"


def report_issues(hub: Hub, domain: str, issues: Iterable[ConfigIssue], *,
                  replace: bool) -> None:
    """Log each problem and show them in the domain's notification.

    `replace` (a reload) replaces what was shown before, and dismisses it when all is well;
    otherwise the problems are added to what the notification already lists.
    """
    issues = list(issues)
    for issue in issues:
        _LOGGER.error("%s", issue)
    notification = notification_id(domain)
    shown = [] if replace else [item for item in hub.data.get(notification, [])]
    shown.extend(str(issue) for issue in issues)
    hub.data[notification] = shown
    if shown:
        hub.notifications.async_create("\n".join(shown), title=f"Problems in '{domain}'",
                                       notification_id=notification)
    elif replace:
        hub.notifications.async_dismiss(notification)


async def async_read_block(
    hub: Hub, domain: str, schema: Callable[[Any], Any]
) -> tuple[Any, list[ConfigIssue]]:
    """The `domain` block as the YAML files say now, validated item by item.

    Returns the block and the problems found (YAML problems in the files the block came from
    included). Raises ServiceValidationError when configuration.yaml cannot be read: a
    reload must then change nothing.
    """
    raw = await hub.async_add_executor_job(read_config_dir, hub.config_dir)
    if not raw.readable:
        raise ServiceValidationError(
            f"{domain}.reload: configuration.yaml cannot be read; nothing was changed "
            "(run 'plantpulse check-config' to see why)"
        )
    block = raw.blocks.get(domain)
    if block is None and domain in raw.blocks and raw.issues:
        # An include that failed to load: reloading would remove everything.
        raise ServiceValidationError(
            f"{domain}.reload: the {domain} block cannot be read; nothing was changed: "
            + "; ".join(str(issue) for issue in raw.issues)
        )
    files = _files_of(block)
    yaml_issues = [issue for issue in raw.issues if issue.file in files]
    validated, issues = validate_block(domain, schema, block)
    return validated, [*yaml_issues, *issues]


def _files_of(block: Any) -> set[str | None]:
    files: set[str | None] = set()
    stack = [block]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            files.add(getattr(node, "file", None))
            stack.extend(node.values())
        elif isinstance(node, list):
            files.add(getattr(node, "file", None))
            stack.extend(node)
    files.discard(None)
    return files
