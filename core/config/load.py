"""Read a config dir: `configuration.yaml`, its includes and packages, validated block by block.

A problem drops the smallest broken item and keeps the rest: a bad list item (one sensor of
ten) goes, a bad top-level setting of a block falls back to its default, and only a block
broken at its root is dropped whole. Every problem becomes a ConfigIssue with file and line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import voluptuous as vol

from plantpulse.core.config.errors import ConfigIssue, humanize_invalid
from plantpulse.core.config.yaml_loader import NodeDict, NodeList, NodeStr, YamlLoad, locate
from plantpulse.core.const import CONFIG_FILE, CORE_DOMAIN

_MAX_ROUNDS = 200
_DROPPED = object()


@dataclass
class RawConfig:
    """The configuration as read from YAML, packages merged, not yet validated."""

    blocks: dict[str, Any]
    issues: list[ConfigIssue] = field(default_factory=list)
    readable: bool = True


def read_config_dir(config_dir: Path) -> RawConfig:
    """Read `configuration.yaml` with includes and packages. Blocking: run in an executor.

    `readable` is False when the main file is missing or not valid YAML at all.
    """
    load = YamlLoad(config_dir.resolve())
    data = load.load_file(config_dir.resolve() / CONFIG_FILE)
    if data is None:
        data = NodeDict(file=CONFIG_FILE, line=1)
        readable = not any(issue.file == CONFIG_FILE for issue in load.issues)
    elif not isinstance(data, dict):
        load.issue("the top level must be a mapping of integration names to settings",
                   CONFIG_FILE, 1)
        data, readable = NodeDict(file=CONFIG_FILE, line=1), False
    else:
        readable = True
    issues = list(load.issues)
    blocks = _merge_packages(data, issues)
    return RawConfig(blocks, issues, readable)


def _merge_packages(config: NodeDict, issues: list[ConfigIssue]) -> NodeDict:
    """Merge `plantpulse: packages:` into the top level, as Home Assistant packages do."""
    core = config.get(CORE_DOMAIN)
    if not isinstance(core, dict) or "packages" not in core:
        return config
    packages = core["packages"] if core["packages"] is not None else {}
    merged = config.copy()
    core_clone = core.copy()
    del core_clone["packages"]
    merged[CORE_DOMAIN] = core_clone
    if not isinstance(packages, dict):
        file, line = locate(config, (CORE_DOMAIN, "packages"))
        issues.append(ConfigIssue(CORE_DOMAIN, "packages must be a mapping of package names",
                                  file, line, ("packages",)))
        return merged
    for package_name, package in packages.items():
        if not isinstance(package, dict):
            file, line = locate(packages, (package_name,))
            issues.append(ConfigIssue(CORE_DOMAIN, f"package '{package_name}' must be a mapping",
                                      file, line, ("packages", package_name)))
            continue
        for domain, value in package.items():
            _merge_package_block(merged, package, package_name, domain, value, issues)
    return merged


def _merge_package_block(
    merged: NodeDict,
    package: NodeDict,
    package_name: str,
    domain: str,
    value: Any,
    issues: list[ConfigIssue],
) -> None:
    location = package.key_locations.get(domain, (package.file, package.line))

    def problem(message: str) -> None:
        issues.append(ConfigIssue(domain, f"package '{package_name}': {message}", *location,
                                  ("packages", package_name, domain)))

    if domain == CORE_DOMAIN:
        problem("site settings cannot come from a package")
        return
    existing = merged.get(domain)
    if existing is None:
        merged[domain] = value
        merged.key_locations[domain] = location
    elif isinstance(existing, list) or isinstance(value, list):
        combined = _as_node_list(existing, merged.key_locations.get(domain))
        addition = _as_node_list(value, location)
        combined.extend(addition)
        combined.item_locations.extend(addition.item_locations)
        merged[domain] = combined
    elif isinstance(existing, dict) and isinstance(value, dict):
        combined_dict = existing.copy() if isinstance(existing, NodeDict) else NodeDict(existing)
        for key, item in value.items():
            if key in combined_dict:
                key_location = getattr(value, "key_locations", {}).get(key, location)
                issues.append(ConfigIssue(
                    domain, f"package '{package_name}': key '{key}' is already defined",
                    *key_location, ("packages", package_name, domain, key),
                ))
                continue
            combined_dict[key] = item
            combined_dict.key_locations[key] = getattr(value, "key_locations", {}).get(
                key, location
            )
        merged[domain] = combined_dict
    else:
        problem("cannot merge with the main configuration (one is a mapping, one is not)")


def _as_node_list(value: Any, location: tuple[str | None, int | None] | None) -> NodeList:
    if isinstance(value, NodeList):
        return value.copy()
    items = value if isinstance(value, list) else [value]
    result = NodeList(items)
    result.item_locations = [location or (None, None)] * len(items)
    return result


def validate_block(
    domain: str, schema: vol.Schema | Any, block: Any
) -> tuple[Any | None, list[ConfigIssue]]:
    """Validate one top-level block, dropping the smallest broken items until it passes.

    Returns the validated block (None when it is broken at its root) and the issues found.
    """
    issues: list[ConfigIssue] = []
    dropped: set[tuple[Any, ...]] = set()
    data = block
    for _ in range(_MAX_ROUNDS):
        try:
            return schema(data), issues
        except vol.MultipleInvalid as err:
            errors = list(err.errors)
        except vol.Invalid as err:
            errors = [err]
        targets = []
        for error in errors:
            if tuple(error.path) in dropped:
                # A required setting we dropped for being invalid: already reported.
                return None, issues
            issues.append(_issue(domain, block, data, error))
            target = _drop_target(data, tuple(error.path))
            if target is None:
                return None, issues
            targets.append(target)
            if len(target) == 1:
                dropped.add(target)
        for target in targets:
            data = _mark_dropped(data, target)
        data = _sweep(data)
    return None, issues


def _issue(domain: str, block: Any, data: Any, error: vol.Invalid) -> ConfigIssue:
    path = tuple(error.path)
    file, line = locate(data, path)
    message = humanize_invalid(error)
    value = _node_at(data, path)
    if isinstance(value, NodeStr) and not value.secret and "unknown key" not in message:
        message = f"{message} (got '{value}')"
    return ConfigIssue(domain, message, file, line, _original_path(block, data, path))


def _original_path(block: Any, data: Any, path: tuple[Any, ...]) -> tuple[Any, ...]:
    """Map a path in the pruned data back to list indexes as the user wrote them."""
    original, current, result = block, data, []
    for part in path:
        try:
            item = current[part]
        except (KeyError, IndexError, TypeError):
            result.append(part)
            original = current = None
            continue
        if isinstance(current, list) and isinstance(original, list):
            part = next((index for index, candidate in enumerate(original)
                         if candidate is item), part)
        result.append(part)
        current = item
        original = _node_at(original, (part,))
    return tuple(result)


def _node_at(data: Any, path: tuple[Any, ...]) -> Any:
    node = data
    for part in path:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return None
    return node


def _exists(data: Any, path: tuple[Any, ...]) -> bool:
    node = data
    for part in path:
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if in_list or (isinstance(node, dict) and part in node):
            node = node[part]
        else:
            return False
    return True


def _drop_target(data: Any, path: tuple[Any, ...]) -> tuple[Any, ...] | None:
    """Choose what to drop for an error at `path`; None means the whole block is broken."""
    node = data
    list_item: tuple[Any, ...] | None = None
    for index, part in enumerate(path):
        if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            list_item = path[: index + 1]
            node = node[part]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            break
    if list_item is not None:
        return list_item
    target = path[:-1] if len(path) >= 2 else path
    if not target or not _exists(data, target):
        return None
    return target


def _mark_dropped(data: Any, path: tuple[Any, ...]) -> Any:
    clone = data.copy()
    head = path[0]
    if len(path) == 1:
        if isinstance(clone, list):
            clone[head] = _DROPPED
        else:
            del clone[head]
            if isinstance(clone, NodeDict):
                clone.key_locations.pop(head, None)
        return clone
    clone[head] = _mark_dropped(data[head], path[1:])
    return clone


def _sweep(data: Any) -> Any:
    """Remove dropped list items; containers without drops are returned as they are."""
    if isinstance(data, list):
        items = [_sweep(item) for item in data if item is not _DROPPED]
        unchanged = len(items) == len(data)
        if unchanged and all(new is old for new, old in zip(items, data, strict=True)):
            return data
        clone = data.copy()
        clone[:] = items
        if isinstance(clone, NodeList):
            clone.item_locations = [
                location for item, location in zip(data, data.item_locations, strict=True)
                if item is not _DROPPED
            ]
        return clone
    if isinstance(data, dict):
        changed = {key: _sweep(value) for key, value in data.items()}
        if all(changed[key] is data[key] for key in data):
            return data
        clone = data.copy()
        clone.update(changed)
        return clone
    return data
