"""Run an ASGI app under uvicorn inside the running event loop (the daemon's, or its own).

It serves ``/healthz`` and ``/metrics`` (:mod:`tracker.ops.health`) and, in the daemon and
``tracker web``, the desk app around them. :class:`AsgiServer` binds before
:meth:`AsgiServer.start` returns (a taken port raises ``OSError`` there), serves until
:meth:`AsgiServer.stop`, and reports the bound port (``port 0`` picks a free one).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Iterator
from typing import Any

import uvicorn

log = logging.getLogger(__name__)


class _Embedded(uvicorn.Server):
    """uvicorn without its own signal handling: the daemon (or ``tracker web``) owns the
    signals and stops the server itself."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class AsgiServer:
    """One uvicorn server for ``app`` on ``host:port``."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 9464) -> None:
        self.app = app
        self.host = host
        self.port = port
        self._server: _Embedded | None = None
        self._task: asyncio.Task[None] | None = None
        self._socket: socket.socket | None = None

    async def start(self) -> AsgiServer:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host.strip("[]"), self.port))
        except OSError:
            sock.close()
            raise
        sock.listen(128)
        sock.setblocking(False)
        self._socket = sock
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(self.app, log_config=None, access_log=False, lifespan="off",
                                server_header=False, timeout_graceful_shutdown=2)
        self._server = _Embedded(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))
        while not self._server.started:
            if self._task.done():
                self._task.result()
                raise OSError(f"web server on {self.host}:{self.port} did not start")
            await asyncio.sleep(0.01)
        log.info("http_server_started", extra={"host": self.host, "port": self.port})
        return self

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._socket is not None:
            self._socket.close()
        self._server = self._task = self._socket = None

    async def __aenter__(self) -> AsgiServer:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
