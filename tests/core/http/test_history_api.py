"""History and statistics over REST and WebSocket, end to end through the real recorder."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from plantpulse.core import dt
from plantpulse.core.auth.const import Role
from plantpulse.core.recorder import get_recorder
from tests.core.http.conftest import Api
from tests.core.http.test_websocket import connect

POWER = {"state_class": "measurement", "unit_of_measurement": "kW"}


def two_hours_ago() -> datetime:
    """A whole hour at least two hours back, so every reading below lies in the past."""
    return dt.utcnow().replace(minute=0, second=0, microsecond=0) - timedelta(hours=2)


async def recorded_api(api_factory) -> tuple[Api, datetime]:
    """A hub with recorder and http; sensor.p read every 5 minutes for two hours from `base`."""
    api = await api_factory("recorder:\n")
    base = two_hours_ago()
    for index in range(24):
        api.hub.states.async_set("sensor.p", str(10 + index), POWER,
                                 measured_at=base + timedelta(minutes=5 * index + 1))
    api.hub.states.async_set("switch.pump", "on", measured_at=base + timedelta(minutes=30))
    await get_recorder(api.hub).async_flush()
    return api, base


def iso(moment: datetime) -> str:
    return moment.isoformat()


async def test_history_lists_one_list_per_entity_from_the_start_state(api_factory) -> None:
    api, base = await recorded_api(api_factory)
    token = await api.token_for(Role.VIEWER)
    start = base + timedelta(minutes=32)
    end = base + timedelta(minutes=47)
    naive_utc = start.replace(tzinfo=None).isoformat()
    status, history = await api.request(
        "GET", f"/api/history/period/{naive_utc}", token,
        params={"filter_entity_id": "switch.pump,sensor.p", "end_time": iso(end)},
    )
    assert status == 200
    assert [rows[0]["entity_id"] for rows in history] == ["switch.pump", "sensor.p"]
    pump, power = history
    assert [row["state"] for row in pump] == ["on"]
    # The state in effect at the start (measured at +31 min), then the readings in range.
    assert [row["state"] for row in power] == ["16", "17", "18", "19"]
    assert set(power[0]) >= {"entity_id", "state", "attributes", "last_changed", "last_updated"}
    assert power[0]["attributes"] == POWER
    # The same moment written with an offset gives the same answer.
    with_offset = start.astimezone(UTC).isoformat()
    again = await api.request("GET", f"/api/history/period/{with_offset}", token,
                              params={"filter_entity_id": "switch.pump,sensor.p",
                                      "end_time": iso(end)})
    assert again == (200, history)

    status, minimal = await api.request(
        "GET", f"/api/history/period/{naive_utc}?minimal_response&no_attributes", token,
        params={"filter_entity_id": "sensor.p", "end_time": iso(end)},
    )
    assert status == 200
    assert minimal[0][0]["attributes"] == {}
    assert set(minimal[0][1]) == {"state", "last_changed"}

    status, default_start = await api.request("GET", "/api/history/period", token,
                                              params={"filter_entity_id": "sensor.p"})
    assert status == 200 and len(default_start[0]) == 24


async def test_history_bad_input(api_factory) -> None:
    api, base = await recorded_api(api_factory)
    token = await api.token_for(Role.VIEWER)
    status, body = await api.request("GET", "/api/history/period/yesterday-ish", token)
    assert status == 400
    assert body["message"].startswith("Invalid start time 'yesterday-ish': use ISO 8601")
    status, body = await api.request("GET", f"/api/history/period/{iso(base)}", token,
                                     params={"end_time": "soon"})
    assert status == 400 and "Invalid end_time 'soon'" in body["message"]
    status, body = await api.request("GET", f"/api/history/period/{iso(base)}", token,
                                     params={"end_time": iso(base - timedelta(hours=1))})
    assert status == 400 and "before the start time" in body["message"]
    status, body = await api.request("GET", f"/api/history/period/{iso(base)}", token,
                                     params={"filter_entity_id": "Not An Entity"})
    assert status == 400 and body["message"].startswith("Invalid filter_entity_id")
    future = iso(dt.utcnow() + timedelta(days=1))
    assert await api.request("GET", f"/api/history/period/{future}", token) == (200, [])


async def test_statistics_over_rest(api_factory) -> None:
    api, base = await recorded_api(api_factory)
    token = await api.token_for(Role.VIEWER)
    start = iso(base)
    expected = await get_recorder(api.hub).async_get_statistics(["sensor.p"], "hour", base)
    status, body = await api.request("GET", "/api/statistics", token,
                                     params={"statistic_id": "sensor.p", "period": "hour",
                                             "start": start})
    assert status == 200 and body == expected
    first = body["sensor.p"][0]
    assert first["start"] == iso(base.astimezone(api.hub.site.tz))
    assert first["min"] == 10.0 and first["max"] >= 21.0
    assert first["sum"] is None

    status, limited = await api.request("GET", "/api/statistics", token, params={
        "statistic_id": "sensor.p", "period": "5minute", "start": start, "types": "max"})
    assert status == 200 and set(limited["sensor.p"][0]) == {"start", "end", "max"}

    status, body = await api.request("GET", "/api/statistics", token, params={"period": "hour"})
    assert status == 400 and body["message"].startswith("statistic_id is missing")
    status, body = await api.request("GET", "/api/statistics", token,
                                     params={"statistic_id": "sensor.p", "period": "week"})
    assert status == 400
    assert body["message"] == "Invalid period 'week': use one of 5minute, hour, day, month."
    status, body = await api.request("GET", "/api/statistics", token,
                                     params={"statistic_id": "sensor.p", "types": "median"})
    assert status == 400 and "median" in body["message"]


async def test_history_and_statistics_over_the_websocket(api_factory) -> None:
    api, base = await recorded_api(api_factory)
    client = await connect(api, await api.token_for(Role.VIEWER))
    span = {"start_time": iso(base + timedelta(minutes=32)),
            "end_time": iso(base + timedelta(minutes=47))}

    plain = await client.command("history", entity_ids=["sensor.p"], **span)
    assert [row["state"] for row in plain["result"]["sensor.p"]] == ["16", "17", "18", "19"]

    compact = await client.command("history/history_during_period", entity_ids=["sensor.p"],
                                   **span)
    rows = compact["result"]["sensor.p"]
    assert [row["s"] for row in rows] == ["16", "17", "18", "19"]
    assert rows[0]["a"] == POWER
    assert rows[1]["lu"] == (base + timedelta(minutes=36)).timestamp()

    stats = await client.command("statistics", statistic_ids=["sensor.p"], period="hour",
                                 start_time=iso(base))
    assert stats["result"]["sensor.p"][0]["start"] == iso(base.astimezone(api.hub.site.tz))
    during = await client.command("recorder/statistics_during_period",
                                  statistic_ids=["sensor.p"], period="hour",
                                  start_time=iso(base), types=["mean", "max"])
    first = during["result"]["sensor.p"][0]
    assert first["start"] == base.timestamp() * 1000 and set(first) == {"start", "end", "mean",
                                                                        "max"}
    bad = await client.command("history", start_time="not a time")
    assert bad["success"] is False and bad["error"]["code"] == "invalid_format"
    await client.ws.close()


async def test_history_without_the_start_state_lists_only_what_was_recorded_since(
    api_factory,
) -> None:
    api, base = await recorded_api(api_factory)
    client = await connect(api, await api.token_for(Role.VIEWER))
    span = {"entity_ids": ["sensor.p", "switch.pump"], "include_start_time_state": False,
            "end_time": iso(base + timedelta(minutes=47))}

    between = await client.command("history", start_time=iso(base + timedelta(minutes=32)),
                                   **span)
    # 16 (measured at +31 min) and the pump (on since +30 min) were in effect before.
    assert list(between["result"]) == ["sensor.p"]
    assert [row["state"] for row in between["result"]["sensor.p"]] == ["17", "18", "19"]
    assert between["result"]["sensor.p"][0]["last_updated"] == iso(base + timedelta(minutes=36))

    # A reading made exactly at the start time is in the period.
    exact = await client.command("history/history_during_period",
                                 start_time=iso(base + timedelta(minutes=36)), **span)
    rows = exact["result"]["sensor.p"]
    assert [row["s"] for row in rows] == ["17", "18", "19"]
    assert rows[0]["lu"] == (base + timedelta(minutes=36)).timestamp()

    minimal = await client.command("history", start_time=iso(base + timedelta(minutes=32)),
                                   minimal_response=True, **span)
    assert [row["state"] for row in minimal["result"]["sensor.p"]] == ["17", "18", "19"]
    await client.ws.close()


async def test_statistics_unit_conversion_is_refused_with_a_reason(api_factory) -> None:
    api, base = await recorded_api(api_factory)
    client = await connect(api, await api.token_for(Role.VIEWER))
    asked = {"statistic_ids": ["sensor.p"], "period": "hour", "start_time": iso(base)}
    refused = await client.command("recorder/statistics_during_period",
                                   units={"power": "W"}, **asked)
    assert refused["success"] is False and refused["error"]["code"] == "invalid_format"
    assert refused["error"]["message"] == ("Unit conversion ('units') is not supported: leave "
                                           "it out; statistics come in the unit each sensor "
                                           "reports.")
    assert (await client.command("recorder/statistics_during_period", units={}, **asked))[
        "success"] is True
    await client.ws.close()


async def test_only_admins_may_purge_the_recorder(api_factory) -> None:
    api, _base = await recorded_api(api_factory)
    operator = await api.token_for(Role.OPERATOR)
    status, body = await api.request("POST", "/api/services/recorder/purge", operator,
                                     json={"keep_days": 0})
    assert status == 403 and "recorder.purge is for admins only" in body["message"]
    status, history = await api.request("GET", "/api/history/period", operator,
                                        params={"filter_entity_id": "sensor.p"})
    assert status == 200 and len(history[0]) == 24


async def test_without_a_recorder_history_answers_404_with_a_hint(api: Api) -> None:
    token = await api.token_for(Role.VIEWER)
    status, body = await api.request("GET", "/api/history/period", token)
    assert status == 404
    assert body["message"].startswith("The recorder is not set up")
    assert "add 'recorder:' to configuration.yaml" in body["message"]
    status, body = await api.request("GET", "/api/statistics", token,
                                     params={"statistic_id": "sensor.p"})
    assert status == 404
    client = await connect(api, token)
    answer = await client.command("statistics", statistic_ids=["sensor.p"],
                                  start_time=iso(two_hours_ago()))
    assert answer["error"]["code"] == "not_found"
    await client.ws.close()
