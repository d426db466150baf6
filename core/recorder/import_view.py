"""`POST /api/statistics/import`: a statistics import through the running hub (admins only).

The body is the CSV `plantpulse import` reads (header `entity_id,timestamp,value[,kind]`);
query parameters `unit` (of statistics the import creates) and `partial` (`1`/`true`: skip
bad rows). Answers the ImportResult as JSON (`statistics`, `skipped`, `notes`), or 400 with
`{"message", "problems": [{"line", "message"}]}` when nothing was imported.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import TYPE_CHECKING, Final

from aiohttp import web

from plantpulse.core.auth.const import Role
from plantpulse.core.http.extensions import async_register_api_view
from plantpulse.core.http.view import json_response
from plantpulse.core.recorder.statistics_import import (
    RowProblem,
    StatisticsImportError,
    async_import,
    parse_csv,
)

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub
    from plantpulse.core.recorder.core import Recorder

IMPORT_PATH: Final = "/api/statistics/import"
_TRUE: Final = frozenset({"1", "true", "yes", "on"})


def async_register_import_view(hub: Hub, recorder: Recorder) -> None:
    """Serve IMPORT_PATH for admins."""

    async def post_import(request: web.Request) -> web.Response:
        """Import the CSV body into long-term statistics."""
        try:
            text = (await request.read()).decode("utf-8-sig")
        except UnicodeDecodeError:
            return _problems("The CSV must be UTF-8.", [])
        partial = request.query.get("partial", "").lower() in _TRUE
        rows, problems = parse_csv(text)
        if problems and not partial:
            return _problems(str(StatisticsImportError(problems)), problems)
        try:
            result = await async_import(recorder, rows, unit=request.query.get("unit") or None,
                                        partial=partial)
        except StatisticsImportError as err:
            return _problems(str(err), err.problems)
        result.skipped[:0] = problems
        return json_response(result.as_dict())

    async_register_api_view(hub, "POST", IMPORT_PATH, post_import, Role.ADMIN)


def _problems(message: str, problems: list[RowProblem]) -> web.Response:
    return json_response({
        "message": message,
        "problems": [{"line": problem.line, "message": problem.message} for problem in problems],
    }, HTTPStatus.BAD_REQUEST)
