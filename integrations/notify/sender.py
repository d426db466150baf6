"""Sending one message through apprise: blocking network I/O, run in the hub's executor."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import apprise

from plantpulse.integrations.notify.aliyun_sms import register
from plantpulse.integrations.notify.delivery import UrlResult

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Message:
    """What is sent: text, title, apprise's type and format, files to attach."""

    body: str
    title: str | None
    notify_type: str
    body_format: str | None
    attachments: tuple[str, ...]


def new_asset() -> apprise.AppriseAsset:
    """Apprise settings for the hub: no threads or files of apprise's own (we are already
    in an executor thread, and the delivery log is ours), no retries (ours follow the hub
    clock)."""
    return apprise.AppriseAsset(
        app_id="PlantPulse", app_desc="PlantPulse plant monitoring", async_mode=False,
        storage_mode="memory",
    )


def check_url(url: str) -> str | None:
    """None when apprise can use `url`, else why not (blocking: apprise may load plugins)."""
    register()
    scheme = url.split("://", 1)[0] if "://" in url else ""
    try:
        service = apprise.Apprise.instantiate(url, asset=new_asset(), suppress_exceptions=False)
    except Exception as err:
        return f"apprise cannot use this {scheme}:// URL: {err}"
    if service is None:
        if not scheme:
            return "not a URL: expected a form such as mailtos://user:password@example.com"
        return (f"apprise knows no service {scheme}:// (see https://appriseit.com/services/ "
                "for the URL forms)")
    return None


def send_message(urls: Sequence[tuple[int, str]], message: Message) -> list[UrlResult]:
    """Send `message` to each URL (index, URL) in turn; one result per URL.

    Each URL gets its own apprise object, so a result is tied to its URL and a retry can
    skip the URLs that accepted the message.
    """
    register()
    attach = apprise.AppriseAttachment(list(message.attachments)) if message.attachments else None
    results = []
    for index, url in urls:
        results.append(_send_one(index, url, message, attach))
    return results


def _send_one(
    index: int, url: str, message: Message, attach: apprise.AppriseAttachment | None
) -> UrlResult:
    service = apprise.Apprise.instantiate(url, asset=new_asset())
    if service is None:
        return UrlResult(index, "unknown", _scheme_only(url), False,
                         "apprise cannot use this URL any more")
    masked = service.url(privacy=True)
    sender = apprise.Apprise(asset=new_asset())
    sender.add(service)
    options: dict[str, Any] = {"notify_type": message.notify_type}
    if message.body_format:
        options["body_format"] = message.body_format
    if attach is not None:
        options["attach"] = attach
    try:
        with sender.notify(body=message.body, title=message.title or "", **options) as outcome:
            ok = bool(outcome)
            problems = [entry.message for result in outcome for entry in result.logs()
                        if entry.level in ("WARNING", "ERROR", "CRITICAL")]
    except Exception as err:
        _LOGGER.exception("apprise failed while sending to %s", masked)
        return UrlResult(index, str(service.service_name), masked, False,
                         f"{type(err).__name__}: {err}")
    error = None if ok else ("; ".join(problems) or "the service did not accept the message")
    return UrlResult(index, str(service.service_name), masked, ok, error)


def _scheme_only(url: str) -> str:
    return url.split("://", 1)[0] + "://..." if "://" in url else "..."


def usable_attachments(config_dir: Path, paths: Sequence[str]) -> tuple[list[str], list[str]]:
    """The files that can be attached, and a note on each that cannot (blocking: disk).

    Relative paths are taken from the config dir. Only files inside the config dir are sent
    (snapshots are kept there): a service any API user may call must not mail out other
    files of the machine.
    """
    root = config_dir.resolve()
    usable, notes = [], []
    for raw in paths:
        path = Path(raw).expanduser()
        resolved = (path if path.is_absolute() else root / path).resolve()
        if not resolved.is_relative_to(root):
            notes.append(f"attachment {raw} refused: only files inside the config dir "
                         f"{root} are sent")
        elif not resolved.is_file():
            notes.append(f"attachment {raw} not found: sent without it")
        else:
            usable.append(str(resolved))
    return usable, notes
