"""Built-in WebSocket commands: states, events, services, history, statistics, auth, registries."""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

from plantpulse.core.auth.audit import Actor
from plantpulse.core.auth.const import Role
from plantpulse.core.auth.models import AuthError
from plantpulse.core.config import validation as cv
from plantpulse.core.const import EVENT_STATE_CHANGED, MATCH_ALL, EventOrigin
from plantpulse.core.events import Context, Event
from plantpulse.core.http import queries
from plantpulse.core.http.auth_views import TOKEN_CREATE_FIELDS, token_list
from plantpulse.core.http.payloads import (
    area_list,
    config_payload,
    device_list,
    entity_list,
    services_by_domain,
)
from plantpulse.core.http.policy import check_fire_event, check_service_call, check_subscribe
from plantpulse.core.http.view import ApiError
from plantpulse.core.http.websocket.compressed import compressed_state, state_diff
from plantpulse.core.http.websocket.registry import async_register_command
from plantpulse.core.jsonenc import json_dumps
from plantpulse.core.tracking import async_track_state_change_event

if TYPE_CHECKING:
    from plantpulse.core.http.websocket.connection import ActiveConnection
    from plantpulse.core.hub import Hub

_LOGGER = logging.getLogger(__name__)

_TARGET_KEYS: Final = ("entity_id", "device_id", "area_id")


@lru_cache(maxsize=256)
def _event_json(event: Event) -> str | None:
    """An event serialised once, however many connections subscribe to it.

    None (logged once) when its data cannot be sent as JSON: an integration put an object or
    a NaN into it. Subscribers then miss that event rather than their connection.
    """
    try:
        return json_dumps(event.as_dict())
    except (TypeError, ValueError) as err:
        _LOGGER.warning("Event %s not sent to WebSocket subscribers: %s", event.event_type, err)
        return None


def _actor(connection: ActiveConnection) -> Actor:
    user = connection.current_user
    return Actor(user.username, user.id, connection.ip)


def _context(connection: ActiveConnection) -> Context:
    return Context(user_id=connection.current_user.id)


# Reading --------------------------------------------------------------------------------


def get_states(connection: ActiveConnection, msg_id: int, _data: dict[str, Any]) -> None:
    """Every current state."""
    connection.send_result(msg_id, connection.hub.states.all())


def get_config(connection: ActiveConnection, msg_id: int, _data: dict[str, Any]) -> None:
    """The hub's settings, as `GET /api/config`."""
    connection.send_result(msg_id, config_payload(connection.hub))


def get_services(connection: ActiveConnection, msg_id: int, _data: dict[str, Any]) -> None:
    """`{domain: {service: description}}`."""
    connection.send_result(msg_id, services_by_domain(connection.hub))


def get_notifications(connection: ActiveConnection, msg_id: int, _data: dict[str, Any]) -> None:
    """Persistent notifications."""
    connection.send_result(msg_id, connection.hub.notifications.all())


def list_areas(connection: ActiveConnection, msg_id: int, _data: dict[str, Any]) -> None:
    """Areas: `area_id, name, parent_id, icon`."""
    connection.send_result(msg_id, area_list(connection.hub))


def list_devices(connection: ActiveConnection, msg_id: int, _data: dict[str, Any]) -> None:
    """Devices with their areas."""
    connection.send_result(msg_id, device_list(connection.hub))


def list_entities(connection: ActiveConnection, msg_id: int, _data: dict[str, Any]) -> None:
    """Registered entities; `area_id` is the entity's own area, else its device's."""
    connection.send_result(msg_id, entity_list(connection.hub))


def supported_features(connection: ActiveConnection, msg_id: int, _data: dict[str, Any]) -> None:
    """Accept a Home Assistant client's feature announcement; no optional feature is used."""
    connection.send_result(msg_id)


# Subscriptions --------------------------------------------------------------------------


def subscribe_events(connection: ActiveConnection, msg_id: int, data: dict[str, Any]) -> None:
    """Forward events (of one type, or all) until `unsubscribe_events`.

    Non-admins may subscribe only to the events in `policy.SUBSCRIBABLE_BY_ALL`.
    """
    event_type = data.get("event_type") or MATCH_ALL
    check_subscribe(connection.current_user, event_type)
    prefix = f'{{"id":{msg_id},"type":"event","event":'

    def forward(event: Event) -> None:
        if (text := _event_json(event)) is not None:
            connection.send_message(f"{prefix}{text}}}")

    connection.subscriptions[msg_id] = connection.hub.bus.async_listen(event_type, forward)
    connection.send_result(msg_id)


