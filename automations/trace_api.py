"""The trace API: WebSocket `trace/list` and `trace/get` (Home Assistant's names and shapes) and
REST `GET /api/traces/{domain}[/{item_id}[/{run_id}]]`. Operators and admins may read traces.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol
from aiohttp import web

from plantpulse.automations.trace import TraceStore
from plantpulse.core.auth.const import Role
from plantpulse.core.config import validation as cv
from plantpulse.core.http.extensions import async_register_api_view
from plantpulse.core.http.view import ApiError, hub_of, json_response, message_response
from plantpulse.core.http.websocket.registry import async_register_command

if TYPE_CHECKING:
    from plantpulse.core.http.websocket.connection import ActiveConnection
    from plantpulse.core.hub import Hub

_DATA_KEY: Final = "automations.trace_api"
ROLE: Final = Role.OPERATOR


def _store(hub: Hub) -> TraceStore:
    store = TraceStore.of(hub)
    if store is None:
        raise ApiError("No traces are kept: neither automations nor scripts are set up.",
                       HTTPStatus.NOT_FOUND, "not_found")
    return store


def ws_list(connection: ActiveConnection, msg_id: int, data: dict[str, Any]) -> None:
    """`trace/list {domain, item_id?}`: summaries of the kept runs, oldest first."""
    connection.send_result(msg_id, _store(connection.hub).list(data["domain"],
                                                               data.get("item_id")))


def ws_get(connection: ActiveConnection, msg_id: int, data: dict[str, Any]) -> None:
    """`trace/get {domain, item_id, run_id}`: one run's full trace."""
    trace = _store(connection.hub).get(data["domain"], data["item_id"], data["run_id"])
    if trace is None:
        raise ApiError("The trace could not be found.", HTTPStatus.NOT_FOUND, "not_found")
    connection.send_result(msg_id, trace)


async def rest_list(request: web.Request, domain: str) -> web.Response:
    """Summaries of the kept runs of every automation (or script)."""
    return json_response(_store(hub_of(request)).list(domain))


async def rest_item(request: web.Request, domain: str, item_id: str) -> web.Response:
    """Summaries of the kept runs of one automation (or script)."""
    return json_response(_store(hub_of(request)).list(domain, item_id))


async def rest_get(request: web.Request, domain: str, item_id: str,
                   run_id: str) -> web.Response:
    """One run's full trace: trigger, steps with results and variables, errors."""
    trace = _store(hub_of(request)).get(domain, item_id, run_id)
    if trace is None:
        return message_response("Trace not found.", HTTPStatus.NOT_FOUND)
    return json_response(trace)


def async_setup_trace_api(hub: Hub) -> None:
    """Register the commands and (when http is set up) the REST views, once per hub."""
    if hub.data.get(_DATA_KEY):
        return
    hub.data[_DATA_KEY] = True
    async_register_command(hub, "trace/list", ws_list, {
        vol.Required("domain"): cv.string, vol.Optional("item_id"): cv.string}, ROLE)
    async_register_command(hub, "trace/get", ws_get, {
        vol.Required("domain"): cv.string, vol.Required("item_id"): cv.string,
        vol.Required("run_id"): cv.string}, ROLE)
    if "http" in hub.components:
        async_register_api_view(hub, "GET", "/api/traces/{domain}", rest_list, ROLE)
        async_register_api_view(hub, "GET", "/api/traces/{domain}/{item_id}", rest_item, ROLE)
        async_register_api_view(hub, "GET", "/api/traces/{domain}/{item_id}/{run_id}",
                                rest_get, ROLE)
