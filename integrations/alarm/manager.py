"""The alarm manager: the life of alarms (raise, acknowledge, clear), their entities, events,
notifications, escalation and flapping, and what survives a restart."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import voluptuous as vol

from plantpulse.core.config import validation as cv
from plantpulse.core.config.errors import humanize_invalid
from plantpulse.core.const import ATTR_FRIENDLY_NAME
from plantpulse.core.events import Context, new_ulid
from plantpulse.core.exceptions import ServiceNotFound, ServiceValidationError, StorageError
from plantpulse.core.recorder import get_recorder
from plantpulse.core.storage import Store
from plantpulse.integrations.alarm.const import (
    DEFAULT_HISTORY_SPAN,
    DOMAIN,
    EVENT_ALARM_ACKNOWLEDGED,
    EVENT_ALARM_CLEARED,
    EVENT_ALARM_ESCALATED,
    EVENT_ALARM_FLAPPING,
    EVENT_ALARM_RAISED,
    EVENT_ALARM_UPDATED,
    HISTORY_EVENTS,
    MAX_NOTE_LENGTH,
    STORAGE_KEY,
    STORAGE_VERSION,
    SYSTEM_USER,
    AlarmState,
    Severity,
)
from plantpulse.integrations.alarm.entity import ActiveAlarmsSensor, AlarmEntity
from plantpulse.integrations.alarm.flapping import FlapDetector, FlappingConfig
from plantpulse.integrations.alarm.models import Alarm, alarm_key, extra_data, messages
from plantpulse.integrations.alarm.texts import Notice, Reason, notification

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub

_LOGGER = logging.getLogger(__name__)

NOTIFY_DOMAIN = "notify"
# The apprise message type of each notification (services show it as colour or icon).
_NOTIFY_TYPES = {Severity.CRITICAL: "failure", Severity.MAJOR: "failure",
                 Severity.MINOR: "warning", Severity.WARNING: "warning"}

RAISE_FIELDS = vol.Schema({
    vol.Required("key"): alarm_key,
    vol.Required("severity"): vol.All(vol.Lower, vol.Coerce(Severity)),
    vol.Required("message"): messages,
    vol.Optional("source"): vol.Any(None, cv.entity_id),
    vol.Optional("snapshot"): vol.Any(None, cv.string),
    vol.Optional("data"): extra_data,
})


@dataclass(frozen=True, slots=True)
class EscalationStep:
    """Who else to notify when an alarm stays unacknowledged for `after`."""

    after: timedelta
    notify: tuple[str, ...]
    severities: frozenset[Severity] | None = None  # None: every severity

    def applies_to(self, severity: Severity) -> bool:
        """Whether this step escalates alarms of `severity`."""
        return self.severities is None or severity in self.severities


@dataclass(frozen=True, slots=True)
class AlarmConfig:
    """The validated `alarm:` block."""

    notify: Mapping[Severity, tuple[str, ...]]
    notify_cleared: bool
    escalation: tuple[EscalationStep, ...]
    flapping: FlappingConfig


class AlarmManager:
    """The alarms of a running hub, kept in `hub.data["alarm"]`: the API other integrations use.

        alarms = hub.data["alarm"]
        await alarms.async_raise("pump_1_overload", "major",
                                 {"zh-CN": "一号循环泵过载", "en": "Pump 1 overload"},
                                 source="sensor.pump_1_current", snapshot="media/p1.jpg")
        await alarms.async_clear("pump_1_overload")

    Raising an active key updates that alarm and counts it; raising, acknowledging and
    clearing fire `alarm_raised` (`alarm_updated` for a repeat), `alarm_acknowledged` and
    `alarm_cleared` with the alarm's fields as data, so the recorder keeps the history.
    """

    def __init__(self, hub: Hub, config: AlarmConfig) -> None:
        self._hub = hub
        self.config = config
        self.language = hub.site.language
        self._active: dict[str, Alarm] = {}
        self._entities: dict[str, AlarmEntity] = {}
        self._sensor: ActiveAlarmsSensor | None = None
        self._escalation_timers: dict[str, Callable[[], None]] = {}
        self._quiet_timers: dict[str, Callable[[], None]] = {}
        self._flaps = FlapDetector(config.flapping)
        self._lock = asyncio.Lock()
        self._store = Store(hub, STORAGE_KEY, STORAGE_VERSION)
        self._save_task: asyncio.Task[None] | None = None
        self._dirty = False
        self._reported_targets: set[str] = set()

    # Reading ------------------------------------------------------------------------------

    def get(self, key: str) -> Alarm | None:
        """The active alarm of `key`, or None."""
        return self._active.get(key)

    def active(self) -> list[Alarm]:
        """Active alarms, most severe first, newest first within a severity."""
        return sorted(self._active.values(),
                      key=lambda alarm: (alarm.severity.rank, -alarm.raised_at))

    def describe(self, alarm: Alarm) -> dict[str, Any]:
        """Every field of `alarm` (message in the site's language), for the API and events."""
        return alarm.as_dict(self.language, self._flaps.is_flapping(alarm.key))

    def is_flapping(self, key: str) -> bool:
        """Whether notifications about `key` are held back because it flaps."""
        return self._flaps.is_flapping(key)

    # Changing -----------------------------------------------------------------------------

    async def async_raise(
        self,
        key: str,
        severity: Severity | str,
        message: str | Mapping[str, str],
        *,
        source: str | None = None,
        snapshot: str | None = None,
        data: Mapping[str, Any] | None = None,
        context: Context | None = None,
    ) -> Alarm:
        """Raise the alarm `key`, or update and count it when it is active already.

        `message` is one text or `{"zh-CN": ..., "en": ...}`. Raises ValueError for bad
        fields (the message names the field).
        """
        fields: dict[str, Any] = {"key": key, "severity": severity, "message": message}
        fields.update((name, value) for name, value in
                      (("source", source), ("snapshot", snapshot), ("data", data))
                      if value is not None)
        try:
            values = RAISE_FIELDS(fields)
        except vol.Invalid as err:
            raise ValueError(f"Invalid alarm: {humanize_invalid(err)}") from err
        context = context or Context()
        async with self._lock:
            alarm = self._active.get(values["key"])
            if alarm is None:
                alarm = await self._async_activate(values, context)
            else:
                self._update(alarm, values, context)
            self._changed(context)
        return alarm

    async def _async_activate(self, values: dict[str, Any], context: Context) -> Alarm:
        now = self._hub.clock.time()
        key = values["key"]
        alarm = Alarm(
            id=new_ulid(now), key=key, severity=values["severity"],
            messages=values["message"], raised_at=now, last_raised_at=now,
            source=values.get("source"), snapshot=values.get("snapshot"),
            data=values.get("data", {}),
        )
        self._active[key] = alarm
        await self._async_add_entity(alarm, None, context)
        flapping_now = self._flaps.record(key, now)
        self._fire(EVENT_ALARM_RAISED, alarm, context)
        if flapping_now:
            self._flapping_started(key, context)
        self._schedule_quiet(key)
        self._notify(alarm, self.config.notify.get(alarm.severity, ()), Notice(Reason.RAISED),
                     context)
        self._schedule_escalation(alarm)
        _LOGGER.info("Alarm %s raised (%s): %s", key, alarm.severity, alarm.message("en"))
        return alarm

    def _update(self, alarm: Alarm, values: dict[str, Any], context: Context) -> None:
        more_severe = values["severity"].rank < alarm.severity.rank
        alarm.severity = values["severity"]
        alarm.messages = values["message"]
        alarm.source = values.get("source", alarm.source)
        alarm.snapshot = values.get("snapshot", alarm.snapshot)
        alarm.data = values.get("data", alarm.data)
        alarm.last_raised_at = self._hub.clock.time()
        alarm.count += 1
        self._write_entity(alarm.key, context)
        self._fire(EVENT_ALARM_UPDATED, alarm, context)
        if more_severe:
            self._notify(alarm, self.config.notify.get(alarm.severity, ()),
                         Notice(Reason.RAISED), context)
        self._schedule_escalation(alarm)

    async def async_acknowledge(
        self,
        key: str,
        *,
        user: str | None = None,
        note: str | None = None,
        context: Context | None = None,
    ) -> Alarm:
        """Acknowledge the active alarm `key`: somebody is on it, escalation stops.

        `user` names who (default: the user of `context`, else "system"). Acknowledging an
        acknowledged alarm changes nothing. Raises ValueError when `key` is not active.
        """
        if note is not None and len(note) > MAX_NOTE_LENGTH:
            raise ValueError(f"An acknowledgement note is at most {MAX_NOTE_LENGTH} characters")
        context = context or Context()
        async with self._lock:
            alarm = self._require(key)
            if alarm.acknowledged_at is not None:
                return alarm
            alarm.acknowledged_at = self._hub.clock.time()
            alarm.acknowledged_by = user or self.who(context)
            alarm.note = note
            self._cancel_escalation(key)
            self._write_entity(key, context)
            self._fire(EVENT_ALARM_ACKNOWLEDGED, alarm, context)
            self._changed(context)
            _LOGGER.info("Alarm %s acknowledged by %s", key, alarm.acknowledged_by)
        return alarm

    async def async_clear(
        self, key: str, *, user: str | None = None, context: Context | None = None
    ) -> Alarm | None:
        """Clear the alarm `key` (the condition is gone); None when it was not active."""
        context = context or Context()
        async with self._lock:
            alarm = self._active.pop(key, None)
            if alarm is None:
                return None
            now = self._hub.clock.time()
            alarm.cleared_at = now
            alarm.cleared_by = user or self.who(context)
            self._cancel_escalation(key)
            entity = self._entities.pop(key, None)
            if entity is not None and entity.entity_id is not None:
                await self._hub.entities.async_remove(entity.entity_id)
            flapping_now = self._flaps.record(key, now)
            self._fire(EVENT_ALARM_CLEARED, alarm, context)
            if flapping_now:
                self._flapping_started(key, context)
            self._schedule_quiet(key)
            if self.config.notify_cleared:
                self._notify(alarm, self.config.notify.get(alarm.severity, ()),
                             Notice(Reason.CLEARED), context)
            self._changed(context)
            _LOGGER.info("Alarm %s cleared by %s", key, alarm.cleared_by)
        return alarm

    def _require(self, key: str) -> Alarm:
        alarm = self._active.get(key)
        if alarm is None:
            raise ValueError(f"No active alarm with key {key!r}")
        return alarm

    def key_of_entity(self, entity_id: str) -> str | None:
        """The key of the active alarm shown by `entity_id`."""
        for key, alarm in self._active.items():
            if alarm.entity_id == entity_id:
                return key
        return None

    def who(self, context: Context | None) -> str:
        """The username behind a context (its user id when the auth manager is absent),
        or "system" for automations and integrations."""
        user_id = context.user_id if context is not None else None
        if user_id is None:
            return SYSTEM_USER
        auth = self._hub.data.get("auth")
        user = auth.data.users.get(user_id) if auth is not None else None
        return user.username if user is not None else user_id

    # Entities, events, saving -------------------------------------------------------------

    async def _async_add_entity(self, alarm: Alarm, wanted: str | None,
                                context: Context | None = None) -> None:
        registry = self._hub.entity_registry
        alarm.entity_id = (
            wanted if wanted is not None and self._hub.states.get(wanted) is None
            and self._hub.entities.get(wanted) is None
            else registry.async_generate_entity_id(DOMAIN, alarm.key)
        )
        entity = AlarmEntity(alarm, self.describe, self.language)
        if context is not None:
            entity.async_set_context(context)
        if await self._hub.entities.async_add(DOMAIN, [entity]):
            self._entities[alarm.key] = entity
        else:
            alarm.entity_id = None

    def _write_entity(self, key: str, context: Context | None = None) -> None:
        entity = self._entities.get(key)
        if entity is not None:
            entity.async_write_state(context=context)

    def _fire(self, event_type: str, alarm: Alarm, context: Context,
              extra: Mapping[str, Any] | None = None) -> None:
        data = self.describe(alarm)
        if extra:
            data.update(extra)
        self._hub.bus.async_fire(event_type, data, context=context)

    def _changed(self, context: Context | None = None) -> None:
        if self._sensor is not None:
            self._sensor.async_write_state(context=context)
        self._save_soon()

    def _stored(self) -> dict[str, Any]:
        self._flaps.prune(self._hub.clock.time())
        return {"alarms": [alarm.stored() for alarm in self._active.values()],
                "flapping": self._flaps.stored()}

    def _save_soon(self) -> None:
        """Save at once in the background (an alarm must survive a crash); changes made
        meanwhile are saved right after."""
        self._dirty = True
        if self._save_task is None or self._save_task.done():
            self._save_task = self._hub.async_create_task(self._async_save(),
                                                          "save active alarms")

    async def _async_save(self) -> None:
        while self._dirty:
            self._dirty = False
            try:
                await self._store.async_save(self._stored())
            except StorageError as err:
                _LOGGER.error("%s", err)
                self._hub.notifications.async_create(
                    f"{err} Active alarms will not survive a restart until this is fixed.",
                    title="Alarms not saved", notification_id="alarm_not_saved",
                )
                return

    async def async_load(self) -> None:
        """Restore the alarms active at the last stop, with their entities and timers."""
        stored = await self._store.async_load() or {}
        self._flaps.restore(stored.get("flapping", {}))
        for item in stored.get("alarms", []):
            alarm = Alarm.from_stored(item)
            self._active[alarm.key] = alarm
            await self._async_add_entity(alarm, alarm.entity_id)
            self._schedule_escalation(alarm)
        for key in self._flaps.flapping_keys():
            self._schedule_quiet(key)
        self._sensor = ActiveAlarmsSensor(self.active, self.language)
        if not await self._hub.entities.async_add(DOMAIN, [self._sensor]):
            self._sensor = None
        if self._active:
            _LOGGER.info("Restored %s active alarms", len(self._active))

    async def async_stop(self) -> None:
        """Write what is not saved yet."""
        for cancel in (*self._escalation_timers.values(), *self._quiet_timers.values()):
            cancel()
        self._escalation_timers.clear()
        self._quiet_timers.clear()
        if self._save_task is not None and not self._save_task.done():
            await self._save_task
        if self._dirty:
            await self._async_save()

    # Notifications ------------------------------------------------------------------------

    def _notify(self, alarm: Alarm, targets: tuple[str, ...], notice: Notice,
                context: Context) -> None:
        """Queue a notification about `alarm` to `targets`, unless its key flaps."""
        if not targets:
            return
        if self._flaps.is_flapping(alarm.key):
            _LOGGER.debug("Alarm %s flaps: %s notification to %s held back", alarm.key,
                          notice.reason, ", ".join(targets))
            return
        source_state = self._hub.states.get(alarm.source) if alarm.source else None
        source_name = source_state.attributes.get(ATTR_FRIENDLY_NAME) if source_state else None
        title, body = notification(alarm, notice, self.language, self._hub.site.tz,
                                   source_name)
        data: dict[str, Any] = {
            "type": "success" if notice.reason is Reason.CLEARED
            else _NOTIFY_TYPES[alarm.severity],
        }
        if alarm.snapshot and notice.reason is not Reason.CLEARED:
            data["attachments"] = [alarm.snapshot]
        for target in targets:
            self._hub.async_create_task(
                self._async_send(target, title, body, data, Context(parent_id=context.id)),
                f"alarm {alarm.key} to notify.{target}",
            )

    async def _async_send(self, target: str, title: str, body: str, data: dict[str, Any],
                          context: Context) -> None:
        try:
            await self._hub.services.async_call(
                NOTIFY_DOMAIN, target, {"title": title, "message": body, "data": data},
                context=context,
            )
        except ServiceNotFound:
            message = (f"The alarm integration notifies '{target}', which is not a notify "
                       "target: add it under notify: in configuration.yaml or correct the name "
                       "under alarm: notify/escalation.")
            _LOGGER.error("%s", message)
            if target not in self._reported_targets:
                self._reported_targets.add(target)
                self._hub.notifications.async_create(
                    message, title="Alarm notification target missing",
                    notification_id=f"alarm_unknown_target_{target}",
                )
        except ServiceValidationError as err:
            _LOGGER.error("Alarm notification to %s refused: %s", target, err)

    # Escalation ---------------------------------------------------------------------------

    def _steps(self, alarm: Alarm) -> list[EscalationStep]:
        return [step for step in self.config.escalation if step.applies_to(alarm.severity)]

    def _schedule_escalation(self, alarm: Alarm) -> None:
        self._cancel_escalation(alarm.key)
        if alarm.state is not AlarmState.ACTIVE:
            return
        steps = self._steps(alarm)
        if alarm.escalations_sent >= len(steps):
            return
        due = alarm.raised_at + steps[alarm.escalations_sent].after.total_seconds()
        self._escalation_timers[alarm.key] = self._hub.async_call_at(
            due, lambda: self._async_escalate(alarm.key, alarm.id)
        )

    def _cancel_escalation(self, key: str) -> None:
        cancel = self._escalation_timers.pop(key, None)
        if cancel is not None:
            cancel()

    async def _async_escalate(self, key: str, alarm_id: str) -> None:
        async with self._lock:
            self._escalation_timers.pop(key, None)
            alarm = self._active.get(key)
            if alarm is None or alarm.id != alarm_id or alarm.state is not AlarmState.ACTIVE:
                return
            steps = self._steps(alarm)
            if alarm.escalations_sent >= len(steps):
                return
            step = steps[alarm.escalations_sent]
            alarm.escalations_sent += 1
            context = Context()
            self._fire(EVENT_ALARM_ESCALATED, alarm, context, {
                "step": alarm.escalations_sent, "after": step.after.total_seconds(),
                "notify": list(step.notify),
            })
            self._notify(alarm, step.notify, Notice(Reason.ESCALATED, waited=step.after),
                         context)
            _LOGGER.warning("Alarm %s unacknowledged for %s: escalated to %s", key, step.after,
                            ", ".join(step.notify))
            self._schedule_escalation(alarm)
            self._changed()

    # Flapping -----------------------------------------------------------------------------

    def _flapping_started(self, key: str, context: Context) -> None:
        _LOGGER.warning("Alarm %s flaps (changed more than %s times within %.0f s): its "
                        "notifications are held back until it stays quiet", key,
                        self.config.flapping.max_changes, self.config.flapping.window)
        self._hub.bus.async_fire(EVENT_ALARM_FLAPPING, {"key": key, "flapping": True},
                                 context=context)
        self._write_entity(key)

    def _schedule_quiet(self, key: str) -> None:
        cancel = self._quiet_timers.pop(key, None)
        if cancel is not None:
            cancel()
        due = self._flaps.quiet_until(key)
        if due is not None:
            self._quiet_timers[key] = self._hub.async_call_at(
                due, lambda: self._async_quiet(key)
            )

    async def _async_quiet(self, key: str) -> None:
        async with self._lock:
            self._quiet_timers.pop(key, None)
            due = self._flaps.quiet_until(key)
            if due is None:
                return
            if due > self._hub.clock.time():
                self._schedule_quiet(key)
                return
            changes = self._flaps.end(key)
            context = Context()
            self._hub.bus.async_fire(EVENT_ALARM_FLAPPING,
                                     {"key": key, "flapping": False, "changes": changes},
                                     context=context)
            _LOGGER.info("Alarm %s stopped flapping after %s changes", key, changes)
            alarm = self._active.get(key)
            if alarm is not None:
                self._write_entity(key)
                if alarm.state is AlarmState.ACTIVE:
                    self._notify(alarm, self.config.notify.get(alarm.severity, ()),
                                 Notice(Reason.FLAPPING_ENDED, changes=changes), context)
            self._changed()

    # History ------------------------------------------------------------------------------

    async def async_history(
        self,
        start: datetime | None = None,
        end: datetime | None = None,
        *,
        key: str | None = None,
        severity: Severity | str | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """Alarms with an event between `start` (default: a week ago) and `end` (default:
        now), newest first, from the recorder's events.

        Each is the alarm as its last event in the range showed it, with `events`: the
        timeline (`raised`, `updated`, `acknowledged`, `escalated`, `cleared` with time and
        user id). Raises ValueError when the recorder is not set up.
        """
        recorder = get_recorder(self._hub)
        if recorder is None:
            raise ValueError("Alarm history needs the recorder: add 'recorder:' to "
                             "configuration.yaml and restart the hub")
        start = start or self._hub.clock.now() - DEFAULT_HISTORY_SPAN
        wanted = {name: value for name, value in (("key", key), ("severity", severity))
                  if value is not None}
        await recorder.async_flush()
        events = await recorder.async_get_events(list(HISTORY_EVENTS), start, end,
                                                 data_filter={k: str(v) for k, v in
                                                              wanted.items()})
        alarms: dict[str, dict[str, Any]] = {}
        for event in events:
            data = event["data"]
            alarm_id = data.get("id")
            if alarm_id is None:
                continue
            timeline = alarms[alarm_id]["events"] if alarm_id in alarms else []
            timeline.append({
                "event": event["event_type"].removeprefix("alarm_"),
                "time": event["time_fired"],
                "user_id": event["context"]["user_id"],
            })
            alarms[alarm_id] = {**{name: value for name, value in data.items()
                                   if name not in ("step", "after", "notify")},
                                "events": timeline}
        result = sorted(alarms.values(), key=lambda item: item["raised_at"] or "", reverse=True)
        return result if limit is None else result[:limit]