def subscribe_entities(connection: ActiveConnection, msg_id: int, data: dict[str, Any]) -> None:
    """All states at once (`a`), then changes (`c`) and removals (`r`) in compressed form."""
    hub = connection.hub
    wanted = data.get("entity_ids")

    def forward(event: Event) -> None:
        entity_id = event.data["entity_id"]
        old, new = event.data["old_state"], event.data["new_state"]
        if new is None:
            connection.send_event(msg_id, {"r": [entity_id]})
        elif old is None:
            connection.send_event(msg_id, {"a": {entity_id: compressed_state(new)}})
        else:
            connection.send_event(msg_id, {"c": {entity_id: state_diff(old, new)}})

    if wanted:
        unsubscribe = async_track_state_change_event(hub, wanted, forward)
        states = [state for entity_id in wanted if (state := hub.states.get(entity_id))]
    else:
        unsubscribe = hub.bus.async_listen(EVENT_STATE_CHANGED, forward)
        states = hub.states.all()
    connection.subscriptions[msg_id] = unsubscribe
    connection.send_result(msg_id)
    connection.send_event(msg_id, {"a": {state.entity_id: compressed_state(state)
                                         for state in states}})


def unsubscribe_events(connection: ActiveConnection, msg_id: int, data: dict[str, Any]) -> None:
    """End a subscription made by any `subscribe_*` command."""
    unsubscribe = connection.subscriptions.pop(data["subscription"], None)
    if unsubscribe is None:
        raise ApiError("Subscription not found.", code="not_found")
    unsubscribe()
    connection.send_result(msg_id)


# Acting ---------------------------------------------------------------------------------


async def call_service(connection: ActiveConnection, msg_id: int, data: dict[str, Any]) -> None:
    """Call a service; `target` keys join the service data. Result `{context, response}`.

    Admin-only services answer `unauthorized` to other users.
    """
    service_data = dict(data.get("service_data") or {})
    for key in _TARGET_KEYS:
        if key in (data.get("target") or {}):
            service_data[key] = data["target"][key]
    context = _context(connection)
    # Checked in the same step as the call looks the service up, so they cannot disagree.
    check_service_call(connection.hub, connection.current_user, data["domain"], data["service"])
    response = await connection.hub.services.async_call(
        data["domain"], data["service"], service_data, context=context,
        return_response=data["return_response"],
    )
    connection.send_result(msg_id, {"context": context, "response": response})


def fire_event(connection: ActiveConnection, msg_id: int, data: dict[str, Any]) -> None:
    """Fire an event (not one of the hub's own)."""
    event_type = data["event_type"]
    check_fire_event(event_type)
    context = _context(connection)
    connection.hub.bus.async_fire(event_type, data.get("event_data"), EventOrigin.REMOTE,
                                  context)
    connection.send_result(msg_id, {"context": context})


# History and statistics ------------------------------------------------------------------


def _span(data: dict[str, Any]) -> tuple[Any, Any]:
    start = queries.parse_time(data["start_time"], "start_time")
    end = queries.parse_time(data["end_time"], "end_time") if data.get("end_time") else None
    return start, end


async def _history(
    data: dict[str, Any], connection: ActiveConnection, *, compact: bool = False
) -> dict[str, Any]:
    start, end = _span(data)
    entity_ids = data.get("entity_ids")
    return await queries.async_history(
        connection.hub,
        queries.parse_entity_ids(entity_ids, "entity_ids") if entity_ids else None,
        start, end, minimal_response=data["minimal_response"],
        no_attributes=data["no_attributes"],
        significant_changes_only=data["significant_changes_only"],
        include_start_time_state=data["include_start_time_state"], compact=compact,
    )


async def history(connection: ActiveConnection, msg_id: int, data: dict[str, Any]) -> None:
    """`{entity_id: [state dicts]}` in the REST history shape (ISO times)."""
    connection.send_result(msg_id, await _history(data, connection))


async def history_during_period(
    connection: ActiveConnection, msg_id: int, data: dict[str, Any]
) -> None:
    """Home Assistant's `history/history_during_period`: `{entity_id: [{s, a, lu, lc}]}`."""
    connection.send_result(msg_id, await _history(data, connection, compact=True))


async def _statistics(
    data: dict[str, Any], connection: ActiveConnection, *, epoch_ms: bool = False
) -> dict[str, Any]:
    if data.get("units"):
        raise ApiError("Unit conversion ('units') is not supported: leave it out; statistics "
                       "come in the unit each sensor reports.")
    start, end = _span(data)
    return await queries.async_statistics(
        connection.hub, queries.parse_entity_ids(data["statistic_ids"], "statistic_ids"),
        queries.parse_period(data["period"]), start, end, queries.parse_types(data.get("types")),
        epoch_ms=epoch_ms,
    )


async def statistics(connection: ActiveConnection, msg_id: int, data: dict[str, Any]) -> None:
    """`{statistic_id: [rows]}` with ISO `start`/`end`, as `GET /api/statistics`."""
    connection.send_result(msg_id, await _statistics(data, connection))


