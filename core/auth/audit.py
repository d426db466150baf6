"""The audit log: who changed users, tokens and configuration, as append-only JSON lines.

Lines go to `<config>/.storage/audit.log`, one JSON object each: time, user, action, target,
ip, and optional details. Writing blocks (it fsyncs), so the hub does it in its executor.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from plantpulse.core import dt

CLI_USER: Final = "cli"
_READ_BLOCK: Final = 64 * 1024


@dataclass(frozen=True, slots=True)
class Actor:
    """Who makes a change: a user name (or `cli`), their user id, and their IP address."""

    user: str
    user_id: str | None = None
    ip: str | None = None


def audit_entry(
    actor: Actor, action: str, target: str, details: dict[str, Any] | None = None
) -> dict[str, Any]:
    """One audit record, stamped with the current UTC time."""
    entry: dict[str, Any] = {
        "time": dt.utcnow().isoformat(),
        "user": actor.user,
        "user_id": actor.user_id,
        "action": action,
        "target": target,
        "ip": actor.ip,
    }
    if details:
        entry["details"] = details
    return entry


class AuditLog:
    """Appends records to the audit file and reads the latest ones back."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, entry: dict[str, Any]) -> None:
        """Add one record and fsync it. Blocking."""
        line = json.dumps(entry, ensure_ascii=False, separators=(",", ":")) + "\n"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)

    def read_latest(self, limit: int) -> list[dict[str, Any]]:
        """The last `limit` records, oldest first, reading the file from its end. Blocking."""
        try:
            handle = self.path.open("rb")
        except FileNotFoundError:
            return []
        with handle:
            end = handle.seek(0, os.SEEK_END)
            data = b""
            position = end
            while position > 0 and data.count(b"\n") <= limit:
                step = min(_READ_BLOCK, position)
                position -= step
                handle.seek(position)
                data = handle.read(step) + data
        lines = [line for line in data.split(b"\n") if line.strip()]
        if position > 0:
            lines = lines[1:]
        entries = []
        for line in lines[-limit:] if limit > 0 else []:
            try:
                entries.append(json.loads(line))
            except ValueError:
                continue
        return entries
