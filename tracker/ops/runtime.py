"""Everything operational around one running daemon, started and stopped in one place.

:class:`Operations` owns the health server, the systemd notifier and the watchdog task. The
daemon builds it with the :class:`~tracker.ops.metrics.Metrics` it feeds, calls
:meth:`Operations.start` once its scheduler runs (→ ``/healthz`` serves, ``READY=1``, the
watchdog pings), :meth:`Operations.reloading`/:meth:`Operations.reloaded` around a SIGHUP
reload, and :meth:`Operations.stop` when it stops (→ ``STOPPING=1``, watchdog and server
closed).

The watchdog pings only while the daemon is *alive*: the scheduler runs and, when
``max_cycle_age`` is set, the last poll cycle finished within it. A hung daemon therefore
stops pinging and systemd restarts it after ``WatchdogSec``. A health server that cannot bind
(port taken) is logged as an error and the daemon runs on without it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.applications import Starlette
from starlette.routing import Route

from tracker.ops.asgi import AsgiServer
from tracker.ops.health import DatabaseCheck, HealthChecks, health_routes
from tracker.ops.metrics import Metrics
from tracker.ops.systemd import SystemdNotifier, watchdog_interval, watchdog_loop

log = logging.getLogger(__name__)


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class OpsSettings:
    """``[health]`` settings and the staleness bound shared by ``/healthz`` and the watchdog."""

    health_enabled: bool = True
    health_host: str = "127.0.0.1"
    health_port: int = 9464
    max_cycle_age: timedelta | None = None


class Operations:
    """The health server, systemd notification and watchdog of one daemon."""

    def __init__(self, settings: OpsSettings, metrics: Metrics, version: str = "", *,
                 env: Mapping[str, str] | None = None,
                 clock: Callable[[], datetime] = _utc_now) -> None:
        self.settings = settings
        self.metrics = metrics
        self.version = version
        self.notifier = SystemdNotifier(env)
        self.watchdog_every = watchdog_interval(env)
        self.clock = clock
        self.server: AsgiServer | None = None
        self._watchdog: asyncio.Task[None] | None = None
        self._scheduler_running: Callable[[], bool] = lambda: False
        self._last_cycle_at: Callable[[], datetime | None] = lambda: None

    async def start(self, *, check_database: DatabaseCheck, scheduler_running: Callable[[], bool],
                    last_cycle_at: Callable[[], datetime | None], status: str = "",
                    components: Callable[[], Mapping[str, str]] | None = None,
                    app: Callable[[list[Route]], Any] | None = None) -> None:
        """Serve ``/healthz`` and ``/metrics``, tell systemd we are ready, start the watchdog.

        ``app`` builds the ASGI app around the health routes (the daemon's web desk); without
        it they are served alone. ``components`` names parts whose failure /healthz reports.
        """
        self._scheduler_running = scheduler_running
        self._last_cycle_at = last_cycle_at
        s = self.settings
        if s.health_enabled:
            checks = HealthChecks(check_database, scheduler_running, last_cycle_at,
                                  self.version, max_cycle_age=s.max_cycle_age, clock=self.clock,
                                  components=components or (lambda: {}))
            routes = health_routes(self.metrics, checks)
            asgi = app(routes) if app is not None else Starlette(routes=routes)
            try:
                self.server = await AsgiServer(asgi, s.health_host, s.health_port).start()
            except OSError as exc:
                log.error("health_server_failed", extra={"host": s.health_host,
                                                         "port": s.health_port,
                                                         "error": str(exc)})
        self.notifier.ready(status or None)
        if self.watchdog_every is not None:
            self._watchdog = asyncio.create_task(
                watchdog_loop(self.notifier, self.watchdog_every, self.alive))

    def alive(self) -> bool:
        """The scheduler runs and its last cycle is recent enough (when a bound is set)."""
        if not self._scheduler_running():
            return False
        last, limit = self._last_cycle_at(), self.settings.max_cycle_age
        return last is None or limit is None or self.clock() - last <= limit

    def reloading(self) -> None:
        """A reload (SIGHUP) began."""
        self.notifier.reloading()

    def reloaded(self, status: str = "") -> None:
        """The reload finished."""
        self.notifier.ready(status or None)

    async def stop(self, status: str = "") -> None:
        """Tell systemd we are stopping, end the watchdog, close the health server."""
        self.notifier.stopping(status or None)
        if self._watchdog is not None:
            self._watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watchdog
            self._watchdog = None
        if self.server is not None:
            await self.server.stop()
            self.server = None
