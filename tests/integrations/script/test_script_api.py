"""Scripts over the API: calls with responses over REST, reload for admins only, and traces
under domain `script` over REST and WebSocket."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from plantpulse.core.auth.const import Role
from plantpulse.core.clock import ManualClock
from plantpulse.core.const import VERSION
from plantpulse.core.events import Event
from tests.conftest import HubFactory, free_port
from tests.core.http.conftest import Api, http_yaml
from tests.integrations.script.conftest import START

SCRIPTS = """
script:
  line_report:
    fields:
      line: {required: true, selector: {text: {}}}
    sequence:
      - delay: 5
      - variables:
          report: {line: "{{ line }}", ok: true}
      - stop: reported
        response_variable: report
  broken:
    sequence:
      - action: notify.nobody
"""


@pytest.fixture
async def api(hub_factory: HubFactory) -> AsyncIterator[Callable[[], Awaitable[Api]]]:
    """`await api()`: a started hub on a ManualClock serving HTTP, with SCRIPTS."""
    sessions: list[aiohttp.ClientSession] = []

    async def make() -> Api:
        port = free_port()
        hub = await hub_factory(http_yaml(port, SCRIPTS), clock=ManualClock(START))
        assert "http" in hub.components, hub.notifications.all()
        session = aiohttp.ClientSession()
        sessions.append(session)
        return Api(hub, f"http://127.0.0.1:{port}", session)

    yield make
    for session in sessions:
        await session.close()


async def ws_call(api: Api, token: str, *messages: dict[str, Any]) -> list[dict[str, Any]]:
    """Send each message over a logged-in WebSocket and return each result."""
    results = []
    async with api.session.ws_connect(api.url("/api/websocket")) as ws:
        assert (await ws.receive_json())["type"] == "auth_required"
        await ws.send_json({"type": "auth", "access_token": token})
        assert await ws.receive_json() == {"type": "auth_ok", "version": VERSION}
        for msg_id, message in enumerate(messages, start=1):
            await ws.send_json({"id": msg_id, **message})
            results.append(await ws.receive_json(timeout=5))
    return results


async def test_rest_call_returns_the_response_and_traces_show_the_run(
    api: Callable[[], Awaitable[Api]],
) -> None:
    site = await api()
    clock = site.hub.clock
    assert isinstance(clock, ManualClock)
    token = await site.token_for(Role.OPERATOR)
    running = asyncio.Event()

    def watch(event: Event) -> None:
        new_state = event.data["new_state"]
        if event.data["entity_id"] == "script.line_report" and new_state.state == "on":
            running.set()

    site.hub.bus.async_listen("state_changed", watch)
    call = asyncio.ensure_future(site.request(
        "POST", "/api/services/script/line_report?return_response", token,
        json={"line": "anodizing"}))
    await asyncio.wait_for(running.wait(), timeout=5)  # the request travels over real HTTP
    await clock.advance(5)
    status, body = await call
    assert status == 200, body
    assert body["service_response"] == {"line": "anodizing", "ok": True}

    status, body = await site.request("POST", "/api/services/script/line_report", token,
                                      json={})
    assert status == 400
    assert "required field 'line' is missing" in body["message"]
    status, body = await site.request("POST", "/api/services/script/broken", token, json={})
    assert status == 400
    assert "script.broken failed" in body["message"]

    status, runs = await site.request("GET", "/api/traces/script/line_report", token)
    assert status == 200
    assert [run["script_execution"] for run in runs] == ["finished"]
    status, trace = await site.request(
        "GET", f"/api/traces/script/line_report/{runs[0]['run_id']}", token)
    assert trace["domain"] == "script"
    assert trace["trace"]["start"][0]["changed_variables"]["line"] == "anodizing"
    assert list(trace["trace"]) == ["start", "sequence/0", "sequence/1", "sequence/2"]
    assert trace["trace"]["sequence/1"][0]["changed_variables"] == {
        "report": {"line": "anodizing", "ok": True}}
    assert trace["config"]["fields"]["line"]["required"] is True

    listed, got = await ws_call(
        site, token, {"type": "trace/list", "domain": "script"},
        {"type": "trace/get", "domain": "script", "item_id": "broken",
         "run_id": runs[0]["run_id"]})
    summaries = {(item["item_id"], item["script_execution"]) for item in listed["result"]}
    assert summaries == {("line_report", "finished"), ("broken", "error")}
    assert not got["success"]  # that run id belongs to line_report
    broken_run = next(item for item in listed["result"] if item["item_id"] == "broken")
    (got,) = await ws_call(site, token, {"type": "trace/get", "domain": "script",
                                         "item_id": "broken",
                                         "run_id": broken_run["run_id"]})
    assert "notify.nobody" in got["result"]["trace"]["sequence/0"][0]["error"]


async def test_reload_is_for_admins_only(api: Callable[[], Awaitable[Api]]) -> None:
    site = await api()

    operator = await site.token_for(Role.OPERATOR)
    status, body = await site.request("POST", "/api/services/script/reload", operator, json={})
    assert status == 403, body
    admin = await site.token_for(Role.ADMIN)
    status, body = await site.request("POST", "/api/services/script/reload", admin, json={})
    assert status == 200, body
