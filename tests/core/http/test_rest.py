"""The REST API as a client sees it: Home Assistant's shapes, errors, roles, static files."""

from __future__ import annotations

import asyncio
import re

import voluptuous as vol

from plantpulse.core.auth.const import Role
from plantpulse.core.config.site import UNIT_SYSTEMS
from plantpulse.core.const import VERSION
from plantpulse.core.http.payloads import UNITS
from plantpulse.core.services import ServiceCall, SupportsResponse
from tests.core.http.conftest import Api

# Every REST route a token is needed for, with a method.
PROTECTED = [
    ("GET", "/api/"), ("GET", "/api/config"), ("GET", "/api/config/issues"),
    ("GET", "/api/notifications"), ("GET", "/api/openapi.json"), ("GET", "/api/states"),
    ("GET", "/api/states/sensor.a"), ("POST", "/api/states/sensor.a"),
    ("DELETE", "/api/states/sensor.a"), ("GET", "/api/services"),
    ("POST", "/api/services/light/turn_on"), ("GET", "/api/events"),
    ("POST", "/api/events/my_event"), ("GET", "/api/history/period"),
    ("GET", "/api/history/period/2024-01-01T00:00:00"), ("GET", "/api/statistics"),
    ("GET", "/api/auth/current_user"), ("POST", "/api/auth/password"),
    ("GET", "/api/auth/users"), ("POST", "/api/auth/users"),
    ("PATCH", "/api/auth/users/x"), ("DELETE", "/api/auth/users/x"),
    ("GET", "/api/auth/tokens"), ("POST", "/api/auth/tokens"),
    ("DELETE", "/api/auth/tokens/x"), ("GET", "/api/audit"),
]


async def test_every_api_endpoint_needs_a_token(api: Api) -> None:
    for method, path in PROTECTED:
        status, body = await api.request(method, path)
        assert status == 401, (method, path, status)
        assert body == {"message": "Log in first: send the header 'Authorization: Bearer "
                                   "<access token>'."}
    status, _body = await api.request("GET", "/api/states", token="not-a-token")
    assert status == 401


async def test_api_status_and_config(api: Api) -> None:
    token = await api.token_for(Role.VIEWER)
    assert await api.request("GET", "/api/", token) == (200, {"message": "API running."})
    status, config = await api.request("GET", "/api/config", token)
    assert status == 200
    assert config["version"] == VERSION
    assert config["state"] == "RUNNING"
    assert "http" in config["components"]
    assert config["time_zone"] == "Asia/Shanghai"
    assert (config["currency"], config["language"]) == ("CNY", "zh-CN")
    assert config["unit_system"]["temperature"] == "°C"
    assert config["config_dir"] == str(api.hub.config_dir)


async def test_states_read_write_and_remove(api: Api) -> None:
    viewer = await api.token_for(Role.VIEWER)
    admin = await api.token_for(Role.ADMIN)
    api.hub.states.async_set("sensor.line_power", "12.5", {"unit_of_measurement": "kW"})

    status, states = await api.request("GET", "/api/states", viewer)
    assert status == 200 and [s["entity_id"] for s in states] == ["sensor.line_power"]
    status, state = await api.request("GET", "/api/states/sensor.line_power", viewer)
    assert state["state"] == "12.5" and state["attributes"] == {"unit_of_measurement": "kW"}
    assert set(state) >= {"entity_id", "state", "attributes", "last_changed", "last_updated",
                          "context"}
    assert await api.request("GET", "/api/states/sensor.nothing", viewer) == (
        404, {"message": "Entity not found."})

    status, created = await api.request("POST", "/api/states/sensor.new", admin,
                                        json={"state": "1", "attributes": {"x": 2}})
    assert status == 201 and created["state"] == "1" and created["attributes"] == {"x": 2}
    assert created["context"]["user_id"] is not None
    status, updated = await api.request("POST", "/api/states/sensor.new", admin,
                                        json={"state": "2"})
    assert status == 200 and updated["state"] == "2"
    assert api.hub.states.get("sensor.new").state == "2"

    assert (await api.request("POST", "/api/states/sensor.new", admin, json={}))[1] == {
        "message": "No state specified."}
    status, body = await api.request("POST", "/api/states/sensor.new", admin,
                                     json={"state": {"nested": 1}})
    assert status == 400 and "string or a number" in body["message"]
    status, body = await api.request("POST", "/api/states/Not An Id", admin, json={"state": "1"})
    assert status == 400 and "Invalid entity id" in body["message"]
    status, _body = await api.request("POST", "/api/states/sensor.new", viewer,
                                      json={"state": "3"})
    assert status == 403

    assert (await api.request("DELETE", "/api/states/sensor.new", admin))[0] == 200
    assert api.hub.states.get("sensor.new") is None
    assert (await api.request("DELETE", "/api/states/sensor.new", admin))[0] == 404


