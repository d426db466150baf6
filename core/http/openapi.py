"""The OpenAPI 3.1 document served at `/api/openapi.json`, describing the REST API.

Paths, methods, path parameters, who may call what and the answers every protected route can
give (401, 403, 429) come from the route tables and their `@access` markers; summaries are the
handlers' docstrings. Only what the code cannot tell is written here: query parameters, bodies,
answer schemas and the errors a handler itself gives.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Final

from aiohttp import hdrs, web

from plantpulse.core.auth.const import Role, TokenType
from plantpulse.core.const import VERSION
from plantpulse.core.http.const import MAX_BODY_BYTES
from plantpulse.core.http.extensions import api_views, dispatch
from plantpulse.core.http.security import is_api_path
from plantpulse.core.http.view import HTTP_KEY, access_of
from plantpulse.core.http.webhook import DEFAULT_METHODS as WEBHOOK_METHODS

_JSON: Final = "application/json"
_PATH_PARAMETER: Final = re.compile(r"\{(\w+)")


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _list_of(schema: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": schema}


_OBJECT: Final[dict[str, Any]] = {"type": "object"}

_ERRORS: Final = {
    "400": "Invalid JSON, unknown service or invalid data; the message says which",
    "401": "No valid access token",
    "403": "The user may not do this: their role is too low, or it is for admins only",
    "404": "Not found (or the recorder is not set up)",
    "413": f"The request body is larger than {MAX_BODY_BYTES // 1024} KiB",
    "429": "Address banned after repeated failed logins; see Retry-After",
    "503": "The hub cannot save the change (disk full or read-only); nothing was changed",
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
        "role": {"enum": [str(role) for role in Role]}, "is_owner": {"type": "boolean"},
        "is_admin": {"type": "boolean"}, "is_active": {"type": "boolean"},
        "language": {"type": ["string", "null"]}}},
    "Token": {"type": "object", "properties": {
        "id": {"type": "string"}, "user_id": {"type": "string"},
        "username": {"type": "string"},
        "type": {"enum": [str(kind) for kind in TokenType]},
        "client_name": {"type": ["string", "null"]}, "is_current": {"type": "boolean"},
        "created_at": {"type": "string"}, "expires_at": {"type": ["string", "null"]},
        "last_used_at": {"type": ["string", "null"]}}},
}

_PATH_PARAMETERS: Final = {
    "entity_id": "An entity id such as sensor.line_power",
    "domain": "Service domain",
    "service": "Service name",
    "event_type": "Event type",
    "start": "ISO 8601 start; no offset means UTC",
    "user_id": "User id",
    "token_id": "Token id",
    "webhook_id": "The webhook's id",
}


@dataclass(frozen=True, slots=True)
class Doc:
    """What the code cannot tell about an operation."""

    answer: dict[str, Any] = field(default_factory=dict)
    query: tuple[tuple[str, str], ...] = ()
    required_query: frozenset[str] = frozenset()
    body: dict[str, Any] | None = None
    status: str = "200"
    errors: tuple[str, ...] = ()


_HISTORY: Final = Doc(
    _list_of(_list_of(_ref("State"))),
    query=(
        ("filter_entity_id", "Comma-separated entity ids (default: all recorded)"),
        ("end_time", "ISO 8601 end (default: now); no offset means UTC"),
        ("minimal_response", "Flag: later states only carry state and last_changed"),
        ("no_attributes", "Flag: leave attributes out"),
        ("significant_changes_only", "0 to include attribute-only changes (default 1)"),
    ),
    errors=("400", "404"),
)

_DOCS: Final[dict[tuple[str, str], Doc]] = {
    ("GET", "/api/"): Doc(_ref("Message")),
    ("GET", "/api/config"): Doc(_OBJECT),
    ("GET", "/api/config/issues"): Doc(_list_of(_OBJECT)),
    ("GET", "/api/notifications"): Doc(_list_of(_OBJECT)),
    ("GET", "/api/openapi.json"): Doc(_OBJECT),
    ("GET", "/api/states"): Doc(_list_of(_ref("State"))),
    ("GET", "/api/states/{entity_id}"): Doc(_ref("State"), errors=("404",)),
    ("POST", "/api/states/{entity_id}"): Doc(_ref("State"), body=_ref("StateWrite"),
                                             errors=("400", "413")),
    ("DELETE", "/api/states/{entity_id}"): Doc(_ref("Message"), errors=("404",)),
    ("GET", "/api/services"): Doc(_list_of(_OBJECT)),
    ("POST", "/api/services/{domain}/{service}"): Doc(
        _list_of(_ref("State")),
        query=(("return_response", "Flag: answer {changed_states, service_response}"),),
        body=_OBJECT, errors=("400", "413"),
    ),
    ("GET", "/api/events"): Doc(_list_of(_OBJECT)),
    ("POST", "/api/events/{event_type}"): Doc(_ref("Message"), body=_OBJECT, errors=("400",)),
    ("GET", "/api/history/period"): _HISTORY,
    ("GET", "/api/history/period/{start}"): _HISTORY,
    ("GET", "/api/statistics"): Doc(
        {"type": "object", "additionalProperties": _list_of(_ref("StatisticsRow"))},
        query=(
            ("statistic_id", "Comma-separated statistic (entity) ids"),
            ("period", "5minute, hour (default), day or month"),
            ("start", "ISO 8601 start (default: one day ago)"),
            ("end", "ISO 8601 end (default: now)"),
            ("types", "Comma-separated columns: mean,min,max,sum,state,change"),
        ),
        required_query=frozenset({"statistic_id"}), errors=("400", "404"),
    ),
    ("POST", "/auth/token"): Doc(_ref("Tokens"), body=_OBJECT, errors=("400",)),
    ("POST", "/auth/revoke"): Doc(body=_OBJECT),
    ("GET", "/auth/onboarding"): Doc(
        {"type": "object", "properties": {"done": {"type": "boolean"}}}),
    ("POST", "/auth/onboarding"): Doc(_ref("Tokens"), body=_OBJECT, errors=("400", "403")),
    ("GET", "/api/auth/current_user"): Doc(_ref("User")),
    ("POST", "/api/auth/password"): Doc(_ref("Message"), body=_OBJECT,
                                        errors=("400", "403", "503")),
    ("GET", "/api/auth/users"): Doc(_list_of(_ref("User"))),
    ("POST", "/api/auth/users"): Doc(_ref("User"), body=_OBJECT, status="201",
                                     errors=("400", "503")),
    ("PATCH", "/api/auth/users/{user_id}"): Doc(_ref("User"), body=_OBJECT,
                                                errors=("400", "404", "503")),
    ("DELETE", "/api/auth/users/{user_id}"): Doc(_ref("Message"), errors=("400", "404", "503")),
    ("GET", "/api/auth/tokens"): Doc(_list_of(_ref("Token"))),
    ("POST", "/api/auth/tokens"): Doc(_ref("Token"), body=_OBJECT, status="201",
                                      errors=("400", "503")),
    ("DELETE", "/api/auth/tokens/{token_id}"): Doc(_ref("Message"), errors=("404", "503")),
    ("GET", "/api/audit"): Doc(_list_of(_OBJECT),
                               query=(("limit", "How many (default 100, max 1000)"),)),
}


def _error(code: str) -> dict[str, Any]:
    return {"description": _ERRORS[code], "content": {_JSON: {"schema": _ref("Message")}}}


def _operation(handler: Any, method: str, path: str) -> dict[str, Any]:
    level = access_of(handler)
    doc = _DOCS.get((method, path), Doc())
    summary = " ".join((handler.__doc__ or "").strip().split("\n\n")[0].split())
    responses: dict[str, Any] = {
        doc.status: {"description": "Success", "content": {_JSON: {"schema": doc.answer}}},
    }
    errors = set(doc.errors)
    operation: dict[str, Any] = {"summary": summary, "responses": responses}
    if isinstance(level, Role):
        operation["description"] = f"Needs a token of a user with role {level} or above."
        operation["x-plantpulse-role"] = str(level)
        errors |= {"401", "429"} | ({"403"} if level is not Role.VIEWER else set())
    else:
        operation["security"] = []
    for code in sorted(errors):
        responses[code] = _error(code)
    parameters = [
        {"name": name, "in": "path", "required": True,
         "description": _PATH_PARAMETERS[name], "schema": {"type": "string"}}
        for name in _PATH_PARAMETER.findall(path)
    ]
    parameters.extend(
        {"name": name, "in": "query", "required": name in doc.required_query,
         "description": description, "schema": {"type": "string"}}
        for name, description in doc.query
    )
    if parameters:
        operation["parameters"] = parameters
    if doc.body is not None:
        operation["requestBody"] = {"required": True, "content": {_JSON: {"schema": doc.body}}}
    return operation


def openapi_document(app: web.Application) -> dict[str, Any]:
    """The document for every API route of `app`."""
    paths: dict[str, dict[str, Any]] = {}
    for route in app.router.routes():
        path = route.resource.canonical if route.resource is not None else ""
        if not is_api_path(path) or route.method == hdrs.METH_HEAD or route.handler is dispatch:
            continue
        # A route taking any method is a webhook: documented with the methods webhooks take.
        methods = WEBHOOK_METHODS if route.method == hdrs.METH_ANY else (route.method,)
        for method in methods:
            paths.setdefault(path, {})[method.lower()] = _operation(route.handler, method, path)
    for view in api_views(app[HTTP_KEY].hub):
        paths.setdefault(view.path, {})[view.method.lower()] = {
            "summary": (view.handler.__doc__ or "").strip().splitlines()[0]
            if view.handler.__doc__ else view.path,
            "x-required-role": str(view.role),
            "responses": {"200": {"description": "OK"}},
        }
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
        "paths": paths,
    }
