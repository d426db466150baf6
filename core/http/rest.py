"""The REST API under `/api/`, in Home Assistant's shapes where it has them."""

from __future__ import annotations

import asyncio
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from aiohttp import web

from plantpulse.core import dt
from plantpulse.core.auth.const import Role
from plantpulse.core.const import EVENT_STATE_CHANGED, EventOrigin
from plantpulse.core.events import Context, Event
from plantpulse.core.exceptions import (
    PlantPulseError,
    ServiceNotFound,
    Unauthorized,
)
from plantpulse.core.http import queries
from plantpulse.core.http.const import SERVICE_WAIT_SECONDS
from plantpulse.core.http.openapi import openapi_document
from plantpulse.core.http.payloads import config_payload
from plantpulse.core.http.policy import check_fire_event, check_service_call
from plantpulse.core.http.view import (
    ApiError,
    access,
    context_of,
    hub_of,
    json_response,
    message_response,
    read_json,
    read_json_object,
    user_of,
)

if TYPE_CHECKING:
    from plantpulse.core.auth.models import User
    from plantpulse.core.hub import Hub
    from plantpulse.core.services import ServiceResponse
    from plantpulse.core.states import State

routes = web.RouteTableDef()


@routes.get("/api/")
async def api_status(_request: web.Request) -> web.Response:
    """Tell a client the API answers."""
    return message_response("API running.")


@routes.get("/api/config")
async def get_config(request: web.Request) -> web.Response:
    """Site settings, version, components and state."""
    return json_response(config_payload(hub_of(request)))


@routes.get("/api/config/issues")
async def get_config_issues(request: web.Request) -> web.Response:
    """Every configuration problem found at start, with file, line and key path."""
    return json_response([issue.as_dict() for issue in hub_of(request).config_issues])


@routes.get("/api/notifications")
async def get_notifications(request: web.Request) -> web.Response:
    """Persistent notifications (configuration problems, failed integrations...)."""
    return json_response([item.as_dict() for item in hub_of(request).notifications.all()])


@routes.get("/api/openapi.json")
async def get_openapi(request: web.Request) -> web.Response:
    """An OpenAPI 3.1 description of this REST API."""
    return json_response(openapi_document(request.app))


# States ---------------------------------------------------------------------------------


@routes.get("/api/states")
async def get_states(request: web.Request) -> web.Response:
    """Every current state."""
    return json_response(hub_of(request).states.all())


def _entity_id(request: web.Request) -> str:
    return request.match_info["entity_id"].lower()


@routes.get("/api/states/{entity_id}")
async def get_state(request: web.Request) -> web.Response:
    """One entity's current state."""
    state = hub_of(request).states.get(_entity_id(request))
    if state is None:
        return message_response("Entity not found.", HTTPStatus.NOT_FOUND)
    return json_response(state)


@routes.post("/api/states/{entity_id}")
@access(Role.ADMIN)
async def post_state(request: web.Request) -> web.Response:
    """Set a state: 201 when the entity is new, 200 when it existed."""
    hub = hub_of(request)
    entity_id = _entity_id(request)
    data = await read_json_object(request)
    if "state" not in data:
        raise ApiError("No state specified.")
    if isinstance(data["state"], dict | list) or data["state"] is None:
        raise ApiError("state must be a string or a number; put structured data in attributes.")
    attributes = data.get("attributes") or {}
    if not isinstance(attributes, dict):
        raise ApiError("attributes must be a JSON object.")
    existed = hub.states.get(entity_id) is not None
    try:
        hub.states.async_set(
            entity_id, data["state"], attributes, bool(data.get("force_update")),
            context_of(request),
        )
    except PlantPulseError as err:
        raise ApiError(str(err)) from None
    status = HTTPStatus.OK if existed else HTTPStatus.CREATED
    return json_response(hub.states.get(entity_id), status,
                         {"Location": f"/api/states/{entity_id}"})


@routes.delete("/api/states/{entity_id}")
@access(Role.ADMIN)
async def delete_state(request: web.Request) -> web.Response:
    """Remove a state from the state machine (the entity may write it again)."""
    if hub_of(request).states.async_remove(_entity_id(request), context_of(request)):
        return message_response("Entity removed.")
    return message_response("Entity not found.", HTTPStatus.NOT_FOUND)


# Services -------------------------------------------------------------------------------


@routes.get("/api/services")
async def get_services(request: web.Request) -> web.Response:
    """`[{domain, services: {name: description}}]`."""
    services = hub_of(request).services.async_services()
    return json_response([
        {"domain": domain, "services": {name: item.as_dict() for name, item in entries.items()}}
        for domain, entries in sorted(services.items())
    ])


async def _call_keeping_user_errors(
    hub: Hub, user: User, domain: str, service: str, data: dict[str, Any], context: Context,
    return_response: bool,
) -> ServiceResponse | PlantPulseError:
    try:
        # Checked in the same step as the call looks the service up, so they cannot disagree.
        check_service_call(hub, user, domain, service)
        return await hub.services.async_call(
            domain, service, data, context=context, return_response=return_response
        )
    except PlantPulseError as err:
        return err


