"""The meter tree: nodes from site down to equipment, real meters and virtual ones.

    meters:
      - id: main
        name: 2号变进线
        level: site
        type: electricity
        entity: sensor.main_incomer_kwh
        tariff: ningxia_10kv
        children:
          - id: yang36
            level: line
            entity: sensor.yang36_kwh
            cost_centre: 活化车间
            targets: {sharp: 5, peak: 20, valley: 40}
          - id: other
            level: line
            virtual: {difference: [main, yang36]}     # or sum: [...], formula: "a - 0.5 * b"

A node reads a meter entity (a `total_increasing` sensor, through the recorder's
statistics) or is virtual over other nodes. `type`, `tariff`, `targets` and `cost_centre`
are inherited from the parent when not given. A cost centre is a name, or shares of the
node's energy: `cost_centre: {活化车间: 0.6, 成型车间: 0.4}`.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import voluptuous as vol

from plantpulse.core.config import validation as cv
from plantpulse.integrations.energy.const import LEVEL_DEPTH, EnergyType, Level, Period

CONF_ID: Final = "id"
CONF_NAME: Final = "name"
CONF_LEVEL: Final = "level"
CONF_TYPE: Final = "type"
CONF_ENTITY: Final = "entity"
CONF_VIRTUAL: Final = "virtual"
CONF_TARIFF: Final = "tariff"
CONF_TARGETS: Final = "targets"
CONF_COST_CENTRE: Final = "cost_centre"
CONF_CHILDREN: Final = "children"
CONF_SUM: Final = "sum"
CONF_DIFFERENCE: Final = "difference"
CONF_FORMULA: Final = "formula"

_OPERATORS: Final[dict[type, Callable[[Any, Any], Any]]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}


def targets(value: Any) -> dict[Period, float]:
    """Target shares in % per period."""
    return vol.Schema({vol.Coerce(Period): vol.All(vol.Coerce(float),
                                                   vol.Range(min=0, max=100))})(value)


def _cost_centre(value: Any) -> dict[str, float]:
    if isinstance(value, Mapping):
        shares = vol.Schema({cv.string: vol.All(vol.Coerce(float), vol.Range(min=0))})(value)
        total = sum(shares.values())
        if not shares or abs(total - 1) > 1e-9:
            raise vol.Invalid(f"cost centre shares must add up to 1 (they add up to {total:g})")
        return shares
    return {cv.string(value): 1.0}


class Formula:
    """Arithmetic (+ - * /, numbers, parentheses) over node ids, parsed once."""

    def __init__(self, source: str) -> None:
        try:
            self._tree = ast.parse(source.strip(), mode="eval").body
        except SyntaxError as err:
            raise vol.Invalid(f"formula {source!r} is not valid: {err.msg}") from None
        self.names: list[str] = []
        self._check(self._tree, source)

    def _check(self, node: ast.AST, source: str) -> None:
        if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
            self._check(node.left, source)
            self._check(node.right, source)
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            self._check(node.operand, source)
        elif isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            return
        elif isinstance(node, ast.Name):
            if node.id not in self.names:
                self.names.append(node.id)
        else:
            raise vol.Invalid(f"formula {source!r}: only node ids, numbers, + - * / and "
                              "parentheses are allowed")

    def evaluate(self, values: Mapping[str, np.ndarray]) -> np.ndarray:
        """The formula over per-segment arrays of the nodes it names."""
        return np.asarray(self._evaluate(self._tree, values), dtype=float)

    def _evaluate(self, node: ast.AST, values: Mapping[str, np.ndarray]) -> Any:
        if isinstance(node, ast.BinOp):
            left = self._evaluate(node.left, values)
            right = self._evaluate(node.right, values)
            if isinstance(node.op, ast.Div):
                with np.errstate(divide="ignore", invalid="ignore"):
                    return np.where(right == 0, 0.0, np.divide(left, np.where(right == 0, 1,
                                                                              right)))
            return _OPERATORS[type(node.op)](left, right)
        if isinstance(node, ast.UnaryOp):
            return -self._evaluate(node.operand, values)
        if isinstance(node, ast.Constant):
            return float(node.value)
        assert isinstance(node, ast.Name)
        return values[node.id]


@dataclass(frozen=True, slots=True)
class Virtual:
    """A virtual meter: `kind` (sum, difference, formula) over other nodes."""

    kind: str
    names: tuple[str, ...]
    formula: Formula | None = None

    def evaluate(self, values: Mapping[str, np.ndarray]) -> np.ndarray:
        """Combine the per-segment consumption of the nodes named."""
        if self.formula is not None:
            return self.formula.evaluate(values)
        first, *rest = (values[name] for name in self.names)
        total = np.array(first, dtype=float)
        for other in rest:
            total = total + other if self.kind == CONF_SUM else total - other
        return total


def _virtual(value: Any) -> Virtual:
    block = vol.Schema({
        vol.Exclusive(CONF_SUM, "kind"): vol.All(cv.ensure_list, [cv.slug], vol.Length(min=1)),
        vol.Exclusive(CONF_DIFFERENCE, "kind"): vol.All(cv.ensure_list, [cv.slug],
                                                        vol.Length(min=2)),
        vol.Exclusive(CONF_FORMULA, "kind"): cv.string,
    })(value)
    if CONF_FORMULA in block:
        formula = Formula(block[CONF_FORMULA])
        return Virtual(CONF_FORMULA, tuple(formula.names), formula)
    for kind in (CONF_SUM, CONF_DIFFERENCE):
        if kind in block:
            return Virtual(kind, tuple(block[kind]))
    raise vol.Invalid("a virtual meter needs one of 'sum', 'difference' or 'formula'")


NODE_FIELDS: Final = {
    vol.Required(CONF_ID): cv.slug,
    vol.Optional(CONF_NAME): cv.string,
    vol.Optional(CONF_LEVEL): vol.Coerce(Level),
    vol.Optional(CONF_TYPE): vol.Coerce(EnergyType),
    vol.Exclusive(CONF_ENTITY, "source"): cv.entity_id,
    vol.Exclusive(CONF_VIRTUAL, "source"): _virtual,
    vol.Optional(CONF_TARIFF): cv.slug,
    vol.Optional(CONF_TARGETS): targets,
    vol.Optional(CONF_COST_CENTRE): _cost_centre,
}


@dataclass(slots=True)
class MeterNode:
    """A node of the meter tree, with what it inherits already filled in."""

    node_id: str
    name: str
    energy_type: EnergyType
    level: Level | None
    entity_id: str | None
    virtual: Virtual | None
    tariff: str | None
    targets: Mapping[Period, float]
    cost_centres: Mapping[str, float]
    parent: str | None
    children: list[str] = field(default_factory=list)


def _node_schema(value: Any) -> dict[str, Any]:
    schema = vol.Schema({**NODE_FIELDS, vol.Optional(CONF_CHILDREN, default=[]): list})
    block = schema(value)
    if CONF_ENTITY not in block and CONF_VIRTUAL not in block:
        raise vol.Invalid("a node needs 'entity' (its meter) or 'virtual' (sum, difference "
                          "or formula of other nodes)")
    return block


def build_tree(value: Any, tariffs: Collection[str], default_tariff: str | None,
               default_targets: Mapping[Period, float]) -> dict[str, MeterNode]:
    """Validate the `meters:` list (nested by `children`) into nodes by id, checking ids,
    levels, tariff names and the references of virtual meters (no cycles)."""
    nodes: dict[str, MeterNode] = {}
    where: dict[str, list[Any]] = {}

    def visit(items: Any, path: list[Any], parent: MeterNode | None) -> None:
        if not isinstance(items, list):
            raise vol.Invalid("expected a list of meter nodes", path=path)
        for index, raw in enumerate(items):
            here = [*path, index]
            try:
                block = _node_schema(raw)
            except vol.Invalid as err:
                raise vol.Invalid(err.msg, path=[*here, *err.path]) from None
            node_id = block[CONF_ID]
            if node_id in nodes:
                raise vol.Invalid(f"node id '{node_id}' is used twice", path=[*here, CONF_ID])
            level = block.get(CONF_LEVEL)
            if (level is not None and parent is not None and parent.level is not None
                    and LEVEL_DEPTH[level] <= LEVEL_DEPTH[parent.level]):
                raise vol.Invalid(f"a {level} cannot be below a {parent.level} ('{parent.node_id}'"
                                  "): levels go site > workshop > line > equipment",
                                  path=[*here, CONF_LEVEL])
            if CONF_TARIFF in block and block[CONF_TARIFF] not in tariffs:
                raise vol.Invalid(f"tariff '{block[CONF_TARIFF]}' is not defined under "
                                  "'tariffs'", path=[*here, CONF_TARIFF])
            node = MeterNode(
                node_id=node_id,
                name=block.get(CONF_NAME, node_id),
                energy_type=block.get(CONF_TYPE, parent.energy_type if parent
                                      else EnergyType.ELECTRICITY),
                level=level,
                entity_id=block.get(CONF_ENTITY),
                virtual=block.get(CONF_VIRTUAL),
                tariff=block.get(CONF_TARIFF, parent.tariff if parent else default_tariff),
                targets=block.get(CONF_TARGETS, parent.targets if parent else default_targets),
                cost_centres=block.get(CONF_COST_CENTRE, {}),
                parent=parent.node_id if parent else None,
            )
            nodes[node_id] = node
            where[node_id] = here
            if parent is not None:
                parent.children.append(node_id)
            visit(block[CONF_CHILDREN], [*here, CONF_CHILDREN], node)

    visit(value if value is not None else [], [], None)
    for node_id, node in nodes.items():
        if node.virtual is None:
            continue
        unknown = [name for name in node.virtual.names if name not in nodes]
        if unknown:
            raise vol.Invalid(f"virtual meter '{node_id}' names unknown node(s) "
                              f"{', '.join(unknown)}", path=[*where[node_id], CONF_VIRTUAL])
    for node_id in nodes:
        _check_no_cycle(node_id, nodes, where)
    return nodes


def _check_no_cycle(start: str, nodes: Mapping[str, MeterNode],
                    where: Mapping[str, list[Any]]) -> None:
    stack: list[tuple[str, tuple[str, ...]]] = [(start, (start,))]
    while stack:
        node_id, trail = stack.pop()
        virtual = nodes[node_id].virtual
        for name in virtual.names if virtual else ():
            if name == start:
                raise vol.Invalid(f"virtual meters refer to each other in a circle: "
                                  f"{' -> '.join((*trail, name))}",
                                  path=[*where[start], CONF_VIRTUAL])
            if name not in trail:
                stack.append((name, (*trail, name)))


def meters_below(node_id: str, nodes: Mapping[str, MeterNode]) -> list[str]:
    """The ids of the real meters a node's value is made of (itself if it is one)."""
    found: list[str] = []
    pending = [node_id]
    while pending:
        node = nodes[pending.pop()]
        if node.virtual is None:
            if node.node_id not in found:
                found.append(node.node_id)
        else:
            pending.extend(node.virtual.names)
    return found
