"""YAML loading that remembers where every key came from, with the hub's include tags.

Tags: `!include FILE`, `!include_dir_list DIR`, `!include_dir_named DIR`,
`!include_dir_merge_named DIR`, `!include_dir_merge_list DIR`, `!secret NAME` (from the nearest
`secrets.yaml` between the file's folder and the config dir), `!env_var NAME [DEFAULT]`, and
`!input NAME` (a BlueprintInput marker, replaced when a blueprint is used).

Mappings load as NodeDict, sequences as NodeList and strings as NodeStr; each knows its file and
line, and a NodeDict knows the line of each key, so an error can point at the offending key.
Problems do not stop the load: they are collected as ConfigIssue and the broken node becomes
None, so the rest of the configuration still loads.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from plantpulse.core.config.errors import ConfigIssue
from plantpulse.core.const import SECRETS_FILE

_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class NodeStr(str):
    """A string that remembers its file and line; `secret` marks values from `!secret`."""

    file: str | None = None
    line: int | None = None
    secret: bool = False


Location = tuple[str | None, int | None]


class BlueprintInput(str):
    """`!input name` in a blueprint: replaced by the automation's value for that input."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"!input {str.__str__(self)}"


class NodeDict(dict[Any, Any]):
    """A mapping that remembers its file and line, and the file and line of each key."""

    __slots__ = ("file", "key_locations", "line")

    def __init__(self, *args: Any, file: str | None = None, line: int | None = None) -> None:
        super().__init__(*args)
        self.file = file
        self.line = line
        self.key_locations: dict[Any, Location] = {}

    def copy(self) -> NodeDict:  # type: ignore[override]
        """Shallow copy that keeps the location data."""
        clone = NodeDict(self, file=self.file, line=self.line)
        clone.key_locations = dict(self.key_locations)
        return clone


class NodeList(list[Any]):
    """A sequence that remembers its file and line, and the file and line of each item."""

    __slots__ = ("file", "item_locations", "line")

    def __init__(self, *args: Any, file: str | None = None, line: int | None = None) -> None:
        super().__init__(*args)
        self.file = file
        self.line = line
        self.item_locations: list[Location] = []

    def copy(self) -> NodeList:  # type: ignore[override]
        """Shallow copy that keeps the location data."""
        clone = NodeList(self, file=self.file, line=self.line)
        clone.item_locations = list(self.item_locations)
        return clone


@dataclass
class YamlLoad:
    """The state of one configuration load: where files are, what went wrong."""

    config_dir: Path
    issues: list[ConfigIssue] = field(default_factory=list)
    _stack: list[Path] = field(default_factory=list)
    _secrets: dict[Path, Any] = field(default_factory=dict)

    def label(self, path: Path) -> str:
        """Name a file for messages: relative to the config dir when inside it."""
        try:
            return str(path.relative_to(self.config_dir))
        except ValueError:
            return str(path)

    def issue(self, message: str, file: str | None, line: int | None) -> None:
        """Record a problem found while loading."""
        self.issues.append(ConfigIssue(None, message, file, line))

    def load_file(self, path: Path, origin: tuple[str, int] | None = None) -> Any:
        """Load one YAML file; on any problem record it and return None."""
        path = path.resolve()
        where_file, where_line = origin if origin else (self.label(path), None)
        if path in self._stack:
            chain = " -> ".join(self.label(item) for item in [*self._stack, path])
            self.issue(f"include loop: {chain}", where_file, where_line)
            return None
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            self.issue(f"file not found: {self.label(path)}", where_file, where_line)
            return None
        except UnicodeDecodeError as err:
            self.issue(f"{self.label(path)} is not UTF-8 text ({err.reason})", where_file,
                       where_line)
            return None
        except OSError as err:
            self.issue(f"cannot read {self.label(path)}: {err.strerror}", where_file, where_line)
            return None
        self._stack.append(path)
        try:
            return self.parse(text, path)
        finally:
            self._stack.pop()

    def parse(self, text: str, path: Path) -> Any:
        """Parse YAML text that belongs to `path` (used for messages and relative includes)."""
        loader = _Loader(text)
        loader.load = self
        loader.path = path
        loader.file_label = self.label(path)
        try:
            return loader.get_single_data()
        except yaml.MarkedYAMLError as err:
            mark = err.problem_mark or err.context_mark
            line = mark.line + 1 if mark else None
            problem = " ".join(part for part in (err.context, err.problem) if part)
            self.issue(f"YAML syntax error: {problem}", loader.file_label, line)
        except yaml.YAMLError as err:
            self.issue(f"YAML error: {err}", loader.file_label, None)
        finally:
            loader.dispose()
        return None

    def secret(self, name: str, requested_in: Path, file: str, line: int) -> Any:
        """Find `name` in the nearest secrets.yaml from `requested_in`'s folder upwards."""
        folder = requested_in.parent
        config_dir = self.config_dir.resolve()
        while True:
            secrets = self._secrets_in(folder / SECRETS_FILE)
            if isinstance(secrets, dict) and name in secrets:
                return secrets[name]
            if folder == config_dir or folder.parent == folder:
                break
            folder = folder.parent
        self.issue(f"secret '{name}' is not defined in {SECRETS_FILE}", file, line)
        return None

    def _secrets_in(self, path: Path) -> Any:
        if path not in self._secrets:
            self._secrets[path] = self.load_file(path) if path.is_file() else None
        return self._secrets[path]


