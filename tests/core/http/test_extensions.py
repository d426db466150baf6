"""REST views added by integrations after the server started: routing, roles, OpenAPI."""

from __future__ import annotations

from aiohttp import web

from plantpulse.core.auth.const import Role
from plantpulse.core.http.extensions import async_register_api_view
from plantpulse.core.http.view import json_response
from tests.core.http.conftest import Api


async def test_integration_views_route_check_roles_and_are_documented(api: Api) -> None:
    async def get_trace(request: web.Request, item_id: str, run_id: str) -> web.Response:
        """One run's trace."""
        return json_response({"item": item_id, "run": run_id})

    async def purge(request: web.Request) -> web.Response:
        """Delete old traces."""
        return json_response({"purged": True})

    hub = api.hub
    async_register_api_view(hub, "GET", "/api/traces/{item_id}/{run_id}", get_trace)
    remove = async_register_api_view(hub, "POST", "/api/traces/purge", purge, Role.ADMIN)

    admin = await api.token_for(Role.ADMIN)
    status, body = await api.request("GET", "/api/traces/line_load/01ABC", admin)
    assert (status, body) == (200, {"item": "line_load", "run": "01ABC"})
    status, _ = await api.request("GET", "/api/traces/line_load/01ABC")
    assert status == 401
    status, _ = await api.request("DELETE", "/api/traces/line_load/01ABC", admin)
    assert status == 405
    status, body = await api.request("GET", "/api/traces/a/b/c", admin)
    assert (status, body) == (404, {"message": "Not found."})
    viewer = await api.token_for(Role.VIEWER)
    status, body = await api.request("POST", "/api/traces/purge", viewer)
    assert status == 403 and "needs admin" in body["message"]
    assert (await api.request("POST", "/api/traces/purge", admin))[0] == 200

    status, document = await api.request("GET", "/api/openapi.json", admin)
    assert document["paths"]["/api/traces/{item_id}/{run_id}"]["get"]["summary"] == (
        "One run's trace.")
    remove()
    assert (await api.request("POST", "/api/traces/purge", admin))[0] == 404
