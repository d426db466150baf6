"""Alarms: raise, acknowledge, clear; notify by severity, escalate, hold back flapping keys.

    alarm:                          # an empty block is fine: no notifications, defaults
      notify:                       # notify targets per severity (critical, major, minor, warning)
        critical: [ops_sms, ops_email]
        warning: [ops_email]
      notify_cleared: false         # also tell them when an alarm clears
      escalation:                   # still unacknowledged after `after`: notify these too
        - after: "00:10:00"
          notify: [manager_sms]
          severities: [critical, major]   # optional; default every severity
        - after: "00:30:00"
          notify: [director_sms]
      flapping:                     # a key raised/cleared more than max_changes times within
        max_changes: 6              # window flaps: its notifications are held back until it
        window: "00:10:00"          # has not changed for a whole window (false: never flaps)

An alarm is one activation of a key: `alarm.raise {key, severity, message, source, snapshot,
data}` starts it, or, while it is active, updates it and counts it (`count`) instead of making
a second one. `message` is one text or `{zh-CN: ..., en: ...}`; both are kept, notifications
use the site's language. `alarm.acknowledge {key (or entity_id), note}` records who (the
calling user, "system" for automations) and stops its escalation; `alarm.clear {key}` ends
it. Integrations do the same through `hub.data["alarm"]` (AlarmManager: `async_raise`,
`async_acknowledge`, `async_clear`, `get`, `active`, `async_history`).

Events (data: every field of the alarm — id, key, state, severity, message, messages,
source, snapshot, data, raised_at, count, acknowledged_at/by, note, cleared_at/by,
entity_id, flapping): `alarm_raised` (a new alarm), `alarm_updated` (raised again while
active), `alarm_acknowledged`, `alarm_cleared`, `alarm_escalated` (plus step, after,
notify), and `alarm_flapping` {key, flapping}. The recorder keeps them; `alarm.history
{start, end, key, severity, limit}` reads them back as alarms with their timelines.

Entities: each active alarm is an entity `alarm.<key>` (state `active` or `acknowledged`,
the fields as attributes, the message as its name), removed when it clears;
`sensor.active_alarms` counts them (attributes: per severity, unacknowledged, keys). Active
alarms are saved in `.storage/alarm.active` at every change and come back after a restart,
their escalation timers too. With http: `GET /api/alarms`, `GET /api/alarms/history?start=
&end=&key=&severity=&limit=`, WebSocket `alarm/list` and `alarm/history`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

from plantpulse.core.config import validation as cv
from plantpulse.core.hub import StopStage
from plantpulse.integrations.alarm.api import async_register_http, async_register_services
from plantpulse.integrations.alarm.const import (
    CONF_AFTER,
    CONF_ENABLED,
    CONF_ESCALATION,
    CONF_FLAPPING,
    CONF_MAX_CHANGES,
    CONF_NOTIFY,
    CONF_NOTIFY_CLEARED,
    CONF_SEVERITIES,
    CONF_WINDOW,
    DEFAULT_MAX_CHANGES,
    DEFAULT_WINDOW,
    DOMAIN,
    Severity,
)
from plantpulse.integrations.alarm.flapping import FlappingConfig
from plantpulse.integrations.alarm.manager import AlarmConfig, AlarmManager, EscalationStep

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub

_targets = vol.All(cv.ensure_list, [cv.slug])
_severity = vol.All(cv.string, vol.Lower, vol.Coerce(Severity),
                    msg="expected critical, major, minor or warning")

FLAPPING_SCHEMA: Final = vol.Schema({
    vol.Optional(CONF_ENABLED, default=True): cv.boolean,
    vol.Optional(CONF_MAX_CHANGES, default=DEFAULT_MAX_CHANGES): vol.All(
        vol.Coerce(int), vol.Range(min=1)
    ),
    vol.Optional(CONF_WINDOW, default=DEFAULT_WINDOW): cv.positive_time_period,
})


def _flapping(value: Any) -> dict[str, Any]:
    """`flapping: false` (or true) as a shorthand for `enabled`."""
    if value is None or isinstance(value, bool | str):
        return FLAPPING_SCHEMA({} if value is None else {CONF_ENABLED: cv.boolean(value)})
    return FLAPPING_SCHEMA(value)


CONFIG_SCHEMA: Final = cv.empty_means_defaults(vol.Schema({
    vol.Optional(CONF_NOTIFY, default={}): vol.Schema({
        vol.Optional(str(severity)): _targets for severity in Severity
    }),
    vol.Optional(CONF_NOTIFY_CLEARED, default=False): cv.boolean,
    vol.Optional(CONF_ESCALATION, default=[]): vol.All(cv.ensure_list, [vol.Schema({
        vol.Required(CONF_AFTER): cv.positive_time_period,
        vol.Required(CONF_NOTIFY): vol.All(_targets, vol.Length(min=1, msg="name a target")),
        vol.Optional(CONF_SEVERITIES): vol.All(cv.ensure_list, [_severity]),
    })]),
    vol.Optional(CONF_FLAPPING, default={}): _flapping,
}))


def alarm_config(config: dict[str, Any]) -> AlarmConfig:
    """The manager's settings from the validated block."""
    steps = sorted(
        (EscalationStep(step[CONF_AFTER], tuple(step[CONF_NOTIFY]),
                        frozenset(step[CONF_SEVERITIES]) if CONF_SEVERITIES in step else None)
         for step in config[CONF_ESCALATION]),
        key=lambda step: step.after,
    )
    flapping = config[CONF_FLAPPING]
    return AlarmConfig(
        notify={Severity(name): tuple(targets) for name, targets in config[CONF_NOTIFY].items()},
        notify_cleared=config[CONF_NOTIFY_CLEARED],
        escalation=tuple(steps),
        flapping=FlappingConfig(flapping[CONF_ENABLED], flapping[CONF_MAX_CHANGES],
                                flapping[CONF_WINDOW].total_seconds()),
    )


async def async_setup(hub: Hub, config: dict[str, Any]) -> bool:
    """Restore the active alarms and offer the services, the API object and the views."""
    manager = AlarmManager(hub, alarm_config(config))
    await manager.async_load()
    hub.data[DOMAIN] = manager
    async_register_services(hub, manager)
    if "http" in hub.components:
        async_register_http(hub, manager)
    hub.async_on_stop(manager.async_stop, StopStage.STORAGE)
    return True