class _Loader(_BaseLoader):  # type: ignore[misc,valid-type]
    load: YamlLoad
    path: Path
    file_label: str


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _construct_str(loader: _Loader, node: yaml.ScalarNode) -> NodeStr:
    value = NodeStr(loader.construct_scalar(node))
    value.file = loader.file_label
    value.line = _line(node)
    return value


def _construct_seq(loader: _Loader, node: yaml.SequenceNode) -> NodeList:
    result = NodeList(file=loader.file_label, line=_line(node))
    for item in node.value:
        result.append(loader.construct_object(item, deep=True))
        result.item_locations.append((loader.file_label, _line(item)))
    return result


def _construct_map(loader: _Loader, node: yaml.MappingNode) -> NodeDict:
    loader.flatten_mapping(node)
    result = NodeDict(file=loader.file_label, line=_line(node))
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if isinstance(key, str):
            key = str.__str__(key)
        try:
            hash(key)
        except TypeError:
            loader.load.issue("a mapping key must be a plain value, not a list or mapping",
                              loader.file_label, _line(key_node))
            continue
        if key in result:
            loader.load.issue(
                f"duplicate key '{key}' (first at line {result.key_locations[key][1]})",
                loader.file_label, _line(key_node),
            )
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_locations[key] = (loader.file_label, _line(key_node))
    return result


def _scalar_argument(loader: _Loader, node: yaml.Node, tag: str) -> str | None:
    if not isinstance(node, yaml.ScalarNode) or not str(node.value).strip():
        loader.load.issue(f"{tag} needs a name after it", loader.file_label, _line(node))
        return None
    return str(node.value).strip()


def _include(loader: _Loader, node: yaml.Node) -> Any:
    name = _scalar_argument(loader, node, "!include")
    if name is None:
        return None
    return loader.load.load_file(loader.path.parent / name, (loader.file_label, _line(node)))


def _dir_files(loader: _Loader, node: yaml.Node, tag: str) -> list[Path] | None:
    name = _scalar_argument(loader, node, tag)
    if name is None:
        return None
    folder = (loader.path.parent / name).resolve()
    if not folder.is_dir():
        loader.load.issue(f"{tag}: folder not found: {loader.load.label(folder)}",
                          loader.file_label, _line(node))
        return None
    files = []
    for root, dirs, names in os.walk(folder):
        dirs[:] = sorted(item for item in dirs if not item.startswith("."))
        files.extend(
            Path(root) / item for item in sorted(names)
            if item.endswith((".yaml", ".yml")) and not item.startswith(".")
            and item != SECRETS_FILE
        )
    return files


def _include_dir(
    combine: Callable[[_Loader, yaml.Node, list[tuple[Path, Any]]], Any], tag: str
) -> Callable[[_Loader, yaml.Node], Any]:
    def construct(loader: _Loader, node: yaml.Node) -> Any:
        files = _dir_files(loader, node, tag)
        if files is None:
            return None
        origin = (loader.file_label, _line(node))
        loaded = [(path, loader.load.load_file(path, origin)) for path in files]
        return combine(loader, node, [(path, data) for path, data in loaded if data is not None])

    return construct


