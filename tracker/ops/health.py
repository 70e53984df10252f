"""The local HTTP endpoint for probes and scrapes: ``/healthz`` and ``/metrics``.

A deliberately tiny HTTP/1.1 server on :func:`asyncio.start_server` (no new dependency):
one request per connection, ``GET`` and ``HEAD`` only, ``Connection: close``. It binds to
a local address (``[health] host``/``port``, default ``127.0.0.1:9464``) and never blocks the
event loop: a synchronous database check runs in a worker thread, with a timeout.

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
exposition of the :class:`~tracker.ops.metrics.Metrics` given; anything else is 404.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Any

from tracker.ops.metrics import Metrics

log = logging.getLogger(__name__)

DatabaseCheck = Callable[[], Awaitable[bool]] | Callable[[], bool]

_MAX_HEADER_LINES = 64
_READ_TIMEOUT = 5.0


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


class HealthServer:
    """``/healthz`` and ``/metrics`` on ``host:port`` (port 0 picks a free one)."""

    def __init__(self, metrics: Metrics, checks: HealthChecks,
                 host: str = "127.0.0.1", port: int = 9464) -> None:
        self.metrics = metrics
        self.checks = checks
        self.host = host
        self.port = port
        self._server: asyncio.Server | None = None

    async def start(self) -> HealthServer:
        """Bind and start serving; ``self.port`` is the bound port afterwards."""
        self._server = await asyncio.start_server(self._handle, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        log.info("health_server_started", extra={"host": self.host, "port": self.port})
        return self

    async def stop(self) -> None:
        """Stop accepting and close the listening socket."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> HealthServer:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(_READ_TIMEOUT):
                request = await reader.readline()
                for _ in range(_MAX_HEADER_LINES):
                    line = await reader.readline()
                    if line in (b"\r\n", b"\n", b""):
                        break
            status, content_type, body, head = await self._respond(request)
            reason = HTTPStatus(status).phrase
            headers = (f"HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\n"
                       f"Content-Length: {len(body)}\r\nConnection: close\r\n"
                       "Cache-Control: no-store\r\n\r\n")
            writer.write(headers.encode("ascii") + (b"" if head else body))
            await writer.drain()
        except (TimeoutError, ConnectionError, ValueError):
            pass
        except Exception:
            log.exception("health_request_failed")
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def _respond(self, request: bytes) -> tuple[int, str, bytes, bool]:
        parts = request.decode("latin-1").split()
        if len(parts) != 3 or not parts[2].startswith("HTTP/"):
            return 400, "text/plain; charset=utf-8", b"bad request\n", False
        method, target = parts[0], parts[1].split("?", 1)[0]
        head = method == "HEAD"
        if method not in ("GET", "HEAD"):
            return 405, "text/plain; charset=utf-8", b"method not allowed\n", False
        if target == "/healthz":
            status, report = await health_report(self.checks)
            body = (json.dumps(report, ensure_ascii=False) + "\n").encode("utf-8")
            return status, "application/json", body, head
        if target == "/metrics":
            data, content_type = self.metrics.render()
            return 200, content_type, data, head
        return 404, "text/plain; charset=utf-8", b"not found\n", head


async def start_health_server(metrics: Metrics, checks: HealthChecks,
                              host: str = "127.0.0.1", port: int = 9464) -> HealthServer:
    """Build and start a :class:`HealthServer`; call ``await server.stop()`` when done."""
    return await HealthServer(metrics, checks, host, port).start()
