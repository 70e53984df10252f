"""The local HTTP endpoint for probes and scrapes: ``/healthz`` and ``/metrics``.

Two Starlette routes (:func:`health_routes`) served by uvicorn in the daemon's event loop
(:mod:`tracker.ops.asgi`): inside the web desk's app when the desk is on, alone
(:class:`HealthServer`) otherwise. They bind to ``[health] host``/``port`` (default
``127.0.0.1:9464``) and never block the event loop: a synchronous database check runs in a
worker thread, with a timeout.

``GET /healthz`` decides in this order:

1. the database check (``check_database``: async, or sync and then run in a thread) must
   return true within ``db_timeout`` seconds — else ``"database": "unreachable"`` (false or
   an exception) or ``"timeout"``;
2. the scheduler must be running (``scheduler_running()``) — else ``"scheduler": "stopped"``;
3. if ``max_cycle_age`` is set, the last poll cycle must have finished within it — else
   ``"scheduler": "stalled"`` (a cycle that hangs is as bad as no scheduler);
4. each named component (``components()``, e.g. ``{"telegram": "unreachable"}``) must say
   ``"ok"`` — else it is failing, under its own name.

All pass: 200 ``{"status": "ok", "database": "ok", "scheduler": "running",
"last_cycle_at": ISO-8601 or null, "version": …}``; otherwise 503 with ``"status": "fail"``
and ``"failing"`` listing the parts that failed. ``GET /metrics`` is the Prometheus text
exposition of the :class:`~tracker.ops.metrics.Metrics` given (prometheus-client's ASGI app);
anything else is 404, another method 405.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from prometheus_client import make_asgi_app
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tracker.ops.asgi import AsgiServer
from tracker.ops.metrics import Metrics

log = logging.getLogger(__name__)

DatabaseCheck = Callable[[], Awaitable[bool]] | Callable[[], bool]


@dataclass(frozen=True)
class HealthChecks:
    """What ``/healthz`` asks, each a callable the daemon provides."""

    check_database: DatabaseCheck
    scheduler_running: Callable[[], bool]
    last_cycle_at: Callable[[], datetime | None]
    version: str = ""
    db_timeout: float = 5.0
    #: 503 "stalled" when the last cycle finished longer ago than this (None: never).
    max_cycle_age: timedelta | None = None
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    #: other parts and their state ("ok" or what is wrong), e.g. the Telegram link
    components: Callable[[], Mapping[str, str]] = dict


async def health_report(checks: HealthChecks) -> tuple[int, dict[str, Any]]:
    """The status code and JSON body of ``/healthz`` (see the module docstring)."""
    failing: list[str] = []
    database = await _database(checks)
    if database != "ok":
        failing.append("database")
    scheduler = "running" if checks.scheduler_running() else "stopped"
    last = checks.last_cycle_at()
    if (scheduler == "running" and checks.max_cycle_age is not None and last is not None
            and checks.clock() - last > checks.max_cycle_age):
        scheduler = "stalled"
    if scheduler != "running":
        failing.append("scheduler")
    parts = dict(checks.components())
    failing += [name for name, state in parts.items() if state != "ok"]
    body: dict[str, Any] = {
        "status": "fail" if failing else "ok",
        "database": database,
        "scheduler": scheduler,
        "last_cycle_at": last.astimezone(UTC).isoformat() if last else None,
        "version": checks.version,
        **parts,
    }
    if failing:
        body["failing"] = failing
    return (503 if failing else 200), body


async def _database(checks: HealthChecks) -> str:
    check = checks.check_database
    try:
        async with asyncio.timeout(checks.db_timeout):
            if inspect.iscoroutinefunction(check):
                result: Any = await check()
            else:
                result = await asyncio.to_thread(check)
            if inspect.isawaitable(result):
                result = await result
    except TimeoutError:
        return "timeout"
    except Exception as exc:
        log.warning("health_database_failed", extra={"error": repr(exc)})
        return "unreachable"
    return "ok" if result else "unreachable"


def health_routes(metrics: Metrics, checks: HealthChecks) -> list[Route]:
    """``GET``/``HEAD`` ``/healthz`` (the verdict above) and ``/metrics`` (prometheus-client's
    ASGI app over the process's own registry), for any Starlette app to include."""

    async def healthz(request: Request) -> Response:
        status, report = await health_report(checks)
        return Response(json.dumps(report, ensure_ascii=False) + "\n", status,
                        media_type="application/json", headers={"cache-control": "no-store"})

    return [Route("/healthz", healthz, methods=["GET", "HEAD"]),
            Route("/metrics", _Asgi(make_asgi_app(metrics.registry)), methods=["GET", "HEAD"])]


class _Asgi:
    """An ASGI callable that Starlette routes as an app (a plain function is a handler)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


class HealthServer(AsgiServer):
    """``/healthz`` and ``/metrics`` alone on ``host:port`` (port 0 picks a free one)."""

    def __init__(self, metrics: Metrics, checks: HealthChecks,
                 host: str = "127.0.0.1", port: int = 9464) -> None:
        super().__init__(Starlette(routes=health_routes(metrics, checks)), host, port)


async def start_health_server(metrics: Metrics, checks: HealthChecks,
                              host: str = "127.0.0.1", port: int = 9464) -> AsgiServer:
    """Build and start a :class:`HealthServer`; call ``await server.stop()`` when done."""
    return await HealthServer(metrics, checks, host, port).start()