async def test_bad_json_and_oversized_bodies(api: Api) -> None:
    admin = await api.token_for(Role.ADMIN)
    status, body = await api.request(
        "POST", "/api/states/sensor.a", admin, data=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    assert (status, body) == (400, {"message": "Invalid JSON."})
    status, body = await api.request("POST", "/api/states/sensor.a", admin, json=[1, 2])
    assert (status, body) == (400, {"message": "The request body must be a JSON object."})
    status, body = await api.request("POST", "/api/states/sensor.a", admin,
                                     data=b"x" * (1024 * 1024 + 1))
    assert status == 413
    assert body == {"message": "The request body is larger than the limit of 1024 KiB."}
    assert api.hub.states.get("sensor.a") is None


async def test_services_list_and_calls(api: Api) -> None:
    hub = api.hub
    operator = await api.token_for(Role.OPERATOR)
    viewer = await api.token_for(Role.VIEWER)

    def turn_on(call: ServiceCall) -> None:
        for entity_id in call.data["entity_id"]:
            hub.states.async_set(entity_id, "on", context=call.context)

    def report(call: ServiceCall) -> dict:
        return {"total": call.data["a"] + call.data["b"]}

    hub.services.async_register("pump", "turn_on", turn_on,
                                vol.Schema({vol.Required("entity_id"): [str]}))
    hub.services.async_register("energy", "report", report,
                                vol.Schema({vol.Required("a"): int, vol.Required("b"): int}),
                                supports_response=SupportsResponse.ONLY)

    status, services = await api.request("GET", "/api/services", viewer)
    assert status == 200
    by_domain = {entry["domain"]: entry["services"] for entry in services}
    assert "turn_on" in by_domain["pump"] and "create" in by_domain["persistent_notification"]

    status, changed = await api.request("POST", "/api/services/pump/turn_on", operator,
                                        json={"entity_id": ["switch.p1", "switch.p2"]})
    assert status == 200
    assert [(s["entity_id"], s["state"]) for s in changed] == [("switch.p1", "on"),
                                                               ("switch.p2", "on")]
    _status, me = await api.request("GET", "/api/auth/current_user", operator)
    assert changed[0]["context"]["user_id"] == me["id"]

    status, body = await api.request("POST", "/api/services/energy/report?return_response",
                                     operator, json={"a": 2, "b": 3})
    assert (status, body) == (200, {"changed_states": [], "service_response": {"total": 5}})
    status, body = await api.request("POST", "/api/services/pump/turn_on?return_response",
                                     operator, json={"entity_id": ["switch.p1"]})
    assert status == 400 and "does not return a response" in body["message"]
    status, body = await api.request("POST", "/api/services/energy/report", operator,
                                     json={"a": 2, "b": 3})
    assert status == 400 and "only returns a response" in body["message"]

    assert await api.request("POST", "/api/services/pump/explode", operator, json={}) == (
        400, {"message": "Service pump.explode not found."})
    status, body = await api.request("POST", "/api/services/energy/report?return_response",
                                     operator, json={"a": "two", "b": 3})
    assert status == 400 and body["message"].startswith("Invalid data for energy.report:")
    status, body = await api.request("POST", "/api/services/pump/turn_on", viewer,
                                     json={"entity_id": ["switch.p1"]})
    assert status == 403 and "needs operator" in body["message"]


async def test_admin_only_services_answer_403_to_others(api: Api) -> None:
    calls = []
    api.hub.services.async_register("maintenance", "wipe_logs", calls.append, admin_only=True)
    operator = await api.token_for(Role.OPERATOR)
    admin = await api.token_for(Role.ADMIN)
    status, body = await api.request("POST", "/api/services/maintenance/wipe_logs", operator,
                                     json={})
    assert (status, body) == (403, {"message": (
        "Service maintenance.wipe_logs is for admins only, and your role is operator: ask an "
        "admin to call it or to make you an admin.")})
    assert calls == []
    status, _body = await api.request("POST", "/api/services/maintenance/wipe_logs", admin,
                                      json={})
    assert status == 200 and len(calls) == 1


async def test_a_failing_service_answers_500_without_a_traceback(api: Api) -> None:
    operator = await api.token_for(Role.OPERATOR)

    def broken(_call: ServiceCall) -> None:
        raise ZeroDivisionError("secret internals")

    api.hub.services.async_register("pump", "broken", broken)
    status, body = await api.request("POST", "/api/services/pump/broken", operator)
    assert status == 500
    assert body == {"message": "Internal error while handling the request; the hub log has "
                               "the details."}


async def test_a_slow_service_is_answered_while_it_keeps_running(api: Api, monkeypatch) -> None:
    from plantpulse.core.http import rest

    monkeypatch.setattr(rest, "SERVICE_WAIT_SECONDS", 0.2)
    operator = await api.token_for(Role.OPERATOR)
    finished = asyncio.Event()

    async def slow(_call: ServiceCall) -> None:
        api.hub.states.async_set("sensor.step", "1")
        await asyncio.sleep(0.5)
        api.hub.states.async_set("sensor.step", "2")
        finished.set()

    api.hub.services.async_register("script", "slow", slow)
    status, changed = await api.request("POST", "/api/services/script/slow", operator)
    assert status == 200 and [s["state"] for s in changed] == ["1"]
    await asyncio.wait_for(finished.wait(), 2)
    assert api.hub.states.get("sensor.step").state == "2"


async def test_events_list_and_fire(api: Api) -> None:
    operator = await api.token_for(Role.OPERATOR)
    viewer = await api.token_for(Role.VIEWER)
    received = []
    api.hub.bus.async_listen("shift_change", received.append)

    status, listeners = await api.request("GET", "/api/events", viewer)
    assert status == 200 and {"event": "shift_change", "listener_count": 1} in listeners
    assert await api.request("POST", "/api/events/shift_change", operator,
                             json={"shift": "B"}) == (200, {"message": "Event shift_change fired."})
    assert received[0].data == {"shift": "B"} and received[0].origin == "REMOTE"
    assert received[0].context.user_id is not None
    for hub_event in ("state_changed", "call_service", "entity_registry_updated",
                      "persistent_notifications_updated", "component_loaded",
                      "service_registered", "service_removed", "plantpulse_started",
                      "plantpulse_anything", "device_registry_updated"):
        status, body = await api.request("POST", f"/api/events/{hub_event}", operator, json={})
        assert (status, body) == (403, {"message": (
            f"Event type {hub_event} is fired only by the hub itself; fire an event type of "
            "your own instead.")})
    status, _body = await api.request("POST", "/api/events/shift_change", viewer, json={})
    assert status == 403
    status, body = await api.request("POST", "/api/events/shift_change", operator, json=[1])
    assert status == 400


async def test_notifications_and_config_issues(api_factory) -> None:
    api = await api_factory("mystery_integration:\n")
    viewer = await api.token_for(Role.VIEWER)
    status, issues = await api.request("GET", "/api/config/issues", viewer)
    assert status == 200
    assert issues[0]["domain"] == "mystery_integration"
    assert issues[0]["file"] == "configuration.yaml" and issues[0]["line"] == 4
    assert issues[0]["text"].startswith("Invalid config for 'mystery_integration'")
    status, notifications = await api.request("GET", "/api/notifications", viewer)
    assert status == 200
    config_note = next(n for n in notifications if n["notification_id"] == "invalid_config")
    assert "mystery_integration" in config_note["message"]


async def test_openapi_document_describes_every_route(api: Api) -> None:
    token = await api.token_for(Role.VIEWER)
    status, document = await api.request("GET", "/api/openapi.json", token)
    assert status == 200 and document["openapi"].startswith("3.")
    routes = {
        (resource.canonical, route.method.lower())
        for resource in api.hub.data["http"].app.router.resources()
        for route in resource
        if resource.canonical.startswith(("/api", "/auth")) and route.method not in ("HEAD",)
    }
    documented = {(path, method) for path, item in document["paths"].items() for method in item}
    missing = {
        (path, method) for path, method in routes
        if (path, method) not in documented and method != "*"
    }
    assert not missing
    assert set(document["paths"]["/api/webhook/{webhook_id}"]) == {"post", "put"}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            assert operation["summary"], (method, path)
            names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "path"]
            assert names == re.findall(r"\{(\w+)\}", path), (method, path)


