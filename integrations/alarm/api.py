"""The alarm services (`alarm.raise/acknowledge/clear/history`), REST views and WebSocket
commands."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

from plantpulse.core import dt
from plantpulse.core.config import validation as cv
from plantpulse.core.exceptions import ServiceValidationError
from plantpulse.core.services import ServiceCall, ServiceField, ServiceResponse, SupportsResponse
from plantpulse.integrations.alarm.const import (
    ATTR_DATA,
    ATTR_END,
    ATTR_ENTITY_ID,
    ATTR_KEY,
    ATTR_LIMIT,
    ATTR_MESSAGE,
    ATTR_NOTE,
    ATTR_SEVERITY,
    ATTR_SNAPSHOT,
    ATTR_SOURCE,
    ATTR_START,
    DEFAULT_HISTORY_LIMIT,
    DOMAIN,
    MAX_HISTORY_LIMIT,
    MAX_NOTE_LENGTH,
    REST_ACTIVE_PATH,
    REST_HISTORY_PATH,
    SERVICE_ACKNOWLEDGE,
    SERVICE_CLEAR,
    SERVICE_HISTORY,
    SERVICE_RAISE,
    WS_HISTORY,
    WS_LIST,
    Severity,
)
from plantpulse.integrations.alarm.models import alarm_key

if TYPE_CHECKING:
    from aiohttp import web

    from plantpulse.core.http.websocket.connection import ActiveConnection
    from plantpulse.core.hub import Hub
    from plantpulse.integrations.alarm.manager import AlarmManager


def moment(value: Any) -> datetime:
    """A time: a datetime or ISO 8601 text (no offset means UTC)."""
    if isinstance(value, datetime):
        return dt.as_utc(value)
    try:
        return dt.parse_datetime(cv.string(value))
    except ValueError:
        raise vol.Invalid(f"invalid time {value!r}: use ISO 8601 such as "
                          "2026-03-02T08:00:00+08:00") from None


def _key_or_entity(data: dict[str, Any]) -> dict[str, Any]:
    if (ATTR_KEY in data) == (ATTR_ENTITY_ID in data):
        raise vol.Invalid("name the alarm by its key or by its entity_id (one of them)")
    return data


_severity = vol.All(vol.Lower, vol.Coerce(Severity))

RAISE_SCHEMA: Final = vol.Schema({
    vol.Required(ATTR_KEY): cv.string,
    vol.Required(ATTR_SEVERITY): cv.string,
    vol.Required(ATTR_MESSAGE): vol.Any(cv.string, dict),
    vol.Optional(ATTR_SOURCE): cv.string,
    vol.Optional(ATTR_SNAPSHOT): cv.string,
    vol.Optional(ATTR_DATA): dict,
})
ACKNOWLEDGE_SCHEMA: Final = vol.All(vol.Schema({
    vol.Optional(ATTR_KEY): alarm_key,
    vol.Optional(ATTR_ENTITY_ID): cv.entity_id,
    vol.Optional(ATTR_NOTE): vol.All(cv.string, vol.Length(max=MAX_NOTE_LENGTH)),
}), _key_or_entity)
CLEAR_SCHEMA: Final = vol.All(vol.Schema({
    vol.Optional(ATTR_KEY): alarm_key,
    vol.Optional(ATTR_ENTITY_ID): cv.entity_id,
}), _key_or_entity)
HISTORY_SCHEMA: Final = vol.Schema({
    vol.Optional(ATTR_START): moment,
    vol.Optional(ATTR_END): moment,
    vol.Optional(ATTR_KEY): alarm_key,
    vol.Optional(ATTR_SEVERITY): _severity,
    vol.Optional(ATTR_LIMIT, default=DEFAULT_HISTORY_LIMIT): vol.All(
        vol.Coerce(int), vol.Range(min=1, max=MAX_HISTORY_LIMIT)
    ),
})

RAISE_FIELDS: Final = {
    ATTR_KEY: ServiceField("What is wrong, as a stable id: raising it again while active "
                           "counts it instead of making a second alarm",
                           example="pump_1_overload", required=True),
    ATTR_SEVERITY: ServiceField("critical, major, minor or warning", example="major",
                                required=True),
    ATTR_MESSAGE: ServiceField("One text, or one per language",
                               example={"zh-CN": "一号循环泵过载", "en": "Pump 1 overload"},
                               required=True),
    ATTR_SOURCE: ServiceField("The entity the alarm is about",
                              example="sensor.pump_1_current"),
    ATTR_SNAPSHOT: ServiceField("A picture of it (path in the config dir), attached to "
                                "notifications", example="media/snapshots/pump_1.jpg"),
    ATTR_DATA: ServiceField("Extra facts, kept with the alarm", example={"current": 98.5}),
}


async def _async_key(manager: AlarmManager, data: dict[str, Any]) -> str:
    if ATTR_KEY in data:
        return str(data[ATTR_KEY])
    key = manager.key_of_entity(data[ATTR_ENTITY_ID])
    if key is None:
        raise ServiceValidationError(f"{data[ATTR_ENTITY_ID]} is not an active alarm")
    return key


def history_query(data: dict[str, Any]) -> dict[str, Any]:
    """Keyword arguments of `AlarmManager.async_history` from validated query fields."""
    return {name: data[name] for name in (ATTR_KEY, ATTR_SEVERITY, ATTR_LIMIT) if name in data}


def async_register_services(hub: Hub, manager: AlarmManager) -> None:
    """Register alarm.raise, alarm.acknowledge, alarm.clear and alarm.history."""

    async def raise_alarm(call: ServiceCall) -> ServiceResponse:
        data = call.data
        try:
            alarm = await manager.async_raise(
                data[ATTR_KEY], data[ATTR_SEVERITY], data[ATTR_MESSAGE],
                source=data.get(ATTR_SOURCE), snapshot=data.get(ATTR_SNAPSHOT),
                data=data.get(ATTR_DATA), context=call.context,
            )
        except ValueError as err:
            raise ServiceValidationError(str(err)) from err
        return manager.describe(alarm)

    async def acknowledge(call: ServiceCall) -> ServiceResponse:
        data = dict(call.data)
        try:
            alarm = await manager.async_acknowledge(
                await _async_key(manager, data), note=data.get(ATTR_NOTE), context=call.context
            )
        except ValueError as err:
            raise ServiceValidationError(str(err)) from err
        return manager.describe(alarm)

    async def clear(call: ServiceCall) -> ServiceResponse:
        data = dict(call.data)
        if ATTR_ENTITY_ID in data and manager.key_of_entity(data[ATTR_ENTITY_ID]) is None:
            return {"cleared": None}
        alarm = await manager.async_clear(await _async_key(manager, data), context=call.context)
        return {"cleared": manager.describe(alarm) if alarm is not None else None}

    async def history(call: ServiceCall) -> ServiceResponse:
        data = dict(call.data)
        try:
            alarms = await manager.async_history(data.get(ATTR_START), data.get(ATTR_END),
                                                 **history_query(data))
        except ValueError as err:
            raise ServiceValidationError(str(err)) from err
        return {"alarms": alarms}

    hub.services.async_register(
        DOMAIN, SERVICE_RAISE, raise_alarm, RAISE_SCHEMA, SupportsResponse.OPTIONAL,
        name="Raise an alarm",
        description="Raise an alarm, or count it again while it is active; notifies the "
        "targets of its severity.", fields=RAISE_FIELDS,
    )
    hub.services.async_register(
        DOMAIN, SERVICE_ACKNOWLEDGE, acknowledge, ACKNOWLEDGE_SCHEMA, SupportsResponse.OPTIONAL,
        name="Acknowledge an alarm",
        description="Somebody is on it: records who and when, and stops its escalation.",
        fields={
            ATTR_KEY: ServiceField("The alarm's key", example="pump_1_overload"),
            ATTR_ENTITY_ID: ServiceField("Or its entity", example="alarm.pump_1_overload"),
            ATTR_NOTE: ServiceField("What is being done", example="维修班已到现场"),
        },
    )
    hub.services.async_register(
        DOMAIN, SERVICE_CLEAR, clear, CLEAR_SCHEMA, SupportsResponse.OPTIONAL,
        name="Clear an alarm",
        description="The condition is gone: the alarm ends (clearing one that is not active "
        "does nothing).",
        fields={
            ATTR_KEY: ServiceField("The alarm's key", example="pump_1_overload"),
            ATTR_ENTITY_ID: ServiceField("Or its entity", example="alarm.pump_1_overload"),
        },
    )
    hub.services.async_register(
        DOMAIN, SERVICE_HISTORY, history, HISTORY_SCHEMA, SupportsResponse.ONLY,
        name="Alarm history",
        description="Alarms with events in a time range (default: the last 7 days), newest "
        "first, from the recorder.",
        fields={
            ATTR_START: ServiceField("From (ISO 8601)", example="2026-03-01T00:00:00+08:00"),
            ATTR_END: ServiceField("Until (default: now)", example="2026-03-02T00:00:00+08:00"),
            ATTR_KEY: ServiceField("Only this key", example="pump_1_overload"),
            ATTR_SEVERITY: ServiceField("Only this severity", example="critical"),
            ATTR_LIMIT: ServiceField("How many alarms at most", example=100),
        },
    )


def async_register_http(hub: Hub, manager: AlarmManager) -> None:
    """`GET /api/alarms`, `GET /api/alarms/history` and WebSocket `alarm/list`, `alarm/history`."""
    from plantpulse.core.config.errors import humanize_invalid
    from plantpulse.core.http.extensions import async_register_api_view
    from plantpulse.core.http.view import ApiError, json_response
    from plantpulse.core.http.websocket.registry import async_register_command

    def active() -> dict[str, Any]:
        return {"alarms": [manager.describe(alarm) for alarm in manager.active()]}

    async def async_history(data: dict[str, Any]) -> dict[str, Any]:
        try:
            query = HISTORY_SCHEMA(data)
        except vol.Invalid as err:
            raise ApiError(f"Invalid query: {humanize_invalid(err)}.") from None
        try:
            alarms = await manager.async_history(query.get(ATTR_START), query.get(ATTR_END),
                                                 **history_query(query))
        except ValueError as err:
            raise ApiError(str(err), 404, "not_found") from None
        return {"alarms": alarms}

    async def get_active(_request: web.Request) -> web.Response:
        """Active alarms, most severe first."""
        return json_response(active())

    async def get_history(request: web.Request) -> web.Response:
        """Alarms with events between start and end (key, severity, limit), newest first."""
        return json_response(await async_history(dict(request.query)))

    def ws_list(connection: ActiveConnection, msg_id: int, _data: dict[str, Any]) -> None:
        connection.send_result(msg_id, active())

    async def ws_history(connection: ActiveConnection, msg_id: int,
                         data: dict[str, Any]) -> None:
        connection.send_result(msg_id, await async_history(data))

    async_register_api_view(hub, "GET", REST_ACTIVE_PATH, get_active)
    async_register_api_view(hub, "GET", REST_HISTORY_PATH, get_history)
    async_register_command(hub, WS_LIST, ws_list)
    async_register_command(hub, WS_HISTORY, ws_history, {
        vol.Optional(name): object for name in (ATTR_START, ATTR_END, ATTR_KEY, ATTR_SEVERITY,
                                                ATTR_LIMIT)
    })
