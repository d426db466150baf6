"""`plantpulse report tou`: a meter's monthly time-of-use report from the recorder database.

    plantpulse report tou --config DIR --entity sensor.yang36_kwh --month 2022-03 \
        --format json|csv|xlsx [--output FILE]

JSON and CSV go to stdout unless --output is given; xlsx needs --output. The report is the
one the `energy.report` service gives (see report.py), read from the config dir's recorder
database while the hub is stopped; with the hub running, the command says how to ask the
hub's service instead. CSV and Excel headers are Chinese when the site language is zh-CN.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from plantpulse.core.exceptions import HubRunningError, PlantPulseError


def add_commands(commands: argparse._SubParsersAction,  # type: ignore[type-arg]
                 add_config_option: Callable[[argparse.ArgumentParser], None]) -> None:
    """Add `report tou`."""
    report = commands.add_parser("report", help="energy reports").add_subparsers(
        dest="report_command", required=True, metavar="REPORT")
    tou = report.add_parser("tou", help="a meter's monthly time-of-use report (hub stopped)")
    tou.add_argument("--entity", required=True, help="a meter entity of the energy: tree")
    tou.add_argument("--month", required=True, help="YYYY-MM, in the site's time zone")
    tou.add_argument("--format", choices=("json", "csv", "xlsx"), default="json")
    tou.add_argument("--output", "-o", metavar="FILE", help="write here (xlsx needs it)")
    add_config_option(tou)
    tou.set_defaults(handler=run_tou)


def run_tou(args: argparse.Namespace) -> int:
    """Make the report and write it."""
    from plantpulse.core.bootstrap import resolve_config_dir
    from plantpulse.core.storage import ConfigDirLock

    if args.format == "xlsx" and not args.output:
        raise PlantPulseError("--format xlsx writes a file: give --output FILE.xlsx")
    config_dir = resolve_config_dir(args.config)
    if not config_dir.is_dir():
        raise PlantPulseError(f"config dir {config_dir} does not exist")
    lock = ConfigDirLock(config_dir)
    try:
        lock.acquire()
    except HubRunningError as err:
        body = json.dumps({"entity_id": args.entity, "month": args.month})
        raise PlantPulseError(
            f"{err}: ask it for the report with its service instead: POST "
            f"/api/services/energy/report?return_response with {body} and a token (make one "
            "with `plantpulse token create`), or stop the hub and run this again"
        ) from None
    try:
        report, language = asyncio.run(_async_report(config_dir, args.entity, args.month))
    finally:
        lock.release()
    _write(report, language, args.format, Path(args.output) if args.output else None)
    return 0


async def _async_report(config_dir: Path, entity_id: str,
                        month_text: str) -> tuple[dict[str, Any], str]:
    from plantpulse.core.bootstrap import site_from_raw
    from plantpulse.core.config.load import read_config_dir, validate_block
    from plantpulse.core.hub import Hub
    from plantpulse.core.recorder.config import database_path_of_config_dir
    from plantpulse.core.recorder.database import async_open_reader
    from plantpulse.core.recorder.statistics_query import StatisticsReader
    from plantpulse.integrations.energy.config import CONFIG_SCHEMA
    from plantpulse.integrations.energy.const import DOMAIN
    from plantpulse.integrations.energy.report import (
        async_month,
        find_node,
        parse_month,
        tou_report,
    )

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
    month = parse_month(month_text, site.tz)
    node = find_node(config, entity_id, None)
    hub = Hub(config_dir, site)
    conn = None
    try:
        conn = await async_open_reader(db_path)
        results = await async_month(hub, StatisticsReader(hub, conn), config, [node.node_id],
                                    month)
    finally:
        if conn is not None:
            await conn.close()
        await hub.async_stop()
    return tou_report(results[node.node_id], month, config.coefficients, site.currency), \
        site.language


def _write(report: dict[str, Any], language: str, kind: str, output: Path | None) -> None:
    from plantpulse.integrations.energy.export import tou_csv, write_tou_xlsx

    if kind == "xlsx":
        assert output is not None
        write_tou_xlsx(report, language, output)
        print(output)
        return
    text = (json.dumps(report, ensure_ascii=False, indent=2) + "\n" if kind == "json"
            else tou_csv(report, language))
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8-sig" if kind == "csv" else "utf-8")