def _where(loader: _Loader, path: Path, data: Any) -> Location:
    return loader.load.label(path), getattr(data, "line", None) or 1


def _combine_list(loader: _Loader, node: yaml.Node, loaded: list[tuple[Path, Any]]) -> NodeList:
    result = NodeList(file=loader.file_label, line=_line(node))
    for path, data in loaded:
        result.append(data)
        result.item_locations.append(_where(loader, path, data))
    return result


def _combine_named(loader: _Loader, node: yaml.Node, loaded: list[tuple[Path, Any]]) -> NodeDict:
    result = NodeDict(file=loader.file_label, line=_line(node))
    for path, data in loaded:
        result[path.stem] = data
        result.key_locations[path.stem] = _where(loader, path, data)
    return result


def _combine_merge_named(
    loader: _Loader, node: yaml.Node, loaded: list[tuple[Path, Any]]
) -> NodeDict:
    result = NodeDict(file=loader.file_label, line=_line(node))
    for path, data in loaded:
        if not isinstance(data, NodeDict):
            loader.load.issue("!include_dir_merge_named needs a mapping in each file",
                              loader.load.label(path), 1)
            continue
        for key, value in data.items():
            if key in result:
                loader.load.issue(f"duplicate key '{key}' across included files",
                                  *data.key_locations[key])
                continue
            result[key] = value
            result.key_locations[key] = data.key_locations[key]
    return result


def _combine_merge_list(
    loader: _Loader, node: yaml.Node, loaded: list[tuple[Path, Any]]
) -> NodeList:
    result = NodeList(file=loader.file_label, line=_line(node))
    for path, data in loaded:
        if isinstance(data, NodeList):
            result.extend(data)
            result.item_locations.extend(data.item_locations)
        else:
            result.append(data)
            result.item_locations.append(_where(loader, path, data))
    return result


def _secret(loader: _Loader, node: yaml.Node) -> Any:
    name = _scalar_argument(loader, node, "!secret")
    if name is None:
        return None
    value = loader.load.secret(name, loader.path, loader.file_label, _line(node))
    if isinstance(value, str):
        value = NodeStr(value)
        value.file, value.line, value.secret = loader.file_label, _line(node), True
    return value


def _env_var(loader: _Loader, node: yaml.Node) -> Any:
    argument = _scalar_argument(loader, node, "!env_var")
    if argument is None:
        return None
    name, _, default = argument.partition(" ")
    value = os.environ.get(name)
    if value is None:
        if not default:
            loader.load.issue(f"environment variable {name} is not set and has no default",
                              loader.file_label, _line(node))
            return None
        value = default.strip()
    result = NodeStr(value)
    result.file, result.line = loader.file_label, _line(node)
    return result


_Loader.add_constructor("tag:yaml.org,2002:str", _construct_str)
_Loader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)
_Loader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_Loader.add_constructor("!include", _include)
_Loader.add_constructor("!include_dir_list", _include_dir(_combine_list, "!include_dir_list"))
_Loader.add_constructor("!include_dir_named", _include_dir(_combine_named, "!include_dir_named"))
_Loader.add_constructor(
    "!include_dir_merge_named", _include_dir(_combine_merge_named, "!include_dir_merge_named")
)
_Loader.add_constructor(
    "!include_dir_merge_list", _include_dir(_combine_merge_list, "!include_dir_merge_list")
)
_Loader.add_constructor("!secret", _secret)
_Loader.add_constructor("!input", lambda loader, node: BlueprintInput(
    _scalar_argument(loader, node, "!input") or ""))
_Loader.add_constructor("!env_var", _env_var)



def locate(root: Any, path: tuple[Any, ...] | list[Any]) -> tuple[str | None, int | None]:
    """Return the file and line of the deepest node on `path` that exists in `root`.

    For a mapping key the line is the key's own line, so errors point at the offending key.
    """
    location: Location = (getattr(root, "file", None), getattr(root, "line", None))
    node = root
    for part in path:
        if isinstance(node, NodeDict) and part in node:
            location = node.key_locations.get(part, (node.file, node.line))
            node = node[part]
        elif isinstance(node, NodeList) and isinstance(part, int) and 0 <= part < len(node):
            if part < len(node.item_locations):
                location = node.item_locations[part]
            node = node[part]
        else:
            break
    return location
