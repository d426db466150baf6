"""`plantpulse import`: load a CSV of meter history into the config dir's long-term statistics.

With the hub stopped, the command opens the recorder's database itself (holding the config
dir lock meanwhile). With the hub running, it goes through the hub's REST API
(`POST /api/statistics/import`) with an admin's token from `--token` or `$PLANTPULSE_TOKEN`,
or says how to. The CSV is checked first: bad rows are listed with their line numbers and
nothing is imported unless `--partial`. See statistics_import for what is imported.
"""

from __future__ import annotations

import asyncio
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from http import HTTPStatus
from pathlib import Path
from typing import Any, Final, TextIO

from plantpulse.core.const import DEFAULT_HTTP_PORT
from plantpulse.core.exceptions import HubRunningError, PlantPulseError
from plantpulse.core.recorder.import_view import IMPORT_PATH
from plantpulse.core.recorder.statistics_import import (
    ImportRow,
    RowProblem,
    group_rows,
    parse_csv,
)

ENV_TOKEN: Final = "PLANTPULSE_TOKEN"
REQUEST_TIMEOUT_SECONDS: Final = 300.0
# Rows per request through the API (the hub takes request bodies up to 1 MiB).
ROWS_PER_REQUEST: Final = 10_000


def run_import(config_dir: Path, csv_file: Path, *, unit: str | None, partial: bool,
               token: str | None, url: str | None, stdout: TextIO, stderr: TextIO) -> int:
    """Check and import `csv_file`; print what was imported. Returns the exit code."""
    from plantpulse.core.storage import ConfigDirLock

    if not config_dir.is_dir():
        raise PlantPulseError(f"config dir {config_dir} does not exist")
    try:
        text = csv_file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        raise PlantPulseError(f"cannot read {csv_file}: {err}") from None
    rows, problems = parse_csv(text)
    grouped, more = group_rows(rows)
    problems = sorted([*problems, *more], key=lambda problem: problem.line or 0)
    if problems and not partial:
        for problem in problems:
            print(problem, file=stderr)
        print(f"Nothing imported: {len(problems)} bad rows in {csv_file} (fix them, or import "
              "the good rows with --partial)", file=stderr)
        return 1
    good = [row for found in grouped.values() for row in found]
    lock = ConfigDirLock(config_dir)
    try:
        lock.acquire()
    except HubRunningError as err:
        token = token or os.environ.get(ENV_TOKEN)
        if not token:
            raise PlantPulseError(
                f"{err}: import through it with an admin's token (--token TOKEN or "
                f"${ENV_TOKEN}; while the hub runs, an admin makes one through its API: POST "
                "/api/auth/tokens with {\"client_name\": \"import\"}), or stop the hub and run "
                "the import again"
            ) from None
        answers = _post_chunks(url or _hub_url(config_dir), token, good, unit, partial)
    else:
        try:
            answers = [asyncio.run(_async_import_here(config_dir, good, unit, partial))]
        finally:
            lock.release()
    _print_result(answers, problems, stdout)
    return 0


async def _async_import_here(config_dir: Path, rows: list[ImportRow], unit: str | None,
                             partial: bool) -> dict[str, Any]:
    """Open the recorder's database with its configured settings and import."""
    from plantpulse.core.bootstrap import site_from_raw
    from plantpulse.core.config.load import read_config_dir, validate_block
    from plantpulse.core.hub import Hub
    from plantpulse.core.recorder import CONFIG_SCHEMA, DOMAIN, Recorder
    from plantpulse.core.recorder.config import RecorderConfig
    from plantpulse.core.recorder.statistics_import import async_import

    raw = await asyncio.get_running_loop().run_in_executor(None, read_config_dir, config_dir)
    site, _issues = site_from_raw(raw)
    block, issues = validate_block(DOMAIN, CONFIG_SCHEMA, raw.blocks.get(DOMAIN) or {})
    if block is None:
        raise PlantPulseError(f"the recorder: block is invalid: {issues[0]}")
    hub = Hub(config_dir, site)
    try:
        recorder = Recorder(hub, RecorderConfig.from_block(config_dir, block))
        await recorder.async_start()
        result = await async_import(recorder, rows, unit=unit, partial=partial)
    finally:
        await hub.async_stop()
    return result.as_dict()


