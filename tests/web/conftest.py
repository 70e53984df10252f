"""A desk over a timeline the real pipeline built from a loopback feed, served by uvicorn."""

from __future__ import annotations

import html
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from email.utils import format_datetime
from typing import Any

import pytest

from tests.conftest import Clock
from tests.pipeline.helpers import make_config, running
from tests.support.feedserver import FeedServer, Item, rss
from tracker.app import App, desk_app
from tracker.config import Config
from tracker.ops.asgi import AsgiServer
from tracker.ops.health import HealthChecks, health_routes
from tracker.ops.metrics import Metrics
from tracker.ops.probes import sql_ping

HOSTILE_TITLE = "<script>alert(1)</script> إنفيديا تطلق شريحة ذكاء اصطناعي جديدة"
INJECTED_TITLE = '"><img src=x onerror=alert(2)> هواوي تبدأ الإنتاج الضخم لرقائق أسيند 910C'
PERMIT_TITLE = "واشنطن تمنح إنفيديا تراخيص لتصدير رقائق H20 إلى الصين"
PLAIN_TITLE = "أمطار غزيرة على العاصمة مع بداية الأسبوع"  # no event


@dataclass
class Desk:
    url: str
    app: App
    config: Config
    clock: Clock


def items(clock: Clock) -> list[Item]:
    when = format_datetime(clock() - timedelta(hours=1), usegmt=True)
    old = format_datetime(clock() - timedelta(days=5), usegmt=True)
    return [
        Item(title=PERMIT_TITLE, link="/n/1", guid="1", pub_date=when),
        # entity-escaped in the feed, so the stored display text holds the markup as text
        Item(title=html.escape(HOSTILE_TITLE), link="javascript:alert(3)", guid="2",
             pub_date=when),
        Item(title=html.escape(INJECTED_TITLE), link="/n/3", guid="3", pub_date=old),
        Item(title=PLAIN_TITLE, link="/n/4", guid="4", pub_date=when),
    ]


@pytest.fixture
async def desk(sqlite_url: str, clock: Clock) -> AsyncIterator[Desk]:
    """A populated desk on 127.0.0.1 (a free port), with a console watchlist for Nvidia."""
    with FeedServer() as srv:
        srv.add("/f.xml", rss(items(clock)), content_type="application/rss+xml")
        cfg = make_config(sqlite_url, [{"url": srv.url("/f.xml"), "name": "منفذ <b>"}],
                          [{"name": "nvidia-desk", "entities": ["nvidia"],
                            "chats": ["console"]}])
        async with running(cfg, clock) as (app, _out):
            await app.pipeline.run_cycle(all_feeds=True)
            metrics = Metrics(version="test")
            metrics.observe_poll("error", "timeout")
            checks = HealthChecks(sql_ping(app.store.engine), lambda: True, lambda: None, "t")
            asgi = desk_app(cfg, app.store, app.classifier, clock, host="127.0.0.1",
                            routes=health_routes(metrics, checks))
            async with AsgiServer(asgi, "127.0.0.1", 0) as server:
                yield Desk(f"http://127.0.0.1:{server.port}", app, cfg, clock)


def first_id(app: App, table: Any, **where: Any) -> int:
    from sqlmodel import Session, select

    with Session(app.store.engine) as s:
        q = select(table)
        for k, v in where.items():
            q = q.where(getattr(table, k) == v)
        row = s.exec(q).first()
        assert row is not None
        return int(row.id)
