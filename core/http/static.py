"""The web UI: files of the package's `frontend/` folder at `/`, served without a token."""

from __future__ import annotations

from http import HTTPStatus
from pathlib import Path
from typing import Final

from aiohttp import hdrs, web

import plantpulse
from plantpulse.core.http.security import is_api_path
from plantpulse.core.http.view import Open, access

FRONTEND_DIR: Final = Path(plantpulse.__file__).resolve().parent / "frontend"
INDEX: Final = "index.html"
_MISSING: Final = (
    "Not found. (If this is the start page: the web UI files are missing from {folder}; "
    "the API still answers at /api/.)"
)

routes = web.RouteTableDef()


def resolve_file(root: Path, relative: str) -> Path | None:
    """The file `relative` names inside `root` (a folder means its index.html), else None.

    Paths that climb out of `root` (`../`, symlinks pointing elsewhere) are refused.
    """
    try:
        target = (root / (relative or INDEX)).resolve()
        if not target.is_relative_to(root):
            return None
        if target.is_dir():
            target = target / INDEX
        return target if target.is_file() else None
    except (OSError, ValueError):
        return None


@routes.get("/{path:.*}")
@access(Open.STATIC)
async def serve_frontend(request: web.Request) -> web.StreamResponse:
    """A frontend file, sent with `Cache-Control: no-cache`: browsers revalidate (a cheap 304
    by Last-Modified) so a hub upgrade never leaves old scripts running beside new pages."""
    relative = request.match_info["path"]
    if is_api_path(f"/{relative}"):
        raise web.HTTPNotFound()
    target = resolve_file(FRONTEND_DIR, relative)
    if target is None:
        return web.Response(status=HTTPStatus.NOT_FOUND,
                            text=_MISSING.format(folder=FRONTEND_DIR))
    response = web.FileResponse(target)
    response.headers[hdrs.CACHE_CONTROL] = "no-cache"
    return response