def _hub_url(config_dir: Path) -> str:
    """http://127.0.0.1:<server_port of the http: block>."""
    from plantpulse.core.config.load import read_config_dir

    blocks = read_config_dir(config_dir).blocks
    if "http" not in blocks:
        raise PlantPulseError(f"the hub on {config_dir} runs without http: stop it to import")
    block = blocks["http"]  # `http:` with nothing under it means the defaults
    port = block.get("server_port", DEFAULT_HTTP_PORT) if isinstance(block, dict) else (
        DEFAULT_HTTP_PORT)
    return f"http://127.0.0.1:{port}"


def _chunks(rows: list[ImportRow]) -> list[list[ImportRow]]:
    """Rows split for requests; a statistic's reading chunk repeats the reading before it,
    so consumption carries on across the cut."""
    chunks: list[list[ImportRow]] = [[]]
    last: dict[str, ImportRow] = {}
    for row in rows:
        if len(chunks[-1]) >= ROWS_PER_REQUEST:
            chunks.append([])
            chunks[-1].extend(previous for previous in last.values()
                              if previous.kind == row.kind == "reading"
                              and previous.statistic_id == row.statistic_id)
        chunks[-1].append(row)
        last[row.statistic_id] = row
    return [chunk for chunk in chunks if chunk]


def _post_chunks(url: str, token: str, rows: list[ImportRow], unit: str | None,
                 partial: bool) -> list[dict[str, Any]]:
    query = urllib.parse.urlencode({"unit": unit or "", "partial": "1" if partial else ""})
    answers = []
    for chunk in _chunks(rows):
        body = "entity_id,timestamp,value,kind\n" + "".join(
            f"{row.statistic_id},{row.time.isoformat()},{row.value!r},{row.kind}\n"
            for row in chunk
        )
        request = urllib.request.Request(
            f"{url.rstrip('/')}{IMPORT_PATH}?{query}", data=body.encode(), method="POST",
            headers={"Authorization": f"Bearer {token}", "Content-Type": "text/csv"},
        )
        answer = _send(request, url)
        for note in answer["notes"]:  # lines of the body sent -> lines of the file
            if note["line"] is not None and 2 <= note["line"] < len(chunk) + 2:
                note["line"] = chunk[note["line"] - 2].line
        answers.append(answer)
    return answers


def _send(request: urllib.request.Request, url: str) -> dict[str, Any]:
    try:
        with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_SECONDS) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as err:
        try:
            message = json.loads(err.read()).get("message", err.reason)
        except ValueError:
            message = err.reason
        if err.code == HTTPStatus.UNAUTHORIZED:
            message = "the hub refused the token (expired or mistyped?)"
        elif err.code == HTTPStatus.FORBIDDEN:
            message = "the token's user may not import (imports need an admin)"
        raise PlantPulseError(f"import through the hub at {url} failed: {message}") from None
    except (urllib.error.URLError, OSError) as err:
        raise PlantPulseError(f"cannot reach the running hub at {url}: {err} (give its address "
                              "with --url)") from None


def _print_result(answers: list[dict[str, Any]], skipped: list[RowProblem],
                  stdout: TextIO) -> None:
    totals: dict[str, dict[str, Any]] = {}
    notes: list[str] = []
    for answer in answers:
        for summary in answer["statistics"]:
            known = totals.get(summary["statistic_id"])
            if known is None:
                totals[summary["statistic_id"]] = dict(summary)
            else:
                known["rows"] += summary["rows"]
                known["last"] = summary["last"]
                known["consumption"] += summary["consumption"]
        notes.extend(f"line {note['line']}: {note['message']}" if note["line"] else
                     note["message"] for note in answer["notes"])
    for summary in totals.values():
        print(f"{summary['statistic_id']}: {summary['rows']} {summary['kind']} rows from "
              f"{summary['first']} to {summary['last']}, {summary['consumption']:.6g} "
              f"{summary['unit'] or ''}".rstrip(), file=stdout)
    for note in notes:
        print(f"note: {note}", file=stdout)
    for problem in skipped:
        print(f"skipped: {problem}", file=stdout)
    print(f"Imported {len(totals)} statistics" + (f", skipped {len(skipped)} bad rows"
                                                  if skipped else ""), file=stdout)
