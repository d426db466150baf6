"""Jinja2 templates in YAML: `{{ states('sensor.line_load') | float(0) > 40 }}`.

A `Template` is made from source text when the configuration is validated (no hub needed)
and rendered for a hub: `template.async_render(hub, variables)`. Renders run in an immutable
sandbox with a step budget and size caps (see environment.py), record which entities they
read (`async_render_with_info`), and parse their result into a Python value (`True`, `42.5`,
a list) unless asked not to. Integrations add their own functions with
`async_register_template_function(hub, name, func)` (the energy integration adds
`tariff_period()`); the core names none of them.
"""

from __future__ import annotations

from ast import literal_eval
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import jinja2

from plantpulse.core.template.environment import TemplateEnvironment, render_capped
from plantpulse.core.template.errors import TemplateError
from plantpulse.core.template.helpers import hub_namespace
from plantpulse.core.template.info import ACTIVE, RenderInfo

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub

__all__ = [
    "RenderInfo",
    "RenderResult",
    "Template",
    "TemplateError",
    "async_register_template_filter",
    "async_register_template_function",
    "render_complex",
]

_DATA_KEY: Final = "core.template_environment"
_MARKERS: Final = ("{{", "{%", "{#")
_COMPILED_CACHE_LIMIT: Final = 4096


def environment_of(hub: Hub) -> TemplateEnvironment:
    """The hub's template environment, with the hub's functions and filters."""
    environment = hub.data.get(_DATA_KEY)
    if environment is None:
        environment = TemplateEnvironment()
        functions, filters = hub_namespace(hub)
        environment.add_globals(functions)
        environment.filters.update(filters)
        environment.compiled_cache = {}  # type: ignore[attr-defined]
        hub.data[_DATA_KEY] = environment
    return environment


def async_register_template_function(hub: Hub, name: str, func: Callable[..., Any]) -> None:
    """Make `func` callable as `name(...)` in every template of this hub."""
    environment_of(hub).add_globals({name: func})


def async_register_template_filter(hub: Hub, name: str, func: Callable[..., Any]) -> None:
    """Make `func` usable as `value | name(...)` in every template of this hub."""
    environment_of(hub).filters[name] = func


@dataclass(frozen=True, slots=True)
class RenderResult:
    """A render's value (or the error that stopped it) and what it read."""

    value: Any
    info: RenderInfo
    error: TemplateError | None = None


class Template:
    """Template source from the configuration, rendered for a hub."""

    __slots__ = ("_compiled", "_environment", "is_static", "source")

    def __init__(self, source: str) -> None:
        if not isinstance(source, str):
            raise TypeError("a template is made from a string")
        self.source = source
        self.is_static = not any(marker in source for marker in _MARKERS)
        self._environment: TemplateEnvironment | None = None
        self._compiled: jinja2.Template | None = None

    def __repr__(self) -> str:
        return f"Template({self.source!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Template) and other.source == self.source

    def __hash__(self) -> int:
        return hash(self.source)

    def ensure_valid(self) -> None:
        """Check the syntax without a hub; raises TemplateError naming the problem."""
        if self.is_static:
            return
        try:
            TemplateEnvironment().parse(self.source)
        except jinja2.TemplateSyntaxError as err:
            raise TemplateError(f"invalid template (line {err.lineno}): {err.message}") from err

    def _compile(self, hub: Hub) -> jinja2.Template:
        environment = environment_of(hub)
        if self._environment is environment and self._compiled is not None:
            return self._compiled
        cache: dict[str, jinja2.Template] = environment.compiled_cache  # type: ignore[attr-defined]
        compiled = cache.get(self.source)
        if compiled is None:
            try:
                compiled = environment.from_string(self.source)
                # A plain dict instead of Jinja's ChainMap: every render copies its keys.
                compiled.globals = environment.globals_snapshot
            except jinja2.TemplateSyntaxError as err:
                raise TemplateError(
                    f"invalid template (line {err.lineno}): {err.message}"
                ) from err
            if len(cache) >= _COMPILED_CACHE_LIMIT:
                cache.clear()
            cache[self.source] = compiled
        self._environment, self._compiled = environment, compiled
        return compiled

    def async_render(
        self, hub: Hub, variables: Mapping[str, Any] | None = None, *, parse_result: bool = True
    ) -> Any:
        """Render on the event loop; raises TemplateError (the message says what failed).

        The text is stripped of surrounding whitespace before it is parsed, as Home Assistant
        does, so a multi-line template that spells 630 gives the number 630.
        """
        if self.is_static:
            text = self.source.strip()
            return parse(text) if parse_result else text
        compiled = self._compile(hub)
        outer = ACTIVE.render
        info = ACTIVE.render = RenderInfo()
        try:
            text = render_capped(compiled, variables, info).strip()  # type: ignore[arg-type]
        except TemplateError:
            raise
        except Exception as err:
            raise TemplateError(f"{type(err).__name__}: {err}") from err
        finally:
            ACTIVE.render = outer
        return parse(text) if parse_result else text

    def async_render_with_info(
        self, hub: Hub, variables: Mapping[str, Any] | None = None, *, parse_result: bool = True
    ) -> RenderResult:
        """Render and report what was read; an error is returned, not raised."""
        if self.is_static:
            text = self.source.strip()
            return RenderResult(parse(text) if parse_result else text, RenderInfo())
        outer = ACTIVE.render
        info = ACTIVE.render = RenderInfo()
        try:
            compiled = self._compile(hub)
            text = render_capped(compiled, variables, info).strip()  # type: ignore[arg-type]
        except TemplateError as err:
            return RenderResult(None, info, err)
        except Exception as err:
            return RenderResult(None, info, TemplateError(f"{type(err).__name__}: {err}"))
        finally:
            ACTIVE.render = outer
        return RenderResult(parse(text) if parse_result else text, info)


def parse(text: str) -> Any:
    """Turn rendered text into the Python value it spells (`True`, `42.5`, `[1, 2]`), else text.

    Numbers with leading zeros (`0012`, a meter's serial) and text stay text.
    """
    if text == "True":
        return True
    if text == "False":
        return False
    if text == "None":
        return None
    stripped = text.strip()
    if not stripped or stripped != text:
        return text
    first = stripped[0]
    if first.isdigit() or first in "-+.":
        if len(stripped) > 1 and stripped[0] == "0" and stripped[1].isdigit():
            return text
        try:
            return int(stripped)
        except ValueError:
            try:
                number = float(stripped)
            except ValueError:
                return text
            return number if "e" not in stripped.lower() or first.isdigit() else text
    if first in "[{(":
        try:
            value = literal_eval(stripped)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            return text
        return value if isinstance(value, list | dict | tuple | set) else text
    return text


def render_complex(value: Any, hub: Hub, variables: Mapping[str, Any] | None = None) -> Any:
    """Render every Template inside nested lists and mappings (service data, event data)."""
    if isinstance(value, Template):
        return value.async_render(hub, variables)
    if isinstance(value, Mapping):
        return {
            render_complex(key, hub, variables): render_complex(item, hub, variables)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [render_complex(item, hub, variables) for item in value]
    return value
