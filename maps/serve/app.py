"""The web application of ``plan.py serve`` (Starlette, ASGI): routes, request checks and errors.

Routes
------
``GET /``                  the planner map with the sketch editor (:mod:`maps.serve.page`); 503 while loading.
``GET /api/health``        ``{"status": "ok"}`` (200) once the network is ready; ``{"status": "loading"}`` (503) before,
                           ``{"status": "error", "error": "…"}`` (500) when loading failed.
``GET /api/options``       road classes and default speeds, targets, window, limits (:meth:`Engine.describe`).
``POST /api/scenario``     a sketch (GeoJSON FeatureCollection) → before / after / change (:mod:`maps.serve.answer`).
``POST /api/isochrones``   ``{"scenario": FeatureCollection | null, "origin": [lon, lat], "minutes": [30]}`` →
                           polygons before and after (GeoJSON).
``GET /assets/…``, ``GET /static/…``  the vendored files and the editor's own, read into memory at start.

Every refusal is a JSON object ``{"error": "one line"}`` with a 4xx status
(400 not JSON, 413 too large, 422 a sketch that cannot be evaluated, 404,
405, 503 not ready); an unexpected failure is a 500 with one line, never a
traceback. No request reads or writes a file: the assets are served from
memory, the engine holds everything it needs.

Why Starlette (BSD-3-Clause, Encode, maintained, 1.x): a small ASGI toolkit
with no further dependency than ``anyio``; health checks are answered on the
event loop while an evaluation runs in the thread pool, and its test client
(``httpx``) drives the same app in tests. Served by uvicorn (BSD-3-Clause).
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from maps.serve.sketch import SketchError, parse_point, parse_sketch, read_json

log = logging.getLogger(__name__)

ASSETS = Path(__file__).resolve().parent.parent / "assets"
STATIC = Path(__file__).resolve().parent / "static"
_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".png": "image/png",
          ".svg": "image/svg+xml"}
LOADING_PAGE = ("<!doctype html><meta charset='utf-8'><meta http-equiv='refresh' content='3'><title>bgplan</title>"
                "<p>Đang tải mạng lưới… / Loading the network… (this page reloads itself)</p>")


class State:
    """The engine and what the server knows about it: loading, ready, failed; the rendered page."""

    def __init__(self, engine):
        self.engine = engine
        self.error: str | None = None
        self.page: bytes | None = None
        self.files = _files()

    @property
    def ready(self) -> bool:
        return self.error is None and bool(getattr(self.engine, "ready", False))

    def load(self) -> None:
        """Load the engine and render the page (in a background thread: the server answers meanwhile)."""
        try:
            self.engine.load()
            if self.engine.page_layers is not None:
                from maps.serve.page import serve_page

                self.page = serve_page(self.engine.page_layers, self.engine.describe()).encode("utf-8")
        except Exception as exc:        # reported by /api/health and on stderr, in one line
            self.error = f"{type(exc).__name__}: {' '.join(str(exc).split())}"[:500]
            log.error("serve: loading failed: %s", self.error)


def create_app(engine, load: str = "thread") -> Starlette:
    """The ASGI app around ``engine`` (:class:`maps.serve.engine.Engine`).

    ``load``: ``"thread"`` loads the engine in a background thread (the server is up at once and healthy when
    loaded), ``"now"`` before returning, ``"no"`` not at all (an engine loaded already).
    """
    state = State(engine)
    if load == "now":
        state.load()
    elif load == "thread":
        threading.Thread(target=state.load, name="bgplan-serve-load", daemon=True).start()
    elif engine.page_layers is not None:
        from maps.serve.page import serve_page

        state.page = serve_page(engine.page_layers, engine.describe()).encode("utf-8")

    async def index(request: Request):
        if not state.ready:
            return HTMLResponse(LOADING_PAGE, status_code=503)
        if state.page is None:
            return _error("this server was started without the map page", 404)
        return Response(state.page, media_type="text/html; charset=utf-8")

    async def health(request: Request):
        if state.error:
            return JSONResponse({"status": "error", "error": state.error}, status_code=500)
        if not state.ready:
            return JSONResponse({"status": "loading"}, status_code=503)
        return JSONResponse({"status": "ok", "region": engine.region.id, "network": engine.net.network_name})

    async def options(request: Request):
        _need(state)
        return JSONResponse(engine.describe())

    async def scenario(request: Request):
        _need(state)
        body = await _body(request, engine.rules.limits.max_bytes)
        sketch = parse_sketch(body, engine.rules)
        return JSONResponse(await run_in_threadpool(engine.evaluate, sketch))

    async def isochrones(request: Request):
        _need(state)
        data = read_json(await _body(request, engine.rules.limits.max_bytes), engine.rules.limits)
        origin = parse_point(data.get("origin"), engine.rules)
        minutes = data.get("minutes", [30])
        if not isinstance(minutes, list) or not 1 <= len(minutes) <= 4 or \
                not all(isinstance(m, (int, float)) and not isinstance(m, bool) and 1 <= m <= 120 for m in minutes):
            raise SketchError("minutes: a list of 1 to 4 numbers from 1 to 120")
        drawn = data.get("scenario")
        if drawn is not None and not isinstance(drawn, dict):
            raise SketchError("scenario: a GeoJSON FeatureCollection, or null for today's network only")
        sketch = parse_sketch(drawn, engine.rules) if drawn and drawn.get("features") else None
        return JSONResponse(await run_in_threadpool(engine.isochrones, sketch, origin, tuple(float(m) for m in minutes)))

    async def asset(request: Request):
        key = request.url.path.lstrip("/")
        if key not in state.files:
            return _error(f"no such file: {request.url.path[:100]}", 404)
        data, media = state.files[key]
        return Response(data, media_type=media, headers={"Cache-Control": "max-age=3600"})

    scenario, isochrones = _guarded(scenario), _guarded(isochrones)
    routes = [Route("/", index), Route("/api/health", health), Route("/api/options", options),
              Route("/api/scenario", scenario, methods=["POST"]), Route("/api/isochrones", isochrones, methods=["POST"]),
              Route("/assets/{path:path}", asset), Route("/static/{path:path}", asset)]
    handlers = {SketchError: _sketch_error, HTTPException: _http_error, Exception: _last_resort}
    app = Starlette(routes=routes, exception_handlers=handlers)
    app.state.bgplan = state
    return app


def _need(state: State) -> None:
    if state.error:
        raise SketchError(f"the server could not load its network: {state.error}", 500)
    if not state.ready:
        raise SketchError("the network is still loading: try again in a few seconds (GET /api/health)", 503)


async def _body(request: Request, limit: int) -> bytes:
    """The request body, refused (413) as soon as it passes ``limit`` bytes — never read whole into memory first."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise SketchError(f"request body of {int(declared):,} bytes: at most {limit:,} accepted", 413)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise SketchError(f"request body above {limit:,} bytes: at most {limit:,} accepted", 413)
        chunks.append(chunk)
    return b"".join(chunks)


