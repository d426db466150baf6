"""Which entities the recorder keeps: `include`/`exclude` by domain, entity id and glob."""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from functools import cached_property


@dataclass(frozen=True)
class EntityFilter:
    """Decides whether an entity's states are recorded; the answer is cached per entity id.

    Precedence, most specific first: an entity listed under `include` is recorded; one listed
    under `exclude` is not; an entity matching an exclude glob or domain is not; when any
    include domain or glob is given, only entities matching one are recorded; the rest are.
    """

    include_domains: frozenset[str] = frozenset()
    include_entities: frozenset[str] = frozenset()
    include_globs: tuple[str, ...] = ()
    exclude_domains: frozenset[str] = frozenset()
    exclude_entities: frozenset[str] = frozenset()
    exclude_globs: tuple[str, ...] = ()
    _cache: dict[str, bool] = field(default_factory=dict, compare=False, repr=False)

    @cached_property
    def _include_glob(self) -> re.Pattern[str] | None:
        return _glob_pattern(self.include_globs)

    @cached_property
    def _exclude_glob(self) -> re.Pattern[str] | None:
        return _glob_pattern(self.exclude_globs)

    @property
    def is_empty(self) -> bool:
        """True when every entity is recorded."""
        return not (self.include_domains or self.include_entities or self.include_globs
                    or self.exclude_domains or self.exclude_entities or self.exclude_globs)

    def __call__(self, entity_id: str) -> bool:
        """Tell whether `entity_id` is recorded."""
        decided = self._cache.get(entity_id)
        if decided is None:
            decided = self._cache[entity_id] = self._decide(entity_id)
        return decided

    def _decide(self, entity_id: str) -> bool:
        if entity_id in self.include_entities:
            return True
        if entity_id in self.exclude_entities:
            return False
        domain = entity_id.partition(".")[0]
        if domain in self.exclude_domains or _matches(self._exclude_glob, entity_id):
            return False
        if self.include_domains or self.include_globs:
            return domain in self.include_domains or _matches(self._include_glob, entity_id)
        return not self.include_entities


def _glob_pattern(globs: tuple[str, ...]) -> re.Pattern[str] | None:
    if not globs:
        return None
    return re.compile("|".join(f"(?:{fnmatch.translate(glob)})" for glob in globs))


def _matches(pattern: re.Pattern[str] | None, entity_id: str) -> bool:
    return pattern is not None and pattern.match(entity_id) is not None
