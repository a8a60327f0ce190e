"""The what-if web app of ``gisrenew serve``: the page, its files and its JSON API.

Routes
------
``GET /``                 the page (its CSRF token in a ``<meta>``)
``GET /static/<name>``    the page's files: a fixed table of files of this package and of
                          XStatic-Leaflet, looked up by exact name (no path is ever joined)
``GET /api/state``        the city now: ratios, districts, rule set, the page's labels
``GET /api/layers``       land (packed arrays), parks, candidate sites, blind spots (WGS84)
``POST /api/evaluate``    a sketch → what it would change (nothing is written)
``POST /api/apply``       a sketch written to the project through the recompute
``POST /api/candidates``  a sketch's parks appended to the project's candidate sites

The session's work runs in a worker thread, one request at a time (one lock): a
what-if never sees a half-applied project.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable, Iterable
from functools import partial
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from gisrenew.errors import GisrenewError, LockError, ProjectError, SketchError
from gisrenew.project import Project, read_only_message
from gisrenew.serve import guard
from gisrenew.serve.layers import city_layers, session_coverage
from gisrenew.serve.sketch import check_sketch
from gisrenew.serve.wording import worded_answer, worded_state
from gisrenew.webmap.assets import ASSETS
from gisrenew.webmap.packed import PACKED_JS_FILE

__all__ = ["LOOPBACK_HOSTS", "Session", "create_app", "static_files"]

log = logging.getLogger("gisrenew.serve")

#: The names this computer answers to; the Host header must be one of them (or the host given).
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")
_WRITES = {"/api/apply", "/api/candidates"}
_MIME = {".js": "text/javascript", ".css": "text/css", ".png": "image/png", ".svg": "image/svg+xml"}


class Session(Protocol):
    """What the app needs of a :class:`gisrenew.whatif.WhatIfSession`."""

    project: Project

    def state(self) -> dict: ...
    def evaluate(self, sketch: dict) -> dict: ...
    def apply(self, sketch: dict, *, note: str = "") -> dict: ...
    def save_candidate(self, sketch: dict) -> dict: ...


def static_files() -> dict[str, Path]:
    """The files ``/static/`` serves, by the exact name a request gives.

    The page's own files (``app.js``, ``city.js``, ``app.css``, ``vendor/leaflet-geoman/...``)
    from this package, the packed layers' reader (``webmap/packed.js``), and Leaflet
    (``leaflet/leaflet.js``, ``leaflet/leaflet.css``, ``leaflet/images/*.png``) from
    XStatic-Leaflet. Nothing else can be asked for.
    """
    own = Path(str(resources.files("gisrenew.serve") / "static"))
    files = {
        path.relative_to(own).as_posix(): path
        for path in own.rglob("*")
        if path.is_file() and path.suffix in _MIME and path.name != "index.html"
    }
    leaflet_js, leaflet_css = ASSETS["leaflet"].file(), ASSETS["leaflet_css"].file()
    files["webmap/packed.js"] = PACKED_JS_FILE  # the published maps' reader of packed layers
    files["leaflet/leaflet.js"] = leaflet_js
    files["leaflet/leaflet.css"] = leaflet_css
    for image in (leaflet_css.parent / "images").glob("*.png"):
        files[f"leaflet/images/{image.name}"] = image
    return files


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


class _Api:
    """The endpoints, around one session and one lock."""

    def __init__(self, session: Session, *, lang: str, csrf: str):
        self.session, self.lang, self.csrf = session, lang, csrf
        self.lock = threading.Lock()
        self.files = static_files()
        page = resources.files("gisrenew.serve") / "static" / "index.html"
        self.page = page.read_text(encoding="utf-8")
        self._layers: dict | None = None

    async def run(self, work: Callable[[], Any]) -> Any:
        """`work` in a worker thread, holding the session's lock."""

        def locked() -> Any:
            with self.lock:
                return work()

        return await run_in_threadpool(locked)

    async def index(self, request: Request) -> Response:
        html = self.page.replace("{{csrf}}", self.csrf).replace("{{lang}}", self.lang)
        return HTMLResponse(html, headers={"cache-control": "no-store"})

    async def static(self, request: Request) -> Response:
        path = self.files.get(request.path_params["name"])
        if path is None:
            return _error(404, "no such file")
        return FileResponse(path, media_type=_MIME[path.suffix])

    async def state(self, request: Request) -> Response:
        state = await self.run(self.session.state)
        state = worded_state(state, self.lang)
        state["read_only"] = bool(self.session.project.read_only)
        return JSONResponse(state, headers={"cache-control": "no-store"})

    async def layers(self, request: Request) -> Response:
        def build() -> dict:
            if self._layers is None:
                coverage = session_coverage(self.session)
                self._layers = city_layers(self.session.project, coverage)
            return self._layers

        return JSONResponse(await self.run(build), headers={"cache-control": "no-store"})

    async def evaluate(self, request: Request) -> Response:
        sketch = check_sketch(await guard.read_json(request))
        answer = await self.run(partial(self.session.evaluate, sketch))
        return JSONResponse(worded_answer(answer, self.lang))

    async def apply(self, request: Request) -> Response:
        body = await guard.read_json(request)
        note = body.pop("note", "") if isinstance(body, dict) else ""
        if not isinstance(note, str) or len(note) > 500:
            raise SketchError("'note' must be text of at most 500 characters")
        sketch = check_sketch(body)
        self._writable("apply a sketch")
        result = await self.run(partial(self.session.apply, sketch, note=note))
        self._layers = None  # the city changed: its layers are drawn anew
        result = dict(result)
        result["state"] = worded_state(result.get("state") or {}, self.lang)
        return JSONResponse(result)

    async def candidates(self, request: Request) -> Response:
        sketch = check_sketch(await guard.read_json(request))
        self._writable("save candidate sites")
        result = await self.run(partial(self.session.save_candidate, sketch))
        self._layers = None  # the new sites are drawn (and can be picked) at once
        return JSONResponse(result)

    def _writable(self, action: str) -> None:
        project = self.session.project
        if project.read_only:
            raise _ReadOnly(read_only_message(Path(project.folder), action))


class _ReadOnly(ProjectError):
    """A write action on a read-only project (HTTP 403)."""


async def _on_error(request: Request, exc: Exception) -> Response:
    """Every error as a JSON message; the server keeps serving."""
    if isinstance(exc, guard.BodyError):
        return _error(exc.status, exc.message)
    if isinstance(exc, SketchError):
        return _error(422, str(exc))
    if isinstance(exc, _ReadOnly):
        return _error(403, str(exc))
    if isinstance(exc, LockError):
        return _error(409, str(exc))
    if isinstance(exc, GisrenewError):
        return _error(400, str(exc))
    log.exception("the what-if server failed on %s %s", request.method, request.url.path)
    return _error(500, "the server could not answer this request (see its terminal); it still runs")


def create_app(
    session: Session,
    *,
    token: str | None,
    allowed_hosts: Iterable[str] = LOOPBACK_HOSTS,
    lang: str = "zh",
    csrf: str | None = None,
) -> Starlette:
    """The what-if app around `session`.

    Parameters
    ----------
    session : WhatIfSession
        The open session (``state``, ``evaluate``, ``apply``, ``save_candidate``, ``project``).
    token : str or None
        The access token every request must carry (``X-Gisrenew-Access``, or the cookie
        the page gets from ``/?access=TOKEN``); ``None`` when serving on loopback only.
    allowed_hosts : iterable of str
        Host names the Host header may carry (against DNS rebinding).
    lang : {"zh", "en"}
        The page's language.
    csrf : str, optional
        The write token the page receives; a fresh random one by default.
    """
    api = _Api(session, lang=lang, csrf=csrf or secrets.token_urlsafe(32))
    routes = [
        Route("/", api.index, methods=["GET"]),
        Route("/static/{name:path}", api.static, methods=["GET"]),
        Route("/favicon.ico", lambda request: Response(status_code=204), methods=["GET"]),
        Route("/api/state", api.state, methods=["GET"]),
        Route("/api/layers", api.layers, methods=["GET"]),
        Route("/api/evaluate", api.evaluate, methods=["POST"]),
        Route("/api/apply", api.apply, methods=["POST"]),
        Route("/api/candidates", api.candidates, methods=["POST"]),
    ]
    middleware = [
        Middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts)),
        Middleware(guard.Guard, access=token, csrf=api.csrf, writes=_WRITES),
    ]
    app = Starlette(routes=routes, middleware=middleware, exception_handlers={Exception: _on_error})
    for error in (guard.BodyError, GisrenewError):
        app.add_exception_handler(error, _on_error)
    app.state.csrf = api.csrf
    return app
