"""What hostile or changing servers do to a feed, one case per fixture in
tests/data/feeds/server/, run through the real pipeline against the loopback feed server.

A fixture gives the ``feed`` path, the scripted ``routes`` (per path, the responses in turn,
the last repeating: ``status``, ``headers``, ``content_type``, ``body`` text — or
``body_cut`` with ``cut_after``, the body cut inside the first character of that text — or
``drip_chunks``/``drip_every``; ``repeat`` ``{"token", "text", "times"}`` puts ``text``
``times`` over where ``token`` stands in the body, for huge fields; ``gzip_bomb`` N, a gzip
body that inflates to N bytes), optional ``config`` sections, the ``cycles`` to run
(``advance_minutes`` first, ``honour_retry_after`` as ``poll --once`` does) and what must
hold: ``statuses`` (of the polls that happened, in order), ``new_items`` per poll, ``items``
stored, ``titles`` (all) or ``titles_include``, ``undated`` items, ``requests`` per path,
``moved_to``, ``retired``, ``failures``, ``error_kind``, ``error_contains``,
``warning_contains``, ``notices`` (how many operator notices contain each text),
``max_title_chars`` (no stored title longer) and ``max_seconds`` for the cycles (not the
app's start-up).
"""

from __future__ import annotations

import gzip
import json
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Clock
from tests.pipeline.helpers import FeedRow, ItemRow, OutboxRow, make_config, rows, running
from tests.support.feedserver import FeedServer, Response

HERE = Path(__file__).parents[1] / "data" / "feeds" / "server"
CASES = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in sorted(HERE.glob("*.json"))}


def _response(spec: dict[str, Any]) -> Response:
    text = spec.get("body", "")
    if "repeat" in spec:
        repeat = spec["repeat"]
        text = text.replace(repeat["token"], repeat["text"] * repeat["times"])
    body = text.encode("utf-8")
    headers = dict(spec.get("headers", {}))
    if "gzip_bomb" in spec:
        body = gzip.compress(b"<rss>" + b" " * spec["gzip_bomb"], compresslevel=9)
        headers["Content-Encoding"] = "gzip"
    if "body_cut" in spec:
        full = spec["body_cut"].encode("utf-8")
        body = full[: full.index(spec["cut_after"].encode("utf-8")) + 1]  # inside a character
    chunks = None
    if "drip_chunks" in spec:
        chunks = tuple(b"<!-- drip -->\n" for _ in range(spec["drip_chunks"]))
        body = b"".join(chunks)
    return Response(status=spec.get("status", 200), body=body,
                    content_type=spec.get("content_type", "application/rss+xml; charset=utf-8"),
                    headers=headers, chunks=chunks,
                    drip=spec.get("drip_every", 0.0))


ON_POSTGRES = ["nul_and_controls_in_title", "guid_churn", "gone_410_retired",
               "too_many_requests_429"]


@pytest.mark.parametrize("name", sorted(CASES))
async def test_server_case(name: str, sqlite_url: str, clock: Clock) -> None:
    """The feed's polls, stored items, state and notices are what the fixture expects."""
    await _run(CASES[name], sqlite_url, clock)


@pytest.mark.postgres
@pytest.mark.parametrize("name", ON_POSTGRES)
async def test_server_case_on_postgres(name: str, database_url: str, clock: Clock) -> None:
    """The cases that touch the database's limits (NUL bytes) and claims hold on PostgreSQL."""
    if database_url.startswith("sqlite"):
        pytest.skip("the SQLite run is test_server_case")
    await _run(CASES[name], database_url, clock)


async def _run(case: dict[str, Any], db_url: str, clock: Clock) -> None:
    expect, why = case["expect"], case["why"]
    with FeedServer() as srv:
        for route, responses in case["routes"].items():
            srv.script(route, [_response(r) for r in responses])
        sections = {"telegram": {"admins": ["ops"]}, **case.get("config", {})}
        cfg = make_config(db_url, [{"url": srv.url(case["feed"]), "name": "feed"}],
                          **sections)
        statuses: list[str] = []
        new_items: list[int] = []
        async with running(cfg, clock) as (app, _):
            started = time.monotonic()  # the polls, not the app's start-up (migrations)
            for cycle in case["cycles"]:
                clock.advance(minutes=cycle.get("advance_minutes", 0))
                report = await app.pipeline.run_cycle(
                    all_feeds=True, honour_retry_after=cycle.get("honour_retry_after", False))
                statuses += [r.status for r in report.feeds]
                new_items += [r.new_items for r in report.feeds]
                errors = [r.error or "" for r in report.feeds]
            polled_for = time.monotonic() - started
            (feed,) = rows(app, FeedRow)
            items = rows(app, ItemRow)
            notices = [o.payload or "" for o in rows(app, OutboxRow) if o.kind == "notice"]
        requests = {route: len(srv.requests_for(route)) for route in case["routes"]}
        base = srv.url("")
    if "statuses" in expect:
        assert statuses == expect["statuses"], why
    if "new_items" in expect:
        assert new_items == expect["new_items"], why
    if "items" in expect:
        assert len(items) == expect["items"], why
    if "titles" in expect:
        assert [i.title for i in items] == expect["titles"], why
    for title in expect.get("titles_include", []):
        assert title in [i.title for i in items], why
    if "undated" in expect:
        assert sum(1 for i in items if i.published is None) == expect["undated"], why
    for route, count in expect.get("requests", {}).items():
        assert requests[route] == count, (why, requests)
    if "moved_to" in expect:
        assert feed.moved_to == (base + expect["moved_to"] if expect["moved_to"] else None), why
    if "retired" in expect:
        assert (feed.retired_at is not None) == expect["retired"], why
    if "failures" in expect:
        assert feed.consecutive_failures == expect["failures"], why
    if "error_kind" in expect:
        assert feed.last_error_kind == expect["error_kind"], why
    if "error_contains" in expect:
        assert any(expect["error_contains"] in e for e in errors), (why, errors)
        assert expect["error_contains"] in (feed.last_error or ""), why
    if "warning_contains" in expect:
        assert expect["warning_contains"] in (feed.last_warning or ""), why
    for text, count in expect.get("notices", {}).items():
        assert sum(1 for n in notices if text in n) == count, (why, notices)
    if "max_title_chars" in expect:
        assert 0 < max(len(i.title) for i in items) <= expect["max_title_chars"], why
    if "max_seconds" in expect:
        assert polled_for < expect["max_seconds"], why
    for item in items:  # nothing a database or a terminal would choke on, and no mojibake
        assert "\x00" not in item.title + item.key + (item.guid or "") and "\x1b" not in item.title
        assert not any(m in item.title for m in ("ط§", "ظ„", "ط¥")), why
