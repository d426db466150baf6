"""Traces of automation runs, read through the real HTTP server: WebSocket `trace/list` and
`trace/get`, REST `/api/traces/...`; how many are kept, and kept over a restart."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest

from plantpulse.core.auth.const import Role
from plantpulse.core.clock import ManualClock
from plantpulse.core.exceptions import PlantPulseError
from plantpulse.core.services import ServiceCall
from tests.conftest import HubFactory, free_port
from tests.core.http.conftest import Api, http_yaml
from tests.core.http.test_websocket import Client, connect

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

AUTOMATIONS = """
automation:
  - id: load_watch
    alias: Line load high
    trace:
      stored_traces: 3
    triggers:
      - trigger: numeric_state
        entity_id: sensor.line_load
        above: 40
    conditions:
      - condition: template
        value_template: "{{ trigger.to_state.state | float < 100 }}"
    variables:
      limit: 40
    actions:
      - variables:
          excess: "{{ trigger.to_state.state | float - limit }}"
      - if: "{{ excess > 5 }}"
        then:
          - action: test.report
            data: {excess: "{{ excess }}"}
      - delay: 10
      - event: load_handled
  - id: default_kept
    triggers: [{trigger: event, event_type: tick}]
    actions: [{event: tock}]
"""

ApiHub = Callable[..., Awaitable[Api]]


@pytest.fixture
async def api_hub(hub_factory: HubFactory) -> AsyncIterator[ApiHub]:
    """`await api_hub(config_dir=None)`: a hub with http and the automations above, started on
    a ManualClock, with a `test.report` service that fails for an excess above 50."""
    sessions: list[aiohttp.ClientSession] = []

    async def make(config_dir: Path | None = None) -> Api:
        port = free_port()
        hub = await hub_factory(http_yaml(port, AUTOMATIONS), clock=ManualClock(START),
                                config_dir=config_dir, start=False)

        def report(call: ServiceCall) -> None:
            if call.data["excess"] > 50:
                raise PlantPulseError("the report line is down")

        hub.services.async_register("test", "report", report)
        hub.states.async_set("sensor.line_load", "30")
        await hub.async_start()
        session = aiohttp.ClientSession()
        sessions.append(session)
        return Api(hub, f"http://127.0.0.1:{port}", session)

    yield make
    for session in sessions:
        await session.close()


async def load(api: Api, *values: str, wait: float = 10) -> None:
    """Drive the load through `values`, letting each run's delay pass."""
    for value in values:
        api.hub.states.async_set("sensor.line_load", value)
        await api.hub.async_block_till_done()
        await api.hub.clock.advance(wait)  # type: ignore[attr-defined]


async def operator(api: Api) -> Client:
    return await connect(api, await api.token_for(Role.OPERATOR))


async def test_trace_list_and_get_over_websocket(api_hub: ApiHub) -> None:
    api = await api_hub()
    await load(api, "47")
    client = await operator(api)

    listed = await client.command("trace/list", domain="automation", item_id="load_watch")
    assert listed["success"], listed
    [summary] = listed["result"]
    assert summary["domain"] == "automation" and summary["item_id"] == "load_watch"
    assert summary["state"] == "stopped"
    assert summary["script_execution"] == "finished"
    assert summary["trigger"] == "numeric state of sensor.line_load"
    assert summary["last_step"] == "action/3"
    assert summary["timestamp"] == {"start": "2026-03-02T09:00:00+00:00",
                                    "finish": "2026-03-02T09:00:10+00:00"}

    got = await client.command("trace/get", domain="automation", item_id="load_watch",
                               run_id=summary["run_id"])
    trace = got["result"]
    steps = trace["trace"]
    # Paths as Home Assistant writes them.
    assert list(steps) == ["trigger/0", "condition/0", "action/0", "action/1",
                           "action/1/if/condition/0", "action/1/then/0", "action/2", "action/3"]
    trigger = steps["trigger/0"][0]["changed_variables"]["trigger"]
    assert trigger["entity_id"] == "sensor.line_load"
    assert trigger["to_state"]["state"] == "47"
    assert steps["trigger/0"][0]["changed_variables"]["limit"] == 40
    assert steps["condition/0"][0]["result"] == {"result": True}
    assert steps["action/0"][0]["changed_variables"] == {"excess": 7.0}
    assert steps["action/1/then/0"][0]["result"]["params"] == {
        "domain": "test", "service": "report", "service_data": {"excess": 7.0}}
    assert steps["action/2"][0]["result"] == {"delay": 10.0, "done": True}
    assert steps["action/3"][0]["timestamp"] == "2026-03-02T09:00:10+00:00"
    assert trace["config"]["id"] == "load_watch"
    assert trace["context"]["id"]
    await client.ws.close()


