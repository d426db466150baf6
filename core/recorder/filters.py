"""Which entities the recorder keeps: `include`/`exclude` by domain, entity id and glob."""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from functools import cached_property


@dataclass(frozen=True)
class EntityFilter:
    """Decides whether an entity's states are recorded, by Home Assistant's rules.

    With only includes, an entity must match one; with only excludes, it must match none.
    With both: when include has domains or globs, an entity listed under include is kept,
    one listed under exclude is dropped, then one matching an include glob is kept, and one
    of an included domain is kept unless an exclude glob matches; the rest is dropped. When
    include lists only entities but exclude has domains or globs, listed includes are kept
    and everything not excluded is kept. With entity lists only, only the included
    entities are kept. The answer is cached per entity id.
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

    def __call__(self, entity_id: str) -> bool:
        """Tell whether `entity_id` is recorded."""
        decided = self._cache.get(entity_id)
        if decided is None:
            decided = self._cache[entity_id] = self._decide(entity_id)
        return decided

    def _decide(self, entity_id: str) -> bool:
        domain = entity_id.partition(".")[0]
        included_by_name = entity_id in self.include_entities
        has_include = bool(self.include_domains or self.include_entities or self.include_globs)
        has_exclude = bool(self.exclude_domains or self.exclude_entities or self.exclude_globs)
        include_match = (included_by_name or domain in self.include_domains
                         or _matches(self._include_glob, entity_id))
        exclude_match = (entity_id in self.exclude_entities or domain in self.exclude_domains
                         or _matches(self._exclude_glob, entity_id))
        if not has_exclude:
            return include_match or not has_include
        if not has_include:
            return not exclude_match
        if self.include_domains or self.include_globs:
            return included_by_name or (entity_id not in self.exclude_entities and (
                _matches(self._include_glob, entity_id)
                or (domain in self.include_domains
                    and not _matches(self._exclude_glob, entity_id))
            ))
        if self.exclude_domains or self.exclude_globs:
            return included_by_name or not exclude_match
        return included_by_name


def _glob_pattern(globs: tuple[str, ...]) -> re.Pattern[str] | None:
    if not globs:
        return None
    return re.compile("|".join(f"(?:{fnmatch.translate(glob)})" for glob in globs))


def _matches(pattern: re.Pattern[str] | None, entity_id: str) -> bool:
    return pattern is not None and pattern.match(entity_id) is not None
