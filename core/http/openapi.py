"""The OpenAPI 3.1 document served at `/api/openapi.json`, describing the REST API."""

from __future__ import annotations

from functools import cache
from typing import Any, Final

from plantpulse.core.const import VERSION

_JSON: Final = "application/json"
_ANY: Final[dict[str, Any]] = {}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _list_of(schema: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": schema}


def _path_param(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "description": description,
            "schema": {"type": "string"}}


def _query(name: str, description: str, required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "description": description,
            "schema": {"type": "string"}}


def _op(
    summary: str,
    role: str | None,
    answer: dict[str, Any] = _ANY,
    *,
    params: tuple[dict[str, Any], ...] = (),
    body: dict[str, Any] | None = None,
    status: str = "200",
    errors: tuple[str, ...] = (),
) -> dict[str, Any]:
    """One operation; `role` None means no token is needed."""
    responses: dict[str, Any] = {
        status: {"description": "Success", "content": {_JSON: {"schema": answer}}},
    }
    for code in errors:
        responses[code] = {"description": _ERRORS[code],
                           "content": {_JSON: {"schema": _ref("Message")}}}
    operation: dict[str, Any] = {"summary": summary, "responses": responses}
    if role is None:
        operation["security"] = []
    else:
        operation["description"] = f"Needs a token of a user with role {role} or above."
        responses["401"] = {"description": _ERRORS["401"],
                            "content": {_JSON: {"schema": _ref("Message")}}}
        responses["429"] = {"description": _ERRORS["429"],
                            "content": {_JSON: {"schema": _ref("Message")}}}
    if params:
        operation["parameters"] = list(params)
    if body is not None:
        operation["requestBody"] = {"required": True, "content": {_JSON: {"schema": body}}}
    return operation


_ERRORS: Final = {
    "400": "Invalid JSON, unknown service or invalid data; the message says which",
    "401": "No valid access token",
    "403": "The user's role may not do this",
    "404": "Not found (or the recorder is not set up)",
    "413": "The request body is larger than 1 MiB",
    "429": "Address banned after repeated failed logins; see Retry-After",
}

_SCHEMAS: Final = {
    "Message": {"type": "object", "properties": {"message": {"type": "string"}},
                "required": ["message"]},
    "Context": {"type": "object", "properties": {
        "id": {"type": "string"}, "parent_id": {"type": ["string", "null"]},
        "user_id": {"type": ["string", "null"]}}},
    "State": {"type": "object", "properties": {
        "entity_id": {"type": "string"}, "state": {"type": "string"},
        "attributes": {"type": "object"},
        "last_changed": {"type": "string", "format": "date-time"},
        "last_updated": {"type": "string", "format": "date-time"},
        "measured_at": {"type": "string", "format": "date-time"},
        "context": _ref("Context")}},
    "StateWrite": {"type": "object", "required": ["state"], "properties": {
        "state": {"type": "string"}, "attributes": {"type": "object"},
        "force_update": {"type": "boolean"}}},
    "StatisticsRow": {"type": "object", "properties": {
        "start": {"type": "string", "format": "date-time"},
        "end": {"type": "string", "format": "date-time"},
        **{name: {"type": ["number", "null"]}
           for name in ("mean", "min", "max", "sum", "state", "change")}}},
    "Tokens": {"type": "object", "properties": {
        "access_token": {"type": "string"}, "token_type": {"const": "Bearer"},
        "expires_in": {"type": "integer"}, "refresh_token": {"type": "string"}}},
    "User": {"type": "object", "properties": {
        "id": {"type": "string"}, "username": {"type": "string"}, "name": {"type": "string"},
        "role": {"enum": ["admin", "operator", "viewer"]}, "is_owner": {"type": "boolean"},
        "is_admin": {"type": "boolean"}, "is_active": {"type": "boolean"},
        "language": {"type": ["string", "null"]}}},
    "Token": {"type": "object", "properties": {
        "id": {"type": "string"}, "user_id": {"type": "string"},
        "username": {"type": "string"},
        "type": {"enum": ["normal", "long_lived_access_token"]},
        "client_name": {"type": ["string", "null"]}, "is_current": {"type": "boolean"},
        "created_at": {"type": "string"}, "expires_at": {"type": ["string", "null"]},
        "last_used_at": {"type": ["string", "null"]}}},
}

_ENTITY_ID: Final = _path_param("entity_id", "An entity id such as sensor.line_power")
_OBJECT: Final = {"type": "object"}


def _paths() -> dict[str, Any]:
    history_params = (
        _query("filter_entity_id", "Comma-separated entity ids (default: all recorded)"),
        _query("end_time", "ISO 8601 end (default: now); no offset means UTC"),
        _query("minimal_response", "Flag: later states only carry state and last_changed"),
        _query("no_attributes", "Flag: leave attributes out"),
        _query("significant_changes_only", "0 to include attribute-only changes (default 1)"),
    )
    history = _op("History: one list of states per entity, starting with the state at the "
                  "start time", "viewer", _list_of(_list_of(_ref("State"))),
                  params=history_params, errors=("400", "404"))
    history_at = _op("History from a start time", "viewer", _list_of(_list_of(_ref("State"))),
                     params=(_path_param("start", "ISO 8601 start; no offset means UTC"),
                             *history_params), errors=("400", "404"))
    return {
        "/api/": {"get": _op("Check that the API runs", "viewer", _ref("Message"))},
        "/api/config": {"get": _op("Site settings, version, components, state", "viewer",
                                   _OBJECT)},
        "/api/config/issues": {"get": _op("Configuration problems with file and line",
                                          "viewer", _list_of(_OBJECT))},
        "/api/notifications": {"get": _op("Persistent notifications", "viewer",
                                          _list_of(_OBJECT))},
        "/api/openapi.json": {"get": _op("This document", "viewer", _OBJECT)},
        "/api/states": {"get": _op("All current states", "viewer", _list_of(_ref("State")))},
        "/api/states/{entity_id}": {
            "get": _op("One entity's state", "viewer", _ref("State"), params=(_ENTITY_ID,),
                       errors=("404",)),
            "post": _op("Set a state (201 when new, 200 when updated)", "admin", _ref("State"),
                        params=(_ENTITY_ID,), body=_ref("StateWrite"),
                        errors=("400", "403", "413")),
            "delete": _op("Remove a state", "admin", _ref("Message"), params=(_ENTITY_ID,),
                          errors=("403", "404")),
        },
        "/api/services": {"get": _op("Services by domain", "viewer", _list_of(_OBJECT))},
        "/api/services/{domain}/{service}": {"post": _op(
            "Call a service with the body as its data; answers the states it changed, or with "
            "?return_response {changed_states, service_response}", "operator",
            _list_of(_ref("State")),
            params=(_path_param("domain", "Service domain"),
                    _path_param("service", "Service name"),
                    _query("return_response", "Flag: include the service's response")),
            body=_OBJECT, errors=("400", "403", "413"))},
        "/api/events": {"get": _op("Event types with listener counts", "viewer",
                                   _list_of(_OBJECT))},
        "/api/events/{event_type}": {"post": _op(
            "Fire an event with the body as its data", "operator", _ref("Message"),
            params=(_path_param("event_type", "Event type"),), body=_OBJECT,
            errors=("400", "403"))},
        "/api/history/period": {"get": history},
        "/api/history/period/{start}": {"get": history_at},
        "/api/statistics": {"get": _op(
            "Statistics rows per statistic id", "viewer",
            {"type": "object", "additionalProperties": _list_of(_ref("StatisticsRow"))},
            params=(_query("statistic_id", "Comma-separated statistic (entity) ids", True),
                    _query("period", "5minute, hour (default), day or month"),
                    _query("start", "ISO 8601 start (default: one day ago)"),
                    _query("end", "ISO 8601 end (default: now)"),
                    _query("types", "Comma-separated columns: mean,min,max,sum,state,change")),
            errors=("400", "404"))},
        "/api/webhook/{webhook_id}": {"post": _op(
            "Trigger a webhook; no token, the id is the secret. Unknown ids also answer 200",
            None, params=(_path_param("webhook_id", "The webhook's id"),))},
        "/api/websocket": {"get": _op(
            "WebSocket API (auth_required, auth, then commands), as Home Assistant's", None)},
        "/auth/token": {"post": _op(
            "Log in (grant_type=password with username, password, client_id) or refresh "
            "(grant_type=refresh_token with refresh_token); form or JSON", None,
            _ref("Tokens"), body=_OBJECT, errors=("400",))},
        "/auth/revoke": {"post": _op("Log out: revoke the refresh token given as `token`",
                                     None, body=_OBJECT)},
        "/auth/onboarding": {
            "get": _op("Whether the owner account exists", None,
                       {"type": "object", "properties": {"done": {"type": "boolean"}}}),
            "post": _op("Create the owner with the printed one-time code: {code, username, "
                        "password, name, language}", None, _ref("Tokens"), body=_OBJECT,
                        errors=("400", "403")),
        },
        "/api/auth/current_user": {"get": _op("The logged-in user", "viewer", _ref("User"))},
        "/api/auth/password": {"post": _op(
            "Change one's password: {current_password, new_password}", "viewer",
            _ref("Message"), body=_OBJECT, errors=("400", "403"))},
        "/api/auth/users": {
            "get": _op("All users", "admin", _list_of(_ref("User")), errors=("403",)),
            "post": _op("Add a user: {username, password, role, name, language}", "admin",
                        _ref("User"), body=_OBJECT, status="201", errors=("400", "403")),
        },
        "/api/auth/users/{user_id}": {
            "patch": _op("Change name, role, is_active, password or language", "admin",
                         _ref("User"), params=(_path_param("user_id", "User id"),),
                         body=_OBJECT, errors=("400", "403", "404")),
            "delete": _op("Delete a user and their tokens", "admin", _ref("Message"),
                          params=(_path_param("user_id", "User id"),),
                          errors=("400", "403", "404")),
        },
        "/api/auth/tokens": {
            "get": _op("Sessions and long-lived tokens (an admin sees all)", "viewer",
                       _list_of(_ref("Token"))),
            "post": _op("Create a long-lived token for oneself: {client_name, lifespan "
                        "(days)}; the answer's access_token is shown only once", "viewer",
                        _ref("Token"), body=_OBJECT, status="201", errors=("400",)),
        },
        "/api/auth/tokens/{token_id}": {"delete": _op(
            "Revoke a token (an admin any, others their own)", "viewer", _ref("Message"),
            params=(_path_param("token_id", "Token id"),), errors=("404",))},
        "/api/audit": {"get": _op(
            "Latest audit records: time, user, action, target, ip", "admin",
            _list_of(_OBJECT), params=(_query("limit", "How many (default 100, max 1000)"),),
            errors=("403",))},
    }


@cache
def openapi_document() -> dict[str, Any]:
    """The document (built once)."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "PlantPulse REST API",
            "version": VERSION,
            "description": "Home Assistant-style REST API of a PlantPulse hub. Send "
                           "`Authorization: Bearer <access token>`; errors answer "
                           "`{\"message\": ...}`.",
        },
        "components": {
            "schemas": _SCHEMAS,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
        "paths": _paths(),
    }