async def test_a_failed_call_and_failed_conditions_in_traces(api_hub: ApiHub) -> None:
    api = await api_hub()
    await load(api, "95", "30", "120")
    client = await operator(api)

    listed = (await client.command("trace/list", domain="automation",
                                   item_id="load_watch"))["result"]
    assert [item["script_execution"] for item in listed] == ["error", "failed_conditions"]
    assert listed[0]["error"] == "the report line is down"
    failed = (await client.command("trace/get", domain="automation", item_id="load_watch",
                                   run_id=listed[0]["run_id"]))["result"]
    assert failed["trace"]["action/1/then/0"][0]["error"] == "the report line is down"
    assert "action/2" not in failed["trace"]
    skipped = (await client.command("trace/get", domain="automation", item_id="load_watch",
                                    run_id=listed[1]["run_id"]))["result"]
    assert skipped["trace"]["condition/0"][0]["result"] == {"result": False}
    await client.ws.close()


async def test_a_running_and_a_dropped_run(api_hub: ApiHub) -> None:
    api = await api_hub()
    await load(api, "47", wait=5)
    await load(api, "30", "48", wait=0)
    client = await operator(api)

    listed = (await client.command("trace/list", domain="automation"))["result"]

    assert [(item["state"], item["script_execution"]) for item in listed] == [
        ("running", None), ("stopped", "failed_single")]
    await client.ws.close()


async def test_only_the_last_runs_are_kept(api_hub: ApiHub) -> None:
    api = await api_hub()
    await load(api, "41", "30", "42", "30", "43", "30", "44")
    for _ in range(7):
        api.hub.bus.async_fire("tick", {})
    await api.hub.async_block_till_done()
    client = await operator(api)

    watched = (await client.command("trace/list", domain="automation",
                                    item_id="load_watch"))["result"]
    ticks = (await client.command("trace/list", domain="automation",
                                  item_id="default_kept"))["result"]
    everything = (await client.command("trace/list", domain="automation"))["result"]

    assert len(watched) == 3  # trace: stored_traces: 3
    assert len(ticks) == 5  # Home Assistant's default
    assert len(everything) == 8
    first_kept = (await client.command("trace/get", domain="automation", item_id="load_watch",
                                       run_id=watched[0]["run_id"]))["result"]
    assert first_kept["trace"]["trigger/0"][0]["changed_variables"]["trigger"]["to_state"][
        "state"] == "42"
    await client.ws.close()


async def test_unknown_traces_and_bad_requests(api_hub: ApiHub) -> None:
    api = await api_hub()
    client = await operator(api)

    assert (await client.command("trace/list", domain="automation",
                                 item_id="nothing"))["result"] == []
    missing = await client.command("trace/get", domain="automation", item_id="load_watch",
                                   run_id="nope")
    assert missing["success"] is False
    assert missing["error"]["code"] == "not_found"
    invalid = await client.command("trace/list")
    assert invalid["success"] is False
    await client.ws.close()


async def test_rest_traces_for_operators_only(api_hub: ApiHub) -> None:
    api = await api_hub()
    await load(api, "47")
    token = await api.token_for(Role.OPERATOR)

    status, every = await api.request("GET", "/api/traces/automation", token)
    assert status == 200 and [item["item_id"] for item in every] == ["load_watch"]
    status, listed = await api.request("GET", "/api/traces/automation/load_watch", token)
    assert status == 200 and listed == every
    status, trace = await api.request(
        "GET", f"/api/traces/automation/load_watch/{listed[0]['run_id']}", token)
    assert status == 200
    assert trace["trace"]["action/0"][0]["changed_variables"] == {"excess": 7.0}
    status, _ = await api.request("GET", "/api/traces/automation/load_watch/nope", token)
    assert status == 404

    status, _ = await api.request("GET", "/api/traces/automation")
    assert status == 401
    status, _ = await api.request("GET", "/api/traces/automation",
                                  await api.token_for(Role.VIEWER))
    assert status == 403


async def test_traces_are_kept_over_a_restart(api_hub: ApiHub) -> None:
    api = await api_hub()
    await load(api, "47")
    token = await api.token_for(Role.OPERATOR)
    _status, before = await api.request("GET", "/api/traces/automation/load_watch", token)
    await api.hub.async_stop()

    again = await api_hub(config_dir=api.hub.config_dir)
    token = await again.token_for(Role.OPERATOR)
    status, after = await again.request("GET", "/api/traces/automation/load_watch", token)
    assert status == 200 and after == before
    status, trace = await again.request(
        "GET", f"/api/traces/automation/load_watch/{before[0]['run_id']}", token)
    assert status == 200
    assert trace["trace"]["trigger/0"][0]["changed_variables"]["trigger"]["to_state"][
        "state"] == "47"
    # New runs are added after the restored ones.
    await load(again, "30", "48")
    _status, latest = await again.request("GET", "/api/traces/automation/load_watch", token)
    assert [item["run_id"] for item in latest][:1] == [before[0]["run_id"]]
    assert len(latest) == 2
