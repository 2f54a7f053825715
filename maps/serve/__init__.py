"""``plan.py serve``: the live scenario editor — sketch a road on the planner map, see within a second what it changes.

* :mod:`maps.serve.engine` — the region loaded once; every call into ``layers``/``geo`` (the one file to change when
  the library API changes);
* :mod:`maps.serve.sketch` — a request's GeoJSON checked (types, window, limits) before any routing;
* :mod:`maps.serve.answer` — the JSON answer (parks, communes, minutes-saved grid, roads, summary);
* :mod:`maps.serve.app` — the web application (Starlette): routes, errors, assets from memory;
* :mod:`maps.serve.page` — ``GET /``: the planner map with the editor (``static/editor.js``, Leaflet-Geoman).

:func:`serve` runs it with uvicorn on 127.0.0.1 (by default) until interrupted.
"""

from __future__ import annotations

import ipaddress
import logging

log = logging.getLogger(__name__)


def serve(options, host: str = "127.0.0.1", port: int = 8765, log_level: str = "warning") -> int:
    """Load the region in the background and answer on ``host:port`` until Ctrl-C or SIGTERM (returns 0).

    ``options`` : :class:`maps.serve.engine.EngineOptions`. The server has no authentication: on another address than
    the loopback it says so on stderr.
    """
    import uvicorn

    from maps.serve.app import create_app
    from maps.serve.engine import Engine

    if not _loopback(host):
        log.warning("serve: listening on %s — the editor has no authentication: anyone who can reach this address can "
                    "use it (default and safest: 127.0.0.1)", host)
    app = create_app(Engine(options), load="thread")
    log.warning("serve: http://%s:%d/ (loading the network; GET /api/health says 'ok' when ready; Ctrl-C stops)",
                host if ":" not in host else f"[{host}]", port)
    config = uvicorn.Config(app, host=host, port=port, log_level=log_level, access_log=False, timeout_graceful_shutdown=5)
    uvicorn.Server(config).run()
    return 0


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
