"""timer: a countdown automations start and wait for (a purge cycle, a cool-down).

    timer:
      furnace_cooldown:
        name: 炉子冷却
        duration: "00:30:00"   # or 1800, or {minutes: 30}
        restore: true          # keep a running timer across restarts (default false)

State `idle`, `active` or `paused`; attributes `duration` and, while running or paused,
`remaining` (both `H:MM:SS`, as when last started or paused) and `finishes_at` (ISO, while
active). Services `timer.start {duration}` (optional, replaces the configured one for this
run), `pause`, `cancel`, `finish`, `change {duration}` (add or, negative, take away time) and
`reload`. Events `timer.started`, `timer.restarted`, `timer.paused`, `timer.cancelled`,
`timer.finished` (with `finished_at`) and `timer.changed`, each with `entity_id`. Timers run
on the hub clock; a restored timer whose end passed while the hub was down finishes once the
hub has started, so automations waiting for `timer.finished` see it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any, ClassVar, Final

import voluptuous as vol

from plantpulse.core.config import validation as cv
from plantpulse.core.const import EVENT_HUB_STARTED, HubState
from plantpulse.core.dt import from_timestamp
from plantpulse.core.entity import Entity, EntityService
from plantpulse.core.events import Event
from plantpulse.core.states import State
from plantpulse.integrations.input_boolean.collection import (
    BASE_SCHEMA,
    HelperEntity,
    async_setup_helpers,
    helpers_schema,
)

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub

DOMAIN: Final = "timer"
CONF_DURATION: Final = "duration"
CONF_RESTORE: Final = "restore"
ATTR_DURATION: Final = "duration"
ATTR_REMAINING: Final = "remaining"
ATTR_FINISHES_AT: Final = "finishes_at"
ATTR_FINISHED_AT: Final = "finished_at"
ATTR_RESTORE: Final = "restore"

STATUS_IDLE: Final = "idle"
STATUS_ACTIVE: Final = "active"
STATUS_PAUSED: Final = "paused"

EVENT_STARTED: Final = "timer.started"
EVENT_RESTARTED: Final = "timer.restarted"
EVENT_PAUSED: Final = "timer.paused"
EVENT_CANCELLED: Final = "timer.cancelled"
EVENT_FINISHED: Final = "timer.finished"
EVENT_CHANGED: Final = "timer.changed"

_NEGATIVE_RE = re.compile(r"^\s*-\s*(.+)$")


def _non_negative_period(value: Any) -> timedelta:
    period = cv.time_period(value)
    if period < timedelta(0):
        raise vol.Invalid("expected a duration of 0 or more")
    return period


def _signed_period(value: Any) -> timedelta:
    """A duration that may be negative: -60, '-00:01:00'."""
    if isinstance(value, str) and (match := _NEGATIVE_RE.match(value)):
        return -cv.time_period(match.group(1))
    return cv.time_period(value)


def format_duration(delta: timedelta) -> str:
    """`H:MM:SS`, as Home Assistant shows timer durations."""
    hours, rest = divmod(int(delta.total_seconds()), 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02}:{seconds:02}"


CONFIG_SCHEMA: Final = helpers_schema(vol.Schema({
    **BASE_SCHEMA,
    vol.Optional(CONF_DURATION, default=timedelta(0)): _non_negative_period,
    vol.Optional(CONF_RESTORE, default=False): cv.boolean,
}))


class Timer(HelperEntity, Entity):
    """A countdown on the hub clock: idle, active or paused."""

    DOMAIN = DOMAIN
    SERVICES: ClassVar[Mapping[str, EntityService]] = {
        "start": EntityService(
            "async_start", {vol.Optional(ATTR_DURATION): cv.positive_time_period},
            "Start (or restart) the timer; a paused one continues. A duration given here "
            "replaces the configured one for this run.",
        ),
        "pause": EntityService("async_pause", description="Pause an active timer."),
        "cancel": EntityService(
            "async_cancel", description="Stop the timer without finishing it."
        ),
        "finish": EntityService(
            "async_finish", description="Finish the timer now (fires timer.finished)."
        ),
        "change": EntityService(
            "async_change", {vol.Required(ATTR_DURATION): _signed_period},
            "Add time to an active timer, or take it away with a negative duration.",
        ),
    }

    def __init__(self, object_id: str, config: Mapping[str, Any]) -> None:
        super().__init__(object_id, config)
        self._status = STATUS_IDLE
        self._running: timedelta = config[CONF_DURATION]
        self._remaining: timedelta | None = None
        self._end: float | None = None
        self._cancel_finish: Callable[[], None] | None = None

    @property
    def state(self) -> str:
        return self._status

    @property
    def state_attributes(self) -> Mapping[str, Any]:
        attributes: dict[str, Any] = {ATTR_DURATION: format_duration(self._running)}
        if self._end is not None:
            attributes[ATTR_FINISHES_AT] = from_timestamp(self._end).isoformat()
        if self._remaining is not None:
            attributes[ATTR_REMAINING] = format_duration(self._remaining)
        if self.config[CONF_RESTORE]:
            attributes[ATTR_RESTORE] = True
        return attributes

    @property
    def extra_restore_data(self) -> dict[str, Any]:
        return {
            "running": self._running.total_seconds(),
            "remaining": None if self._remaining is None else self._remaining.total_seconds(),
            "end": self._end,
        }

    def async_restore(self, last: State | None, extra: Mapping[str, Any] | None) -> None:
        if not self.config[CONF_RESTORE] or last is None or not extra:
            return
        if last.state not in (STATUS_ACTIVE, STATUS_PAUSED):
            return
        self._running = timedelta(seconds=extra["running"])
        if last.state == STATUS_PAUSED and extra.get("remaining") is not None:
            self._status = STATUS_PAUSED
            self._remaining = timedelta(seconds=extra["remaining"])
        elif last.state == STATUS_ACTIVE and extra.get("end") is not None:
            self._status = STATUS_ACTIVE
            self._end = float(extra["end"])
            self._remaining = timedelta(seconds=max(0.0, self._end - self.hub.clock.time()))
            if self._end > self.hub.clock.time():
                self._schedule_finish()
            elif self.hub.state is HubState.RUNNING:
                self.hub.async_create_task(self.async_finish(), f"finish {self.entity_id}")
            else:
                # Its end passed while the hub was down: finish once automations listen.
                self.async_on_remove(self.hub.bus.async_listen_once(
                    EVENT_HUB_STARTED, self._finish_after_start
                ))

    def _finish_after_start(self, _event: Event) -> None:
        if self._status == STATUS_ACTIVE:
            self._async_finished()

    def async_update_config(self, config: Mapping[str, Any]) -> None:
        super().async_update_config(config)
        if self._status == STATUS_IDLE:
            self._running = config[CONF_DURATION]

    async def async_will_remove_from_hub(self) -> None:
        self._unschedule()

    def _schedule_finish(self) -> None:
        self._unschedule()
        assert self._end is not None
        self._cancel_finish = self.hub.async_call_at(
            self._end, self._async_finished, f"finish {self.entity_id}"
        )

    def _unschedule(self) -> None:
        if self._cancel_finish is not None:
            self._cancel_finish()
            self._cancel_finish = None

    def _fire(self, event_type: str, **data: Any) -> None:
        """Write the new state, then tell listeners: they see the timer as it now is."""
        self.async_write_state()
        self.hub.bus.async_fire(event_type, {"entity_id": self.entity_id, **data})

    async def async_start(self, duration: timedelta | None = None) -> None:
        """Start; an active timer starts over, a paused one continues where it stopped."""
        event = EVENT_STARTED if self._status == STATUS_IDLE else EVENT_RESTARTED
        if duration is not None:
            self._running = self._remaining = duration
        elif self._status != STATUS_PAUSED or self._remaining is None:
            self._remaining = self._running
        self._end = self.hub.clock.time() + self._remaining.total_seconds()
        self._status = STATUS_ACTIVE
        self._schedule_finish()
        self._fire(event)

    async def async_pause(self) -> None:
        """Pause an active timer, keeping the time that was left."""
        if self._status != STATUS_ACTIVE or self._end is None:
            return
        self._unschedule()
        self._remaining = timedelta(seconds=max(0.0, self._end - self.hub.clock.time()))
        self._end = None
        self._status = STATUS_PAUSED
        self._fire(EVENT_PAUSED)

    async def async_cancel(self) -> None:
        """Back to idle without finishing."""
        if self._status == STATUS_IDLE:
            return
        self._reset()
        self._fire(EVENT_CANCELLED)

    async def async_finish(self) -> None:
        """Finish an active or paused timer now."""
        if self._status == STATUS_IDLE:
            return
        self._async_finished(self.hub.clock.time())

    async def async_change(self, duration: timedelta) -> None:
        """Move the end of an active timer by `duration` (negative: sooner)."""
        if self._status != STATUS_ACTIVE or self._end is None:
            raise vol.Invalid(f"{self.entity_id} is not active; only an active timer changes")
        left = self._end - self.hub.clock.time() + duration.total_seconds()
        if left > self._running.total_seconds():
            raise vol.Invalid(
                f"{self.entity_id} cannot run longer than its duration "
                f"({format_duration(self._running)})"
            )
        if left < 0:
            raise vol.Invalid(f"{self.entity_id} has less than {duration} left")
        self._end += duration.total_seconds()
        self._remaining = timedelta(seconds=left)
        self._schedule_finish()
        self._fire(EVENT_CHANGED)

    def _async_finished(self, finished_at: float | None = None) -> None:
        """Back to idle; `finished_at` defaults to the planned end (also after a restart)."""
        moment = finished_at or self._end or self.hub.clock.time()
        self._reset()
        self._fire(EVENT_FINISHED, **{ATTR_FINISHED_AT: from_timestamp(moment).isoformat()})

    def _reset(self) -> None:
        self._unschedule()
        self._status = STATUS_IDLE
        self._remaining = self._end = None
        self._running = self.config[CONF_DURATION]


async def async_setup(hub: Hub, config: dict[str, Any]) -> bool:
    """Create one entity per configured timer."""
    await async_setup_helpers(hub, DOMAIN, config, Timer, CONFIG_SCHEMA)
    return True
