"""`plantpulse import` as a user runs it: into a stopped hub's database, through a running
hub's API with an admin token, refusing without one, and bad rows with line numbers."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp

from plantpulse.core.auth.audit import Actor
from plantpulse.core.auth.const import Role
from plantpulse.core.recorder import get_recorder
from plantpulse.core.storage import ConfigDirLock
from tests.conftest import HubFactory, free_port, write_config
from tests.core.recorder.conftest import query
from tests.core.test_cli import plantpulse

SHANGHAI = ZoneInfo("Asia/Shanghai")
CONFIG = "plantpulse:\n  time_zone: Asia/Shanghai\nrecorder:\n"


def month_of_readings(path: Path, entity_id: str = "sensor.yang36_kwh") -> Path:
    """Hourly readings through March 2024 (local time), 2 kWh an hour, with a meter
    replacement on the 10th at 12:00 (the new meter starts at 0.5)."""
    lines = ["entity_id,timestamp,value"]
    start = datetime(2024, 3, 1, tzinfo=SHANGHAI)
    reading = 5000.0
    for hour in range(31 * 24 + 1):
        moment = start + timedelta(hours=hour)
        if moment == datetime(2024, 3, 10, 12, tzinfo=SHANGHAI):
            reading = 0.5  # replaced: 0.5 kWh used since the old meter's last reading
        elif hour:
            reading += 2.0
        lines.append(f"{entity_id},{moment.isoformat()},{reading}")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_import_into_a_stopped_hub_then_query(tmp_path: Path) -> None:
    write_config(tmp_path, CONFIG)
    csv_file = month_of_readings(tmp_path / "yang36.csv")
    result = plantpulse("import", "--config", str(tmp_path), str(csv_file))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == ("sensor.yang36_kwh: 745 reading rows from 2024-03-01T00:00:00+08:00 "
                        "to 2024-04-01T00:00:00+08:00, 1486.5 kWh")
    assert lines[1].startswith("note: line 230: sensor.yang36_kwh: reading 0.5 below 5454")
    assert lines[-1] == "Imported 1 statistics"
    db = tmp_path / "plantpulse.db"
    assert query(db, "SELECT COUNT(*), MIN(sum), MAX(sum) FROM statistics") == [
        (745, 0.0, 1486.5)]
    assert query(db, "SELECT source FROM statistics_meta") == [("import",)]


async def test_statistics_of_the_import_per_day_and_month(tmp_path: Path,
                                                          hub_factory: HubFactory) -> None:
    write_config(tmp_path, CONFIG)
    csv_file = month_of_readings(tmp_path / "yang36.csv")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "plantpulse", "import", "--config", str(tmp_path), str(csv_file),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    _out, err = await process.communicate()
    assert process.returncode == 0, err
    hub = await hub_factory(CONFIG, config_dir=tmp_path)
    rec = get_recorder(hub)
    assert rec is not None
    start, end = datetime(2024, 3, 1, tzinfo=SHANGHAI), datetime(2024, 4, 1, tzinfo=SHANGHAI)
    days = (await rec.async_get_statistics(["sensor.yang36_kwh"], "day", start,
                                           end))["sensor.yang36_kwh"]
    assert len(days) == 31 and days[0]["start"] == "2024-03-01T00:00:00+08:00"
    assert {round(row["change"], 6) for row in days} == {48.0, 46.5}
    assert round(days[9]["change"], 6) == 46.5  # the 10th: 2 kWh less 1.5 at the swap
    [month] = (await rec.async_get_statistics(["sensor.yang36_kwh"], "month", start,
                                              end))["sensor.yang36_kwh"]
    assert month["change"] == 31 * 48 - 1.5


def test_bad_rows_are_listed_and_nothing_is_imported(tmp_path: Path) -> None:
    write_config(tmp_path, CONFIG)
    csv_file = tmp_path / "bad.csv"
    csv_file.write_text(
        "entity_id,timestamp,value,kind\n"
        "sensor.a,2024-01-01T00:00:00+08:00,1\n"
        "sensor.a,2024-01-01 01:00,2\n"
        "sensor.a,2024-01-01T02:00:00+08:00,3,reading\n"
        "sensor.a,2024-01-01T02:00:00+08:00,4\n"
        "sensor.b,2024-01-01T02:00:00+08:00,x,interval\n"
        "sensor.a,2024-01-01T03:00:00+08:00,5\n")
    result = plantpulse("import", "--config", str(tmp_path), str(csv_file))
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "line 3: timestamp '2024-01-01 01:00' has no UTC offset (add e.g. +08:00 or Z)",
        "line 5: sensor.a already has a value at 2024-01-01T02:00:00+08:00 (line 4)",
        "line 6: value 'x' is not a number",
        f"Nothing imported: 3 bad rows in {csv_file} (fix them, or import the good rows "
        "with --partial)",
    ]
    assert not (tmp_path / "plantpulse.db").exists()
    result = plantpulse("import", "--config", str(tmp_path), str(csv_file), "--partial")
    assert result.returncode == 0, result.stderr
    assert "sensor.a: 3 reading rows" in result.stdout
    assert "skipped: line 6: value 'x' is not a number" in result.stdout
    assert result.stdout.splitlines()[-1] == "Imported 1 statistics, skipped 3 bad rows"


async def test_running_hub_refuses_without_token_and_imports_through_its_api(
        tmp_path: Path, hub_factory: HubFactory) -> None:
    port = free_port()
    config = f"{CONFIG}http:\n  server_host: 127.0.0.1\n  server_port: {port}\n"
    write_config(tmp_path, config)
    csv_file = month_of_readings(tmp_path / "yang36.csv")
    lock = ConfigDirLock(tmp_path)
    lock.acquire()  # as `plantpulse run` does
    try:
        hub = await hub_factory(config, config_dir=tmp_path)
        auth = hub.data["auth"]
        await auth.async_create_user(Actor("test"), "boss", "correct horse 42", Role.ADMIN)
        await auth.async_create_user(Actor("test"), "watcher", "correct horse 42", Role.VIEWER)
        tokens = {}
        async with aiohttp.ClientSession() as session:
            for user in ("boss", "watcher"):
                async with session.post(f"http://127.0.0.1:{port}/auth/token", data={
                    "grant_type": "password", "username": user,
                    "password": "correct horse 42", "client_id": "http://test/",
                }) as response:
                    tokens[user] = (await response.json())["access_token"]

        async def run(*extra: str, env_token: str | None = None) -> tuple[int, str, str]:
            env = {name: value for name, value in os.environ.items()
                   if name != "PLANTPULSE_TOKEN"}
            if env_token:
                env["PLANTPULSE_TOKEN"] = env_token
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "plantpulse", "import", "--config", str(tmp_path),
                str(csv_file), *extra, env=env, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE)
            out, err = await process.communicate()
            assert process.returncode is not None
            return process.returncode, out.decode(), err.decode()

        code, _out, err = await run()
        assert code == 1
        assert f"A PlantPulse hub is running on {tmp_path}" in err
        assert "--token TOKEN" in err and "stop the hub" in err
        code, _out, err = await run("--token", tokens["watcher"])
        assert code == 1 and "imports need an admin" in err
        code, out, err = await run(env_token=tokens["boss"])
        assert code == 0, err
        assert out.splitlines()[0].endswith("1486.5 kWh")
        assert "note: line 230:" in out
        rec = get_recorder(hub)
        assert rec is not None
        [month] = (await rec.async_get_statistics(
            ["sensor.yang36_kwh"], "month", datetime(2024, 3, 1, tzinfo=SHANGHAI),
            datetime(2024, 4, 1, tzinfo=SHANGHAI)))["sensor.yang36_kwh"]
        assert month["change"] == 1486.5
    finally:
        lock.release()


def test_the_hub_is_found_on_the_default_port_when_http_has_no_options(tmp_path: Path) -> None:
    """The bundled config writes `http:` with nothing under it: the defaults, port 8130."""
    from plantpulse.core.recorder.import_cli import _hub_url

    write_config(tmp_path, "http:\nrecorder:\n")
    assert _hub_url(tmp_path) == "http://127.0.0.1:8130"
    write_config(tmp_path, f"http:\n  server_port: {8131}\n")
    assert _hub_url(tmp_path) == "http://127.0.0.1:8131"
