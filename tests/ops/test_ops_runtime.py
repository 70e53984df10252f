"""Operations: health server, READY/STOPPING and a watchdog that stops when the daemon hangs
(real sockets)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from tracker.ops.metrics import Metrics
from tracker.ops.runtime import Operations, OpsSettings

NOW = datetime(2025, 8, 29, 12, 0, tzinfo=UTC)


@pytest.fixture
def notify(tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    path = str(tmp_path / "notify")
    sock.bind(path)
    sock.setblocking(False)
    yield sock, path
    sock.close()


def _drain(sock: socket.socket) -> list[bytes]:
    out = []
    while True:
        try:
            out.append(sock.recv(4096))
        except BlockingIOError:
            return out


async def _ok() -> bool:
    return True


async def test_start_serves_health_notifies_and_pings(notify: tuple[socket.socket, str]
                                                      ) -> None:
    """start → /healthz answers, READY=1 and WATCHDOG=1 arrive; stop → STOPPING=1, port shut."""
    sock, path = notify
    clock = [NOW]
    ops = Operations(OpsSettings(health_port=0, max_cycle_age=timedelta(minutes=5)),
                     Metrics(), "0.1.0",
                     env={"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "20000"},
                     clock=lambda: clock[0])
    await ops.start(check_database=_ok, scheduler_running=lambda: True,
                    last_cycle_at=lambda: NOW, status="polling 3 feeds")
    assert ops.server is not None
    port = ops.server.port
    async with httpx.AsyncClient() as client:
        r = await client.get(f"http://127.0.0.1:{port}/healthz")
        assert r.status_code == 200 and r.json()["version"] == "0.1.0"
    await asyncio.sleep(0.05)
    got = _drain(sock)
    assert got[0] == b"READY=1\nSTATUS=polling 3 feeds" and b"WATCHDOG=1" in got[1:]
    clock[0] = NOW + timedelta(minutes=6)  # the last cycle is now too old: withhold pings
    assert not ops.alive()
    await asyncio.sleep(0.03)
    _drain(sock)
    await asyncio.sleep(0.05)
    assert _drain(sock) == []
    await ops.stop()
    assert _drain(sock) == [b"STOPPING=1"]
    with pytest.raises(OSError):
        _r, w = await asyncio.open_connection("127.0.0.1", port)
        w.close()


async def test_reload_notifications(notify: tuple[socket.socket, str]) -> None:
    """reloading() sends RELOADING=1 and reloaded() READY=1 again."""
    sock, path = notify
    ops = Operations(OpsSettings(health_enabled=False), Metrics(), env={"NOTIFY_SOCKET": path})
    ops.reloading()
    ops.reloaded("reloaded")
    got = _drain(sock)
    assert got[0].startswith(b"RELOADING=1\nMONOTONIC_USEC=")
    assert got[1] == b"READY=1\nSTATUS=reloaded"


async def test_without_systemd_and_health_disabled_nothing_listens() -> None:
    """Outside systemd with [health] disabled, start and stop do nothing visible."""
    ops = Operations(OpsSettings(health_enabled=False), Metrics(), env={})
    await ops.start(check_database=_ok, scheduler_running=lambda: True,
                    last_cycle_at=lambda: None)
    assert ops.server is None and ops.watchdog_every is None and ops.alive()
    await ops.stop()


async def test_port_in_use_is_logged_and_the_daemon_goes_on(caplog: pytest.LogCaptureFixture
                                                            ) -> None:
    """A health port already taken logs health_server_failed instead of stopping tracker."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        ops = Operations(OpsSettings(health_port=port), Metrics(), env={})
        await ops.start(check_database=_ok, scheduler_running=lambda: False,
                        last_cycle_at=lambda: None)
        assert ops.server is None and not ops.alive()
        assert "health_server_failed" in caplog.text
        await ops.stop()
