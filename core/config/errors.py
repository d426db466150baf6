"""Configuration problems that name the file, the line and the key path."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import voluptuous as vol


@dataclass(frozen=True, slots=True)
class ConfigIssue:
    """One problem in the configuration, located as precisely as the YAML allows."""

    domain: str | None
    message: str
    file: str | None = None
    line: int | None = None
    path: tuple[str | int, ...] = ()

    @property
    def location(self) -> str:
        """`configuration.yaml, line 12`, or what is known of it."""
        if self.file and self.line:
            return f"{self.file}, line {self.line}"
        return self.file or "unknown file"

    def __str__(self) -> str:
        where = f" at {format_path(self.path)}" if self.path else ""
        subject = f"Invalid config for '{self.domain}'" if self.domain else "Invalid config"
        location = f" ({self.location})" if self.file else ""
        return f"{subject}{location}: {self.message}{where}"

    def as_dict(self) -> dict[str, Any]:
        """Serialise for the API and check-config's JSON output."""
        return {
            "domain": self.domain,
            "file": self.file,
            "line": self.line,
            "path": list(self.path),
            "message": self.message,
            "text": str(self),
        }


def format_path(path: tuple[str | int, ...] | list[Any]) -> str:
    """Render a key path as `sensors->2->scale`."""
    return "->".join(str(part) for part in path)


def humanize_invalid(err: vol.Invalid) -> str:
    """Turn a voluptuous error into `expected float for 'scale'` style text."""
    if isinstance(err, vol.MultipleInvalid):
        return "; ".join(humanize_invalid(item) for item in err.errors)
    message = err.error_message
    path = [part for part in err.path if not isinstance(part, int)]
    if path and "extra keys" not in message and "required key" not in message:
        message = f"{message} for '{path[-1]}'"
    elif path and "extra keys" in message:
        message = f"unknown key '{path[-1]}'"
    elif path and "required key" in message:
        message = f"required key '{path[-1]}' is missing"
    return message


def without_consequences(issues: list[ConfigIssue]) -> list[ConfigIssue]:
    """Drop schema errors on a line whose YAML already failed (a missing `!secret` also makes
    its value invalid): one problem, one message."""
    broken_lines = {(issue.file, issue.line) for issue in issues
                    if issue.domain is None and issue.line is not None}
    return [
        issue for issue in issues
        if issue.domain is None or (issue.file, issue.line) not in broken_lines
    ]
