"""`plantpulse report tou|energy`: energy reports from the recorder database.

    plantpulse report tou --config DIR --entity sensor.yang36_kwh --month 2022-03 \
        --format json|csv|xlsx [--output FILE]
    plantpulse report energy --config DIR --node main --period day|month|year \
        --date YYYY[-MM[-DD]] --format json|csv|xlsx [--output FILE]

JSON and CSV go to stdout unless --output is given; xlsx needs --output. The reports are the
ones the `energy.report` and `energy.energy_report` services give (report.py, reports.py),
read from the config dir's recorder
database while the hub is stopped; with the hub running, the command says how to ask the
hub's service instead. CSV and Excel headers are Chinese when the site language is zh-CN.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from plantpulse.core.exceptions import HubRunningError, PlantPulseError


def add_commands(commands: argparse._SubParsersAction,  # type: ignore[type-arg]
                 add_config_option: Callable[[argparse.ArgumentParser], None]) -> None:
    """Add `report tou` and `report energy`."""
    report = commands.add_parser("report", help="energy reports").add_subparsers(
        dest="report_command", required=True, metavar="REPORT")
    tou = report.add_parser("tou", help="a meter's monthly time-of-use report (hub stopped)")
    tou.add_argument("--entity", required=True, help="a meter entity of the energy: tree")
    tou.add_argument("--month", required=True, help="YYYY-MM, in the site's time zone")
    tou.add_argument("--format", choices=("json", "csv", "xlsx"), default="json")
    tou.add_argument("--output", "-o", metavar="FILE", help="write here (xlsx needs it)")
    add_config_option(tou)
    tou.set_defaults(handler=run_tou)
    energy = report.add_parser("energy", help="a node's daily, monthly or yearly energy report "
                               "(hub stopped)")
    energy.add_argument("--node", required=True, help="a node id of the energy: meter tree")
    energy.add_argument("--period", required=True, choices=("day", "month", "year"))
    energy.add_argument("--date", required=True,
                        help="YYYY-MM-DD, YYYY-MM or YYYY (by --period), site time zone")
    energy.add_argument("--format", choices=("json", "csv", "xlsx"), default="json")
    energy.add_argument("--output", "-o", metavar="FILE", help="write here (xlsx needs it)")
    add_config_option(energy)
    energy.set_defaults(handler=run_energy)


def run_tou(args: argparse.Namespace) -> int:
    """Make the report and write it."""
    config_dir = _config_dir(args)
    report, language = _locked(
        config_dir, "report", {"entity_id": args.entity, "month": args.month},
        lambda: _async_report(config_dir, args.entity, args.month))
    _write(report, language, args.format, Path(args.output) if args.output else None)
    return 0


def run_energy(args: argparse.Namespace) -> int:
    """Make a node's energy report and write it."""
    from plantpulse.integrations.energy.reports import report_csv, write_report_xlsx

    config_dir = _config_dir(args)
    body = {"node": args.node, "period": args.period, "date": args.date}
    report, language = _locked(config_dir, "energy_report", body,
                               lambda: _async_energy_report(config_dir, body))
    _write(report, language, args.format, Path(args.output) if args.output else None,
           report_csv, write_report_xlsx)
    return 0


def _config_dir(args: argparse.Namespace) -> Path:
    from plantpulse.core.bootstrap import resolve_config_dir

    if args.format == "xlsx" and not args.output:
        raise PlantPulseError("--format xlsx writes a file: give --output FILE.xlsx")
    config_dir = resolve_config_dir(args.config)
    if not config_dir.is_dir():
        raise PlantPulseError(f"config dir {config_dir} does not exist")
    return config_dir


def _locked(config_dir: Path, service: str, body: dict[str, str],
            make: Callable[[], Coroutine[Any, Any, tuple[dict[str, Any], str]]]
            ) -> tuple[dict[str, Any], str]:
    """Run `make()` holding the config dir's lock (the hub stopped)."""
    from plantpulse.core.storage import ConfigDirLock

    lock = ConfigDirLock(config_dir)
    try:
        lock.acquire()
    except HubRunningError as err:
        raise PlantPulseError(
            f"{err}: ask it for the report with its service instead: POST "
            f"/api/services/energy/{service}?return_response with {json.dumps(body)} and a "
            "token (while the hub runs, make one through its API: POST /api/auth/tokens with "
            "{\"client_name\": \"reports\"}), or stop the hub and run this again"
        ) from None
    try:
        return asyncio.run(make())
    finally:
        lock.release()


