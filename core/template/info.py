"""What a render read and how much it did: entities, domains, time, steps."""

from __future__ import annotations


class RenderInfo:
    """Filled in while a template renders; drives re-rendering of template entities."""

    __slots__ = ("all_states", "domains", "entities", "steps", "uses_time")

    def __init__(self) -> None:
        self.entities: set[str] = set()
        self.domains: set[str] = set()
        self.all_states = False
        self.uses_time = False
        self.steps = 0

    def __repr__(self) -> str:
        return (f"<RenderInfo entities={sorted(self.entities)} domains={sorted(self.domains)} "
                f"all={self.all_states} time={self.uses_time} steps={self.steps}>")


class _Active:
    """The render in progress. Renders run synchronously on the event loop, one at a time."""

    __slots__ = ("render",)

    def __init__(self) -> None:
        self.render: RenderInfo | None = None


ACTIVE = _Active()