async def test_openapi_document_says_who_may_call_what_as_the_server_enforces(api: Api) -> None:
    viewer = await api.token_for(Role.VIEWER)
    operator = await api.token_for(Role.OPERATOR)
    _status, document = await api.request("GET", "/api/openapi.json", viewer)
    below = {"operator": viewer, "admin": operator}
    checked = set()
    for path, item in document["paths"].items():
        concrete = re.sub(r"\{\w+\}", "x", path)
        for method, operation in item.items():
            role = operation.get("x-plantpulse-role")
            if operation.get("security") == []:
                assert role is None
                status, _body = await api.request(method.upper(), concrete)
                assert status != 401, (method, path)
            elif role in below:
                assert f"role {role} or above" in operation["description"]
                status, _body = await api.request(method.upper(), concrete, below[role],
                                                  json={})
                assert status == 403, (method, path)
                assert "403" in operation["responses"]
                checked.add((method, path))
            else:
                assert role == "viewer" and "401" in operation["responses"]
    assert {("post", "/api/services/{domain}/{service}"), ("post", "/api/states/{entity_id}"),
            ("get", "/api/audit")} <= checked


async def test_config_units_follow_the_sites_unit_system(api_factory) -> None:
    assert set(UNITS) == set(UNIT_SYSTEMS)
    api = await api_factory("plantpulse:\n  unit_system: us_customary\n")
    status, config = await api.request("GET", "/api/config", await api.token_for(Role.VIEWER))
    assert status == 200
    assert config["unit_system"] == {"name": "us_customary", **UNITS["us_customary"]}
    assert config["unit_system"]["temperature"] == "°F"


