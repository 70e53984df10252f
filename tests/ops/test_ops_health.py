"""The health server, over a real socket: /healthz verdicts, /metrics, 404, HEAD."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tracker.ops.health import HealthChecks, HealthServer, start_health_server
from tracker.ops.metrics import Metrics

CYCLE = datetime(2025, 8, 29, 12, 0, tzinfo=UTC)


async def _ok() -> bool:
    return True


def _checks(**kwargs: Any) -> HealthChecks:
    base: dict[str, Any] = {"check_database": _ok, "scheduler_running": lambda: True,
                            "last_cycle_at": lambda: CYCLE, "version": "0.1.0"}
    base.update(kwargs)
    return HealthChecks(**base)


@pytest.fixture
async def serve() -> AsyncIterator[Callable[..., Any]]:
    servers: list[HealthServer] = []

    async def start(checks: HealthChecks, metrics: Metrics | None = None) -> httpx.AsyncClient:
        server = await start_health_server(metrics or Metrics(), checks, "127.0.0.1", 0)
        servers.append(server)
        client = httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}", timeout=5)
        clients.append(client)
        return client

    clients: list[httpx.AsyncClient] = []
    yield start
    for c in clients:
        await c.aclose()
    for s in servers:
        await s.stop()


async def test_healthz_is_ok_when_database_and_scheduler_are(serve: Any) -> None:
    """All checks passing gives 200 with status, parts, last cycle time and version."""
    client = await serve(_checks())
    r = await client.get("/healthz")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    assert r.json() == {"status": "ok", "database": "ok", "scheduler": "running",
                        "last_cycle_at": "2025-08-29T12:00:00+00:00", "version": "0.1.0"}


async def test_healthz_reports_null_before_the_first_cycle(serve: Any) -> None:
    """Before any cycle has finished, last_cycle_at is null and the process is still healthy."""
    client = await serve(_checks(last_cycle_at=lambda: None))
    r = await client.get("/healthz")
    assert r.status_code == 200 and r.json()["last_cycle_at"] is None


async def test_healthz_fails_when_the_database_check_is_false(serve: Any) -> None:
    """A database check returning false gives 503 naming the database."""
    async def down() -> bool:
        return False
    client = await serve(_checks(check_database=down))
    r = await client.get("/healthz")
    assert r.status_code == 503
    assert r.json()["status"] == "fail" and r.json()["database"] == "unreachable"
    assert r.json()["failing"] == ["database"]


async def test_healthz_fails_when_the_database_check_raises(serve: Any) -> None:
    """A database check that raises counts as unreachable, not as a server error."""
    def boom() -> bool:
        raise ConnectionRefusedError("no server")
    client = await serve(_checks(check_database=boom))
    r = await client.get("/healthz")
    assert r.status_code == 503 and r.json()["database"] == "unreachable"


async def test_sync_database_check_runs_off_the_event_loop(serve: Any) -> None:
    """A synchronous database check runs in a worker thread, not the event loop's thread."""
    threads: list[int] = []

    def check() -> bool:
        threads.append(threading.get_ident())
        return True
    client = await serve(_checks(check_database=check))
    r = await client.get("/healthz")
    assert r.status_code == 200
    assert threads and threads[0] != threading.get_ident()


async def test_slow_database_check_times_out(serve: Any) -> None:
    """A database check slower than db_timeout gives 503 'timeout' without hanging."""
    async def slow() -> bool:
        await asyncio.sleep(5)
        return True
    client = await serve(_checks(check_database=slow, db_timeout=0.05))
    r = await client.get("/healthz")
    assert r.status_code == 503 and r.json()["database"] == "timeout"


async def test_healthz_fails_when_the_scheduler_is_stopped(serve: Any) -> None:
    """A stopped scheduler gives 503 naming the scheduler."""
    client = await serve(_checks(scheduler_running=lambda: False))
    r = await client.get("/healthz")
    assert r.status_code == 503
    assert r.json()["scheduler"] == "stopped" and r.json()["failing"] == ["scheduler"]


async def test_healthz_fails_when_the_last_cycle_is_too_old(serve: Any) -> None:
    """With max_cycle_age set, a last cycle older than it reports the scheduler stalled."""
    checks = _checks(max_cycle_age=timedelta(minutes=5),
                     clock=lambda: CYCLE + timedelta(minutes=6))
    client = await serve(checks)
    r = await client.get("/healthz")
    assert r.status_code == 503 and r.json()["scheduler"] == "stalled"


async def test_metrics_serves_the_prometheus_exposition(serve: Any) -> None:
    """GET /metrics returns the Metrics instance's text with its content type."""
    metrics = Metrics()
    metrics.observe_poll("error", "timeout")
    client = await serve(_checks(), metrics)
    r = await client.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    assert 'tracker_fetch_errors_total{kind="timeout"} 1.0' in r.text


async def test_other_paths_are_404_and_other_methods_405(serve: Any) -> None:
    """Unknown paths are 404, methods other than GET/HEAD 405."""
    client = await serve(_checks())
    assert (await client.get("/")).status_code == 404
    assert (await client.get("/healthz/extra")).status_code == 404
    assert (await client.post("/healthz")).status_code == 405


async def test_head_and_query_strings(serve: Any) -> None:
    """HEAD gets headers without a body; a query string does not change the route."""
    client = await serve(_checks())
    head = await client.head("/healthz")
    assert head.status_code == 200 and head.content == b""
    assert (await client.get("/healthz?verbose=1")).status_code == 200


async def test_garbage_request_line_gets_400(serve: Any) -> None:
    """A request line that is not HTTP gets 400 and the server keeps serving."""
    client = await serve(_checks())
    port = int(str(client.base_url).rsplit(":", 1)[1].rstrip("/"))
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"hello\r\n\r\n")
    await writer.drain()
    data = await reader.read()
    writer.close()
    await writer.wait_closed()
    assert data.startswith(b"HTTP/1.1 400 ")
    assert (await client.get("/healthz")).status_code == 200


async def test_stop_closes_the_port() -> None:
    """After stop the port refuses connections; the server also works as a context manager."""
    async with HealthServer(Metrics(), _checks(), "127.0.0.1", 0) as server:
        port = server.port
        async with httpx.AsyncClient() as client:
            assert (await client.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200
    with pytest.raises(OSError):
        _r, w = await asyncio.open_connection("127.0.0.1", port)
        w.close()