@routes.post("/api/services/{domain}/{service}")
@access(Role.OPERATOR)
async def post_service(request: web.Request) -> web.Response:
    """Call a service with the body as its data; answers the states it changed.

    With `?return_response` the answer is `{"changed_states", "service_response"}`. A call
    without a response that takes longer than 10 s is answered with the changes so far and
    goes on running, as in Home Assistant. Admin-only services answer 403 to other users.
    """
    hub = hub_of(request)
    domain, service = request.match_info["domain"], request.match_info["service"]
    data = await read_json_object(request)
    return_response = "return_response" in request.query
    changed: dict[str, State] = {}

    def collect(event: Event) -> None:
        if (new_state := event.data.get("new_state")) is not None:
            changed.pop(new_state.entity_id, None)
            changed[new_state.entity_id] = new_state

    stop_collecting = hub.bus.async_listen(EVENT_STATE_CHANGED, collect)
    try:
        task = hub.async_create_task(
            _call_keeping_user_errors(hub, user_of(request), domain, service, data,
                                      context_of(request), return_response),
            f"REST call of {domain}.{service}",
        )
        if return_response:
            outcome = await task
        else:
            try:
                outcome = await asyncio.wait_for(asyncio.shield(task), SERVICE_WAIT_SECONDS)
            except TimeoutError:
                outcome = None
    finally:
        stop_collecting()
    if isinstance(outcome, ServiceNotFound):
        raise ApiError(f"Service {domain}.{service} not found.")
    if isinstance(outcome, Unauthorized):
        raise outcome
    if isinstance(outcome, PlantPulseError):
        raise ApiError(str(outcome))
    states = list(changed.values())
    if return_response:
        return json_response({"changed_states": states, "service_response": outcome})
    return json_response(states)


# Events ---------------------------------------------------------------------------------


@routes.get("/api/events")
async def get_events(request: web.Request) -> web.Response:
    """Event types that have listeners, with their counts."""
    listeners = hub_of(request).bus.async_listeners()
    return json_response([
        {"event": event_type, "listener_count": count}
        for event_type, count in sorted(listeners.items())
    ])


@routes.post("/api/events/{event_type}")
@access(Role.OPERATOR)
async def post_event(request: web.Request) -> web.Response:
    """Fire an event with the body as its data."""
    event_type = request.match_info["event_type"]
    check_fire_event(event_type)
    data = await read_json(request)
    if data is not None and not isinstance(data, dict):
        raise ApiError("Event data should be a JSON object")
    hub_of(request).bus.async_fire(event_type, data, EventOrigin.REMOTE, context_of(request))
    return message_response(f"Event {event_type} fired.")


# History and statistics ------------------------------------------------------------------


def _flag(request: web.Request, name: str) -> bool:
    return name in request.query and request.query[name].lower() not in ("0", "false")


@routes.get("/api/history/period")
@routes.get("/api/history/period/{start}")
async def get_history(request: web.Request) -> web.Response:
    """One list of states per entity, each starting with the state in effect at the start.

    The start defaults to one day ago; `significant_changes_only` is on unless `=0`, as in
    Home Assistant.
    """
    query = request.query
    now = dt.utcnow()
    start_text = request.match_info.get("start")
    start = queries.parse_time(start_text, "start time") if start_text else now - (
        queries.DEFAULT_SPAN
    )
    end = queries.parse_time(query["end_time"], "end_time") if "end_time" in query else None
    entity_ids = (
        queries.parse_entity_ids(query["filter_entity_id"], "filter_entity_id")
        if query.get("filter_entity_id") else None
    )
    history = await queries.async_history(
        hub_of(request), entity_ids, start, end,
        minimal_response=_flag(request, "minimal_response"),
        no_attributes=_flag(request, "no_attributes"),
        significant_changes_only=query.get("significant_changes_only", "1") != "0",
    )
    order = entity_ids if entity_ids is not None else sorted(history)
    return json_response([history[entity_id] for entity_id in order if history.get(entity_id)])


@routes.get("/api/statistics")
async def get_statistics(request: web.Request) -> web.Response:
    """`{statistic_id: [{start, end, mean, min, max, sum, state, change}]}`."""
    query = request.query
    if not query.get("statistic_id"):
        raise ApiError("statistic_id is missing: pass one or more entity ids, comma-separated.")
    statistic_ids = queries.parse_entity_ids(query["statistic_id"], "statistic_id")
    period = queries.parse_period(query.get("period", "hour"))
    start = (
        queries.parse_time(query["start"], "start") if "start" in query
        else dt.utcnow() - queries.DEFAULT_SPAN
    )
    end = queries.parse_time(query["end"], "end") if "end" in query else None
    types = queries.parse_types(query.get("types"))
    return json_response(await queries.async_statistics(
        hub_of(request), statistic_ids, period, start, end, types
    ))
