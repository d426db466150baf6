"""Home Assistant's compressed state shapes for `subscribe_entities`: whole states and diffs."""

from __future__ import annotations

from typing import Any

from plantpulse.core.states import State


def _context(state: State) -> str | dict[str, str | None]:
    context = state.context
    if context.parent_id is None and context.user_id is None:
        return context.id
    return context.as_dict()


def compressed_state(state: State) -> dict[str, Any]:
    """A whole state: `s` state, `a` attributes, `c` context, `lc`/`lu` POSIX times."""
    data = state.as_compressed()
    data["c"] = _context(state)
    return data


def state_diff(old: State, new: State) -> dict[str, Any]:
    """What changed: `{"+": {changed fields}, "-": {"a": [removed attribute names]}}`."""
    additions: dict[str, Any] = {}
    diff: dict[str, Any] = {"+": additions}
    if old.state != new.state:
        additions["s"] = new.state
    if old.last_changed_timestamp != new.last_changed_timestamp:
        additions["lc"] = new.last_changed_timestamp
    elif old.last_updated_timestamp != new.last_updated_timestamp:
        additions["lu"] = new.last_updated_timestamp
    if old.context.id != new.context.id:
        additions["c"] = _context(new)
    if old.attributes is not new.attributes and old.attributes != new.attributes:
        changed = {
            key: value for key, value in new.attributes.items()
            if key not in old.attributes or old.attributes[key] != value
        }
        if changed:
            additions["a"] = changed
        if removed := [key for key in old.attributes if key not in new.attributes]:
            diff["-"] = {"a": removed}
    return diff
