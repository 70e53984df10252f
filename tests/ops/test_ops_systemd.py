"""systemd notification over a real unix datagram socket, and the watchdog interval."""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tracker.ops.systemd import SystemdNotifier, watchdog_interval, watchdog_loop


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    path = str(tmp_path / "notify")
    sock.bind(path)
    sock.settimeout(2)
    yield sock, path
    sock.close()


def test_ready_stopping_and_watchdog_reach_the_socket(listener: tuple[socket.socket, str]
                                                     ) -> None:
    """READY=1 (with STATUS), STOPPING=1 and WATCHDOG=1 arrive as datagrams on $NOTIFY_SOCKET."""
    sock, path = listener
    n = SystemdNotifier({"NOTIFY_SOCKET": path})
    assert n.enabled
    assert n.ready("polling 14 feeds")
    assert sock.recv(4096) == b"READY=1\nSTATUS=polling 14 feeds"
    assert n.watchdog()
    assert sock.recv(4096) == b"WATCHDOG=1"
    assert n.stopping()
    assert sock.recv(4096) == b"STOPPING=1"
    assert n.status("idle")
    assert sock.recv(4096) == b"STATUS=idle"


def test_reloading_carries_a_monotonic_timestamp(listener: tuple[socket.socket, str]) -> None:
    """RELOADING=1 is sent with MONOTONIC_USEC, as Type=notify-reload requires."""
    sock, path = listener
    assert SystemdNotifier({"NOTIFY_SOCKET": path}).reloading()
    lines = sock.recv(4096).decode().split("\n")
    assert lines[0] == "RELOADING=1" and lines[1].startswith("MONOTONIC_USEC=")
    assert int(lines[1].split("=")[1]) > 0


def test_abstract_namespace_socket() -> None:
    """A $NOTIFY_SOCKET starting with '@' is the Linux abstract namespace (leading NUL)."""
    name = f"tracker-test-{uuid.uuid4().hex}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(2)
        assert SystemdNotifier({"NOTIFY_SOCKET": "@" + name}).ready()
        assert sock.recv(4096) == b"READY=1"


def test_no_socket_is_a_no_op() -> None:
    """Without $NOTIFY_SOCKET (or with a relative one) every call does nothing and says so."""
    for env in ({}, {"NOTIFY_SOCKET": ""}, {"NOTIFY_SOCKET": "relative/path"}):
        n = SystemdNotifier(env)
        assert not n.enabled and not n.ready() and not n.watchdog() and not n.stopping()


def test_unreachable_socket_is_logged_not_raised(tmp_path: Path) -> None:
    """A $NOTIFY_SOCKET nobody listens on makes notify return False instead of raising."""
    assert SystemdNotifier({"NOTIFY_SOCKET": str(tmp_path / "gone")}).ready() is False


@pytest.mark.parametrize(("env", "expected"), [
    ({}, None),
    ({"WATCHDOG_USEC": "60000000"}, 30.0),
    ({"WATCHDOG_USEC": "60000000", "WATCHDOG_PID": str(os.getpid())}, 30.0),
    ({"WATCHDOG_USEC": "60000000", "WATCHDOG_PID": "1"}, None),
    ({"WATCHDOG_USEC": "0"}, None),
    ({"WATCHDOG_USEC": "soon"}, None),
])
def test_watchdog_interval_is_half_of_watchdog_usec(env: dict[str, str],
                                                    expected: float | None) -> None:
    """The ping interval is half of $WATCHDOG_USEC, and None when unset, invalid or for
    another process."""
    assert watchdog_interval(env) == expected


async def test_watchdog_loop_pings_only_while_alive(listener: tuple[socket.socket, str]
                                                   ) -> None:
    """The watchdog loop sends WATCHDOG=1 while alive() is true and withholds it otherwise."""
    sock, path = listener
    sock.setblocking(False)
    alive = [True]
    task = asyncio.create_task(
        watchdog_loop(SystemdNotifier({"NOTIFY_SOCKET": path}), 0.01, lambda: alive[0]))
    await asyncio.sleep(0.05)
    alive[0] = False
    await asyncio.sleep(0.02)
    received = []
    while True:
        try:
            received.append(sock.recv(4096))
        except BlockingIOError:
            break
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert received and set(received) == {b"WATCHDOG=1"}
    with pytest.raises(BlockingIOError):
        sock.recv(4096)
