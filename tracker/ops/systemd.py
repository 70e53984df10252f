"""systemd service notification (``sd_notify``) without libsystemd.

Under ``Type=notify`` systemd passes ``$NOTIFY_SOCKET``: a unix datagram socket path, or an
abstract-namespace name written with a leading ``@`` (sent as a leading NUL byte). We send
``READY=1`` once the daemon serves, ``STOPPING=1`` when it begins to stop, ``RELOADING=1``
(with ``MONOTONIC_USEC``) and ``READY=1`` around a reload, ``STATUS=…`` lines for
``systemctl status``, and ``WATCHDOG=1`` every half of ``$WATCHDOG_USEC`` while the process
is healthy (see systemd's sd_notify(3) and sd_watchdog_enabled(3)).

Without ``$NOTIFY_SOCKET`` (a terminal, a container, tests) every call is a no-op that
returns False. A failed send is logged and never raised: notification must not stop the
daemon.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import Callable, Mapping

log = logging.getLogger(__name__)


def _address(value: str) -> str | None:
    if value.startswith("@"):
        return "\0" + value[1:]
    if value.startswith("/"):
        return value
    return None


class SystemdNotifier:
    """Sends state changes to systemd's notify socket, if there is one."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        env = os.environ if env is None else env
        self.address = _address(env.get("NOTIFY_SOCKET", ""))

    @property
    def enabled(self) -> bool:
        return self.address is not None

    def notify(self, *assignments: str) -> bool:
        """Send ``KEY=value`` lines in one datagram; True if it was sent."""
        if self.address is None:
            return False
        message = "\n".join(assignments).encode("utf-8")
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
                sock.setblocking(False)
                sock.connect(self.address)
                sock.sendall(message)
        except OSError as exc:
            log.warning("systemd_notify_failed", extra={"error": str(exc)})
            return False
        return True

    def ready(self, status: str | None = None) -> bool:
        return self.notify("READY=1", *([f"STATUS={status}"] if status else []))

    def stopping(self, status: str | None = None) -> bool:
        return self.notify("STOPPING=1", *([f"STATUS={status}"] if status else []))

    def reloading(self) -> bool:
        usec = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        return self.notify("RELOADING=1", f"MONOTONIC_USEC={usec}")

    def status(self, text: str) -> bool:
        return self.notify(f"STATUS={text}")

    def watchdog(self) -> bool:
        return self.notify("WATCHDOG=1")


def watchdog_interval(env: Mapping[str, str] | None = None, pid: int | None = None
                      ) -> float | None:
    """Seconds between ``WATCHDOG=1`` pings (half of ``$WATCHDOG_USEC``), or None when off.

    ``$WATCHDOG_PID``, when set, must be this process (``pid``, default ``os.getpid()``).
    """
    env = os.environ if env is None else env
    try:
        usec = int(env.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    if usec <= 0:
        return None
    wpid = env.get("WATCHDOG_PID")
    if wpid and wpid != str(os.getpid() if pid is None else pid):
        return None
    return usec / 2_000_000


async def watchdog_loop(notifier: SystemdNotifier, interval: float,
                        alive: Callable[[], bool] = lambda: True) -> None:
    """Ping the watchdog every ``interval`` seconds while ``alive()``; run it as a task and
    cancel it on stop. A process whose ``alive()`` stays false is restarted by systemd."""
    while True:
        if alive():
            notifier.watchdog()
        else:
            log.warning("systemd_watchdog_withheld")
        await asyncio.sleep(interval)
