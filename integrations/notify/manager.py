"""The notifier: queues messages to named targets, sends them in the executor, retries on the
hub clock, keeps the delivery log, and raises an alarm for what could not be delivered."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import voluptuous as vol

from plantpulse.core.config import validation as cv
from plantpulse.core.config.errors import humanize_invalid
from plantpulse.core.events import Context, new_ulid
from plantpulse.core.exceptions import StorageError
from plantpulse.core.storage import Store
from plantpulse.integrations.notify.const import (
    ATTR_ATTACHMENTS,
    ATTR_FORMAT,
    ATTR_TYPE,
    FAILURE_ALARM_KEY,
    FAILURE_ALARM_SEVERITY,
    FAILURE_EXCERPT_CHARS,
    MAX_CONCURRENT_SENDS,
    STORAGE_KEY,
    STORAGE_VERSION,
    BodyFormat,
    DeliveryStatus,
    NotifyType,
)
from plantpulse.integrations.notify.delivery import Delivery, DeliveryLog, UrlResult
from plantpulse.integrations.notify.sender import Message, send_message, usable_attachments

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub

_LOGGER = logging.getLogger(__name__)

DATA_SCHEMA = vol.Schema({
    vol.Optional(ATTR_ATTACHMENTS, default=[]): vol.All(cv.ensure_list, [cv.string]),
    vol.Optional(ATTR_TYPE, default=NotifyType.INFO): vol.All(vol.Lower, vol.Coerce(NotifyType)),
    vol.Optional(ATTR_FORMAT): vol.All(vol.Lower, vol.Coerce(BodyFormat)),
})


@dataclass(frozen=True, slots=True)
class Target:
    """A named target: its apprise URLs and how it retries and logs."""

    name: str
    urls: tuple[str, ...]
    retry_delays: tuple[timedelta, ...]
    log_size: int


class Notifier:
    """The notify integration of a running hub, kept in `hub.data["notify"]`.

    Integrations send with `await hub.data["notify"].async_send("ops_email", "text",
    title=..., data={"attachments": [...]})`; it returns the queued Delivery at once.
    """

    def __init__(self, hub: Hub, targets: Mapping[str, Target]) -> None:
        self._hub = hub
        self.targets = dict(targets)
        self._log = DeliveryLog()
        self._unfinished: dict[str, Delivery] = {}
        self._retry_timers: dict[str, Callable[[], None]] = {}
        self._running: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(MAX_CONCURRENT_SENDS)
        # One send at a time per target, in queue order: a "cleared" never overtakes its
        # "raised".
        self._target_turns = {name: asyncio.Lock() for name in self.targets}
        self._store = Store(hub, STORAGE_KEY, STORAGE_VERSION)
        self._save_task: asyncio.Task[None] | None = None
        self._dirty = False
        self._stopping = False

    # Sending ------------------------------------------------------------------------------

    async def async_send(
        self,
        target: str,
        message: str,
        *,
        title: str | None = None,
        data: Mapping[str, Any] | None = None,
        context: Context | None = None,
    ) -> Delivery:
        """Queue `message` for `target` and return its delivery (sent in the background).

        `data` may hold `attachments` (file paths, relative to the config dir), `type`
        (info, success, warning, failure) and `format` (text, markdown, html). Raises
        ValueError for an unknown target or bad data.
        """
        if target not in self.targets:
            known = ", ".join(sorted(self.targets)) or "none configured"
            raise ValueError(f"No notify target named {target!r} (targets: {known})")
        try:
            options = DATA_SCHEMA(dict(data or {}))
        except vol.Invalid as err:
            raise ValueError(f"Invalid data for notify.{target}: {humanize_invalid(err)}") from err
        delivery = Delivery(
            id=new_ulid(self._hub.clock.time()), target=target, message=message, title=title,
            created=self._hub.clock.time(),
            pending=list(range(len(self.targets[target].urls))),
            attachments=list(options[ATTR_ATTACHMENTS]),
            notify_type=str(options[ATTR_TYPE]),
            body_format=str(options[ATTR_FORMAT]) if ATTR_FORMAT in options else None,
            context_id=context.id if context is not None else None,
        )
        self._log.add(delivery, self.targets[target].log_size)
        self._unfinished[delivery.id] = delivery
        self._save_soon()
        if not self._stopping:
            self._start(delivery)
        return delivery

    def _start(self, delivery: Delivery) -> None:
        self._retry_timers.pop(delivery.id, None)
        task = self._hub.async_create_task(self._async_attempt(delivery),
                                           f"notify {delivery.target} {delivery.id}")
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _async_attempt(self, delivery: Delivery) -> None:
        target = self.targets.get(delivery.target)
        if target is None:
            self._finish(delivery, DeliveryStatus.FAILED,
                         f"the target {delivery.target} is no longer configured")
            await self._async_report_failure(delivery)
            return
        async with self._target_turns[target.name], self._slots:
            if self._stopping:
                return
            delivery.status = DeliveryStatus.SENDING
            delivery.attempts += 1
            delivery.next_attempt = None
            attachments, notes = await self._hub.async_add_executor_job(
                usable_attachments, self._hub.config_dir, delivery.attachments
            )
            delivery.notes.extend(note for note in notes if note not in delivery.notes)
            urls = [(index, target.urls[index]) for index in delivery.pending
                    if index < len(target.urls)]
            message = Message(delivery.message, delivery.title, delivery.notify_type,
                              delivery.body_format, tuple(attachments))
            results = await self._hub.async_add_executor_job(send_message, urls, message)
        self._record(delivery, results)
        if not delivery.pending:
            self._finish(delivery, DeliveryStatus.SENT, None)
            await self._async_report_success(delivery)
        elif delivery.attempts <= len(target.retry_delays):
            delay = target.retry_delays[delivery.attempts - 1].total_seconds()
            delivery.status = DeliveryStatus.RETRYING
            delivery.error = _summary(delivery.results)
            delivery.next_attempt = self._hub.clock.time() + delay
            _LOGGER.warning("Notification to %s failed (attempt %s): %s; retrying in %.0f s",
                            delivery.target, delivery.attempts, delivery.error, delay)
            if not self._stopping:
                self._retry_timers[delivery.id] = self._hub.async_call_later(
                    delay, lambda: self._start(delivery)
                )
            self._save_soon()
        else:
            self._finish(delivery, DeliveryStatus.FAILED, _summary(delivery.results))
            await self._async_report_failure(delivery)

    def _record(self, delivery: Delivery, results: list[UrlResult]) -> None:
        by_index = {result.index: result for result in delivery.results}
        by_index.update((result.index, result) for result in results)
        delivery.results = [by_index[index] for index in sorted(by_index)]
        delivery.pending = [result.index for result in results if not result.ok]

    def _finish(self, delivery: Delivery, status: DeliveryStatus, error: str | None) -> None:
        delivery.status = status
        delivery.error = error
        delivery.next_attempt = None
        delivery.finished = self._hub.clock.time()
        self._unfinished.pop(delivery.id, None)
        self._save_soon()

    # What a failure raises ----------------------------------------------------------------

    async def _async_report_failure(self, delivery: Delivery) -> None:
        """Raise a warning alarm (or, without the alarm integration, a notification)."""
        _LOGGER.error("Notification %s to %s failed after %s attempts: %s; kept in the "
                      "delivery log", delivery.id, delivery.target, delivery.attempts,
                      delivery.error)
        excerpt = delivery.message[:FAILURE_EXCERPT_CHARS]
        text = {
            "zh-CN": f"通知目标 {delivery.target} 发送失败（尝试 {delivery.attempts} 次）："
                     f"{delivery.error}。未送达的消息已记录在发送日志中：{excerpt}",
            "en": f"Notification target {delivery.target} failed after {delivery.attempts} "
                  f"attempts: {delivery.error}. The undelivered message is kept in the "
                  f"delivery log: {excerpt}",
        }
        alarms = self._hub.data.get("alarm")
        if alarms is None:
            self._hub.notifications.async_create(
                text["zh-CN"] if self._hub.site.language == "zh-CN" else text["en"],
                title="Notification failed",
                notification_id=FAILURE_ALARM_KEY.format(target=delivery.target),
            )
            return
        try:
            await alarms.async_raise(
                FAILURE_ALARM_KEY.format(target=delivery.target), FAILURE_ALARM_SEVERITY, text,
                data={"target": delivery.target, "delivery_id": delivery.id,
                      "title": delivery.title, "message": excerpt},
                context=Context(parent_id=delivery.context_id),
            )
        except Exception:
            _LOGGER.exception("Cannot raise the alarm for the failed notification %s",
                              delivery.id)

    async def _async_report_success(self, delivery: Delivery) -> None:
        """A target that delivers again clears its failure alarm."""
        alarms = self._hub.data.get("alarm")
        key = FAILURE_ALARM_KEY.format(target=delivery.target)
        if alarms is not None and alarms.get(key) is not None:
            await alarms.async_clear(key, context=Context(parent_id=delivery.context_id))

    # The log ------------------------------------------------------------------------------

    def deliveries(
        self, target: str | None = None, status: str | None = None, limit: int | None = None
    ) -> list[Delivery]:
        """Logged deliveries, newest first."""
        return self._log.latest(target, status, limit)

    def _stored(self) -> dict[str, Any]:
        logged = {delivery.id: delivery for delivery in self._log.all()}
        logged.update(self._unfinished)
        return {"deliveries": [delivery.as_dict() for delivery in logged.values()]}

    def _save_soon(self) -> None:
        """Save at once in the background; changes meanwhile are saved right after."""
        self._dirty = True
        if self._save_task is None or self._save_task.done():
            self._save_task = self._hub.async_create_task(self._async_save(),
                                                          "save notify delivery log")

    async def _async_save(self) -> None:
        while self._dirty:
            self._dirty = False
            try:
                await self._store.async_save(self._stored())
            except StorageError as err:
                _LOGGER.error("%s", err)
                self._hub.notifications.async_create(
                    str(err), title="Notify delivery log not saved",
                    notification_id="notify_log_not_saved",
                )
                return

    async def async_load(self) -> None:
        """Read the log; resume the deliveries a stop or crash interrupted."""
        stored = await self._store.async_load() or {}
        now = self._hub.clock.time()
        for item in stored.get("deliveries", []):
            delivery = Delivery.from_dict(item)
            target = self.targets.get(delivery.target)
            self._log.add(delivery, target.log_size if target else len(stored["deliveries"]))
            if not delivery.unfinished:
                continue
            self._unfinished[delivery.id] = delivery
            due = max(now, delivery.next_attempt or now)
            _LOGGER.info("Resuming notification %s to %s", delivery.id, delivery.target)
            self._retry_timers[delivery.id] = self._hub.async_call_at(
                due, lambda delivery=delivery: self._start(delivery)
            )

    async def async_stop(self) -> None:
        """Let sends in progress end, keep retries for the next start, save the log."""
        self._stopping = True
        for cancel in self._retry_timers.values():
            cancel()
        self._retry_timers.clear()
        if self._running:
            await asyncio.wait(set(self._running))
        if self._save_task is not None and not self._save_task.done():
            await self._save_task
        if self._dirty:
            await self._async_save()


def _summary(results: list[UrlResult]) -> str:
    failed = [f"{result.service} ({result.url}): {result.error}" for result in results
              if not result.ok]
    return "; ".join(failed) or "not sent"
