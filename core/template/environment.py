"""The sandbox templates run in: immutable Jinja2 with a step budget and size caps.

A render may take at most MAX_STEPS steps (function calls and loop iterations over ranges and
states), build no value larger than MAX_SIZE characters or items, and produce at most
MAX_OUTPUT characters. All three are counters checked as the template runs: no timer and no
thread per render, so the limits cost almost nothing.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Iterator
from functools import wraps
from typing import Any, Final

from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame, optimizeconst
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment

from plantpulse.core.template.errors import TemplateError
from plantpulse.core.template.info import ACTIVE, RenderInfo

MAX_STEPS: Final = 100_000
MAX_SIZE: Final = 256 * 1024
MAX_OUTPUT: Final = 256 * 1024
MAX_EXPONENT: Final = 10_000

_SIZED = (str, list, tuple, bytes)


def _check_size(value: Any) -> Any:
    if isinstance(value, _SIZED) and len(value) > MAX_SIZE:
        raise TemplateError(
            f"the template built a value of {len(value):,} characters or items; the limit is "
            f"{MAX_SIZE:,}"
        )
    return value


def _over_budget() -> TemplateError:
    return TemplateError(
        f"the template took more than {MAX_STEPS:,} steps (calls and loop iterations): it was "
        "stopped"
    )


def take_step() -> None:
    """Count one step against the budget of the render in progress."""
    info = ACTIVE.render
    if info is not None:
        info.steps += 1
        if info.steps > MAX_STEPS:
            raise _over_budget()


def budgeted(items: Iterable[Any]) -> Iterator[Any]:
    """Iterate while counting each item as a step."""
    for item in items:
        take_step()
        yield item


def _range(*args: int) -> Iterator[int]:
    return budgeted(range(*args))


def _checked_join(parts: Iterable[Any]) -> str:
    return _check_size("".join(map(str, parts)))


class _CodeGenerator(CodeGenerator):
    """Compiles `a ~ b` through a join that checks the size of what it builds."""

    @optimizeconst
    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.checked_join((")
        for argument in node.nodes:
            self.visit(argument, frame)
            self.write(", ")
        self.write("))")


def _size_checked(function: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(function)
    def checked(*args: Any, **kwargs: Any) -> Any:
        return _check_size(function(*args, **kwargs))

    return checked


class TemplateEnvironment(ImmutableSandboxedEnvironment):
    """Jinja2's immutable sandbox, counting steps and refusing oversized values."""

    code_generator_class = _CodeGenerator
    intercepted_binops = frozenset({"*", "**", "+", "%"})
    checked_join = staticmethod(_checked_join)

    def __init__(self) -> None:
        super().__init__(autoescape=False, trim_blocks=True, lstrip_blocks=True,
                         keep_trailing_newline=False, cache_size=0)
        # Built-in filters can build big strings (center, indent, format...): check results.
        self.filters = {name: _size_checked(func) for name, func in self.filters.items()}
        self.globals["range"] = _range
        self.globals_snapshot: dict[str, Any] = dict(self.globals)

    def add_globals(self, functions: dict[str, Any]) -> None:
        """Add global functions (and keep the per-render snapshot in step)."""
        self.globals.update(functions)
        self.globals_snapshot = dict(self.globals)

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        """Call a function from a template, counting the call against the budget."""
        info = ACTIVE.render
        if info is not None:
            info.steps += 1
            if info.steps > MAX_STEPS:
                raise _over_budget()
        return super().call(__context, __obj, *args, **kwargs)

    def call_binop(self, context: Context, operator_name: str, left: Any, right: Any) -> Any:
        """`*`, `**`, `+` and `%` with the size of their result checked first."""
        if operator_name == "**":
            if isinstance(right, int) and abs(right) > MAX_EXPONENT:
                raise TemplateError(f"exponent {right} is too large (limit {MAX_EXPONENT})")
        elif operator_name == "*":
            for sized, times in ((left, right), (right, left)):
                if (isinstance(sized, _SIZED) and isinstance(times, int)
                        and len(sized) * times > MAX_SIZE):
                    raise TemplateError(
                        f"repeating a value {times:,} times would exceed {MAX_SIZE:,} "
                        "characters or items"
                    )
        elif (operator_name == "+" and isinstance(left, _SIZED) and isinstance(right, _SIZED)
              and len(left) + len(right) > MAX_SIZE):
            raise TemplateError(f"joining these values would exceed {MAX_SIZE:,} items")
        result = _BINOPS[operator_name](left, right)
        return _check_size(result) if operator_name == "%" else result


_BINOPS: Final = {"*": operator.mul, "**": operator.pow, "+": operator.add, "%": operator.mod}


def render_capped(compiled: Any, variables: dict[str, Any] | None, info: RenderInfo) -> str:
    """Render a compiled template, stopping as soon as its output passes MAX_OUTPUT.

    The context's parent is the environment's globals as a plain dict, built once: Jinja
    would otherwise copy its globals (a ChainMap, key by key) on every render.
    """
    environment: TemplateEnvironment = compiled.environment
    parent = environment.globals_snapshot
    if variables:
        parent = {**parent, **variables}
    context = compiled.new_context(parent, shared=True)
    pieces = []
    size = 0
    for piece in compiled.root_render_func(context):
        size += len(piece)
        if size > MAX_OUTPUT:
            raise TemplateError(f"the template's output passed {MAX_OUTPUT:,} characters: "
                                "it was stopped")
        pieces.append(piece)
    return "".join(pieces)