async def _async_report(config_dir: Path, entity_id: str,
                        month_text: str) -> tuple[dict[str, Any], str]:
    from plantpulse.integrations.energy.report import (
        async_month,
        find_node,
        parse_month,
        tou_report,
    )

    async def make(hub: Any, reader: Any, config: Any, site: Any) -> dict[str, Any]:
        month = parse_month(month_text, site.tz)
        node = find_node(config, entity_id, None)
        results = await async_month(hub, reader, config, [node.node_id], month)
        return tou_report(results[node.node_id], month, config.coefficients, site.currency)

    return await _async_read(config_dir, make)


async def _async_energy_report(config_dir: Path,
                               body: dict[str, str]) -> tuple[dict[str, Any], str]:
    from plantpulse.integrations.energy.reports import async_energy_report, parse_span

    async def make(hub: Any, reader: Any, config: Any, site: Any) -> dict[str, Any]:
        span = parse_span(body["period"], body["date"], site.tz)
        return await async_energy_report(hub, reader, config, body["node"], span,
                                         site.currency)

    return await _async_read(config_dir, make)


async def _async_read(config_dir: Path,
                      make: Callable[..., Coroutine[Any, Any, dict[str, Any]]]
                      ) -> tuple[dict[str, Any], str]:
    """Load the energy config and open the recorder database read-only for `make(hub,
    reader, config, site)`; its report and the site language."""
    from plantpulse.core.bootstrap import site_from_raw
    from plantpulse.core.config.load import read_config_dir, validate_block
    from plantpulse.core.hub import Hub
    from plantpulse.core.recorder.config import database_path_of_config_dir
    from plantpulse.core.recorder.database import async_open_reader
    from plantpulse.core.recorder.statistics_query import StatisticsReader
    from plantpulse.integrations.energy.config import CONFIG_SCHEMA
    from plantpulse.integrations.energy.const import DOMAIN

    loop = asyncio.get_running_loop()
    raw = await loop.run_in_executor(None, read_config_dir, config_dir)
    site, _site_issues = site_from_raw(raw)
    config, issues = validate_block(DOMAIN, CONFIG_SCHEMA, raw.blocks.get(DOMAIN))
    if DOMAIN not in raw.blocks or config is None:
        raise PlantPulseError(
            f"no valid energy: block in {config_dir}"
            + (f" ({issues[0]})" if issues else "") + ": the report needs the meter and tariff"
        )
    for issue in issues:
        print(f"warning: {issue}", file=sys.stderr)
    db_path = await loop.run_in_executor(None, database_path_of_config_dir, config_dir)
    if not db_path.exists():
        raise PlantPulseError(f"no recorder database at {db_path}: nothing recorded yet")
    hub = Hub(config_dir, site)
    conn = None
    try:
        conn = await async_open_reader(db_path)
        report = await make(hub, StatisticsReader(hub, conn), config, site)
    finally:
        if conn is not None:
            await conn.close()
        await hub.async_stop()
    return report, site.language


def _write(report: dict[str, Any], language: str, kind: str, output: Path | None,
           to_csv: Callable[[dict[str, Any], str], str] | None = None,
           to_xlsx: Callable[[dict[str, Any], str, Path], None] | None = None) -> None:
    from plantpulse.integrations.energy.export import tou_csv, write_tou_xlsx

    if kind == "xlsx":
        assert output is not None
        (to_xlsx or write_tou_xlsx)(report, language, output)
        print(output)
        return
    text = (json.dumps(report, ensure_ascii=False, indent=2) + "\n" if kind == "json"
            else (to_csv or tou_csv)(report, language))
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8-sig" if kind == "csv" else "utf-8")