async def statistics_during_period(
    connection: ActiveConnection, msg_id: int, data: dict[str, Any]
) -> None:
    """Home Assistant's `recorder/statistics_during_period`: times in epoch milliseconds."""
    connection.send_result(msg_id, await _statistics(data, connection, epoch_ms=True))


# Auth -----------------------------------------------------------------------------------


def current_user(connection: ActiveConnection, msg_id: int, _data: dict[str, Any]) -> None:
    """The logged-in user."""
    connection.send_result(msg_id, connection.current_user.as_dict())


async def long_lived_access_token(
    connection: ActiveConnection, msg_id: int, data: dict[str, Any]
) -> None:
    """Create a long-lived token for oneself; the result is the token (shown only now)."""
    try:
        _token, access_token = await connection.http.auth.async_create_long_lived_token(
            _actor(connection), connection.current_user, data["client_name"], data["lifespan"]
        )
    except AuthError as err:
        raise ApiError(str(err)) from None
    connection.send_result(msg_id, access_token)


def refresh_tokens(connection: ActiveConnection, msg_id: int, _data: dict[str, Any]) -> None:
    """Sessions and long-lived tokens: an admin sees everyone's, others their own."""
    connection.send_result(msg_id, token_list(connection.http.auth, connection.current_user,
                                              connection.refresh_token_id))


async def delete_refresh_token(
    connection: ActiveConnection, msg_id: int, data: dict[str, Any]
) -> None:
    """Revoke a token (an admin any, others their own); the result comes once it is saved.

    Revoking the token this connection logged in with closes the connection instead.
    """
    auth = connection.http.auth
    user = connection.current_user
    token = auth.data.refresh_tokens.get(data["refresh_token_id"])
    if token is None or not (user.is_admin or token.user_id == user.id):
        raise ApiError("Token not found.", code="not_found")
    await auth.async_revoke(_actor(connection), token.id)
    connection.send_result(msg_id)


_TIME: Final = cv.string
_HISTORY_FIELDS: Final = {
    vol.Required("start_time"): _TIME,
    vol.Optional("end_time"): vol.Any(None, _TIME),
    vol.Optional("entity_ids"): vol.Any(None, vol.All(cv.ensure_list, [cv.string])),
    vol.Optional("minimal_response", default=False): bool,
    vol.Optional("no_attributes", default=False): bool,
    vol.Optional("significant_changes_only", default=True): bool,
    vol.Optional("include_start_time_state", default=True): bool,
}
_STATISTICS_FIELDS: Final = {
    vol.Required("start_time"): _TIME,
    vol.Optional("end_time"): vol.Any(None, _TIME),
    vol.Required("statistic_ids"): vol.All(cv.ensure_list, [cv.string]),
    vol.Optional("period", default="hour"): cv.string,
    vol.Optional("types"): vol.All(cv.ensure_list, [cv.string]),
    vol.Optional("units"): vol.Any(None, dict),
}


def async_register_builtin_commands(hub: Hub) -> None:
    """Register every built-in command with the role it needs."""
    register = async_register_command
    register(hub, "get_states", get_states)
    register(hub, "supported_features", supported_features, {vol.Optional("features"): dict})
    register(hub, "get_config", get_config)
    register(hub, "get_services", get_services)
    register(hub, "persistent_notification/get", get_notifications)
    register(hub, "config/area_registry/list", list_areas)
    register(hub, "config/device_registry/list", list_devices)
    register(hub, "config/entity_registry/list", list_entities)
    register(hub, "subscribe_events", subscribe_events,
             {vol.Optional("event_type"): cv.string})
    register(hub, "subscribe_entities", subscribe_entities,
             {vol.Optional("entity_ids"): vol.All(cv.ensure_list, [cv.entity_id])})
    register(hub, "unsubscribe_events", unsubscribe_events,
             {vol.Required("subscription"): int})
    register(hub, "call_service", call_service, {
        vol.Required("domain"): cv.string,
        vol.Required("service"): cv.string,
        vol.Optional("service_data"): dict,
        vol.Optional("target"): dict,
        vol.Optional("return_response", default=False): bool,
    }, Role.OPERATOR)
    register(hub, "fire_event", fire_event, {
        vol.Required("event_type"): cv.string,
        vol.Optional("event_data"): dict,
    }, Role.OPERATOR)
    register(hub, "history", history, _HISTORY_FIELDS)
    register(hub, "history/history_during_period", history_during_period, _HISTORY_FIELDS)
    register(hub, "statistics", statistics, _STATISTICS_FIELDS)
    register(hub, "recorder/statistics_during_period", statistics_during_period,
             _STATISTICS_FIELDS)
    register(hub, "auth/current_user", current_user)
    register(hub, "auth/long_lived_access_token", long_lived_access_token, TOKEN_CREATE_FIELDS)
    register(hub, "auth/refresh_tokens", refresh_tokens)
    register(hub, "auth/delete_refresh_token", delete_refresh_token,
             {vol.Required("refresh_token_id"): cv.string})