async def test_frontend_files_need_no_token_and_are_revalidated(api: Api) -> None:
    async with api.session.get(api.url("/")) as response:
        assert response.status == 200
        assert response.headers["Cache-Control"] == "no-cache"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert "<html" in (await response.text()).lower()
    async with api.session.get(api.url("/app.js")) as response:
        assert response.status == 200
        assert response.headers["Cache-Control"] == "no-cache"
        modified = response.headers["Last-Modified"]
    async with api.session.get(api.url("/app.js"),
                               headers={"If-Modified-Since": modified}) as response:
        assert response.status == 304
    async with api.session.get(api.url("/nothing-here.css")) as response:
        assert response.status == 404
    async with api.session.get(api.url("/%2e%2e/pyproject.toml")) as response:
        assert response.status == 404
    async with api.session.get(api.url("/static/../../pyproject.toml")) as response:
        assert response.status == 404
    status, body = await api.request("GET", "/api/no/such/thing",
                                     await api.token_for(Role.VIEWER))
    assert (status, body) == (404, {"message": "Not found."})


async def test_method_not_allowed_is_json(api: Api) -> None:
    token = await api.token_for(Role.VIEWER)
    status, body = await api.request("PUT", "/api/states", token)
    assert status == 405 and re.match(r"Method PUT is not allowed", body["message"])