def _files() -> dict[str, tuple[bytes, str]]:
    """Every vendored asset and editor file, read once: URL path (``assets/…``, ``static/…``) → (bytes, media type)."""
    out = {}
    for prefix, folder in (("assets", ASSETS), ("static", STATIC)):
        for path in sorted(folder.rglob("*")):
            if path.is_file() and path.suffix in _TYPES:
                out[f"{prefix}/{path.relative_to(folder).as_posix()}"] = (path.read_bytes(), _TYPES[path.suffix])
    return out


def _error(message: str, status: int) -> JSONResponse:
    return JSONResponse({"error": " ".join(str(message).split())[:1000]}, status_code=status)


async def _sketch_error(request: Request, exc: SketchError):
    return _error(str(exc), exc.status)


async def _http_error(request: Request, exc: HTTPException):
    text = {404: f"no such page: {request.url.path[:100]}", 405: f"method {request.method} not allowed here"}
    return _error(text.get(exc.status_code, exc.detail), exc.status_code)


def _guarded(endpoint):
    """``endpoint`` with any unexpected exception turned into a one-line JSON 500 (logged in one line, with the
    traceback only at debug level)."""
    async def run(request: Request):
        try:
            return await endpoint(request)
        except (SketchError, HTTPException):
            raise
        except Exception as exc:
            return _unexpected(request, exc)

    return run


def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.error("serve: %s %s failed: %s: %s", request.method, request.url.path, type(exc).__name__, " ".join(str(exc).split())[:300])
    log.debug("serve: traceback", exc_info=exc)
    return _error(f"internal error ({type(exc).__name__}); the server log has the details", 500)


async def _last_resort(request: Request, exc: Exception):
    return _unexpected(request, exc)
