"""``tracker eval-timeline``: a labelled multi-outlet replay through the real pipeline.

The replay file (TOML, see ``tests/data/replay/multi_outlet.toml``) holds stories — one
real-world event each, or reports that recall (``recap_of``) or deny (``denies``) another
story's event, or a new development (``follows``) of one — with each outlet's headline and
summary, and pairs of stories that must never share a timeline event.

In order: every outlet becomes a feed (RSS served from memory through ``httpx.MockTransport``,
so fetch, decoding and parsing are the real ones), stored in a fresh SQLite database in a
temporary folder; the clock moves report by report (each published at its story's day and
hour, 40 minutes apart) and one cycle polls every feed after each; then the timeline is read
back and scored (:func:`score`): B-cubed precision/recall/F1 of the items' events against
the stories, timeline events and alerts per real event, wrong merges of the hard pairs,
alerts from recaps and denials, follow-ups linked to the event they follow.
"""

from __future__ import annotations

import asyncio
import tempfile
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import httpx

from tracker.timeline.bcubed import bcubed

_SPACING = timedelta(minutes=40)


@dataclass(frozen=True)
class Report:
    id: str  # "<story>/<n>"
    story: str
    outlet: str
    title: str
    summary: str
    published: datetime


@dataclass(frozen=True)
class Story:
    key: str
    type: str
    gold: str  # the real event its reports belong to (itself, or what it recaps or denies)
    alerts: int  # how many alerts it should cause: 1, or 0 for a recap or a denial
    follows: str | None
    reports: tuple[Report, ...]


@dataclass(frozen=True)
class Replay:
    stories: tuple[Story, ...]
    pairs: tuple[tuple[str, str, str], ...]

    @property
    def reports(self) -> list[Report]:
        return sorted((r for s in self.stories for r in s.reports),
                      key=lambda r: (r.published, r.id))


def load_replay(path: Path) -> Replay:
    """Read a replay file; ValueError names the story at fault."""
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    start = datetime.fromisoformat(str(raw["start"]).replace("Z", "+00:00"))
    stories = []
    keys = {s["key"] for s in raw["stories"]}
    for s in raw["stories"]:
        key = s["key"]
        target = s.get("recap_of") or s.get("denies")
        for ref in (target, s.get("follows")):
            if ref is not None and ref not in keys:
                raise ValueError(f"{path}: story {key!r} refers to unknown story {ref!r}")
        first = start + timedelta(days=s["day"], hours=s.get("hour", 8))
        reports = tuple(
            Report(f"{key}/{n}", key, outlet, title, summary, first + n * _SPACING)
            for n, (outlet, title, summary) in enumerate(s["reports"]))
        stories.append(Story(key, s["type"], target or key, 0 if target else 1,
                             s.get("follows"), reports))
    pairs = tuple((p["a"], p["b"], p.get("why", "")) for p in raw.get("pairs", ()))
    return Replay(tuple(stories), pairs)


# --- scoring (pure) ----------------------------------------------------------------------


@dataclass(frozen=True)
class EventSeen:
    """A timeline event as the scorer reads it."""

    id: int
    type: str
    reports: tuple[str, ...]  # report ids of its sources, first source first
    alerts: int  # alert messages queued for it
    follow_up_of: int | None


@dataclass
class Score:
    precision: float
    recall: float
    f1: float
    real_events: int
    timeline_events: int
    alerts: int
    exactly_one_alert: int  # real events (stories that should alert) with exactly one
    wrong_merges: list[str] = field(default_factory=list)  # "a + b: why"
    silent_alerts: int = 0  # alerts caused by recaps and denials
    follow_ups: int = 0
    follow_ups_linked: int = 0
    problems: list[str] = field(default_factory=list)  # per story: what went wrong


def _main_event(events_of: dict[str, list[EventSeen]], report: Report, type_: str
                ) -> EventSeen | None:
    mine = [e for e in events_of.get(report.id, ()) if e.type == type_]
    return min(mine, key=lambda e: e.id) if mine else None


def score(replay: Replay, events: Sequence[EventSeen]) -> Score:
    """Score a timeline against the replay's labels (see the module docstring)."""
    events_of: dict[str, list[EventSeen]] = {}
    for e in events:
        for rid in e.reports:
            events_of.setdefault(rid, []).append(e)
    gold: dict[str, str] = {}
    predicted: dict[str, str] = {}
    story_of = {r.id: s for s in replay.stories for r in s.reports}
    for s in replay.stories:
        for r in s.reports:
            gold[r.id] = s.gold
            main = _main_event(events_of, r, s.type)
            if main is not None:
                predicted[r.id] = str(main.id)
    b3 = bcubed(gold, predicted)
    created: dict[str, list[EventSeen]] = {}  # events whose first source is the story's
    for e in events:
        if e.reports and (by := story_of.get(e.reports[0])) is not None:
            created.setdefault(by.key, []).append(e)
    out = Score(b3.precision, b3.recall, b3.f1,
                real_events=sum(1 for s in replay.stories if s.alerts),
                timeline_events=len(events), alerts=sum(e.alerts for e in events),
                exactly_one_alert=0)
    main_of = {s.key: next((e for e in created.get(s.key, ()) if e.type == s.type), None)
               for s in replay.stories}
    for s in replay.stories:
        alerted = sum(e.alerts for e in created.get(s.key, ()))
        if s.alerts:
            if alerted == 1:
                out.exactly_one_alert += 1
            else:
                out.problems.append(f"{s.key}: {alerted} alerts")
        elif alerted:
            out.silent_alerts += alerted
            out.problems.append(f"{s.key}: a recap or denial alerted {alerted}×")
        if s.follows:
            out.follow_ups += 1
            mine, theirs = main_of.get(s.key), main_of.get(s.follows)
            if mine and theirs and mine.follow_up_of == theirs.id:
                out.follow_ups_linked += 1
            else:
                out.problems.append(f"{s.key}: not linked to {s.follows}")
    for a, b, why in replay.pairs:
        type_a = next(s.type for s in replay.stories if s.key == a)
        type_b = next(s.type for s in replay.stories if s.key == b)
        for e in events:
            stories = {story_of[r].key for r in e.reports if r in story_of
                       and story_of[r].type == e.type}
            if a in stories and b in stories and e.type in (type_a, type_b):
                out.wrong_merges.append(f"{a} + {b}: {why}")
                break
    return out


# --- running (the edges) -----------------------------------------------------------------


def _rss(outlet: str, reports: Sequence[Report]) -> bytes:
    items = "".join(
        f"<item><title>{escape(r.title)}</title><description>{escape(r.summary)}"
        f"</description><link>https://replay.invalid/{escape(r.id)}</link>"
        f"<guid>{escape(r.id)}</guid><pubDate>{format_datetime(r.published, usegmt=True)}"
        f"</pubDate></item>" for r in reports)
    return (f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
            f"<title>{escape(outlet)}</title>{items}</channel></rss>").encode()


async def run_replay(replay: Replay, config: Any, *, identity: bool = True,
                     engine: Any = None, inspect: Any = None) -> list[EventSeen]:
    """Replay every report through a real pipeline on a fresh SQLite store; the timeline.
    ``inspect(store)``, when given, reads the store before it is thrown away."""
    from dataclasses import replace

    from tracker.app import fetch_settings, load_classifier, pipeline_settings
    from tracker.config import FeedConfig
    from tracker.feeds.fetch import Fetcher
    from tracker.model import Watchlist
    from tracker.pipeline import Pipeline
    from tracker.store.db import make_engine, upgrade
    from tracker.store.desk import DeskStore
    from tracker.store.repo import Store

    engine = engine or load_classifier(config)
    outlets = sorted({r.outlet for r in replay.reports})
    url_of = {o: f"http://replay.invalid/feed{n}.xml" for n, o in enumerate(outlets)}
    published: dict[str, list[Report]] = {url: [] for url in url_of.values()}
    first = replay.reports[0].published
    now = [first - timedelta(hours=1)]

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=_rss(str(request.url), published[str(request.url)]),
                              headers={"content-type": "application/rss+xml"})

    with tempfile.TemporaryDirectory(prefix="tracker-replay-") as tmp:
        db = make_engine(f"sqlite:///{Path(tmp) / 'replay.db'}")
        upgrade(db)
        store = Store(db)
        settings = fetch_settings(config)
        store.sync_feeds([FeedConfig(url=url, name=o, interval=timedelta(minutes=5),
                                     timezone=None) for o, url in url_of.items()], now[0])
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            fetcher = Fetcher(client, settings, clock=lambda: now[0])
            pipeline = Pipeline(
                store, engine, lambda _url: fetcher,
                (Watchlist("replay", chats=("replay",)),), lambda: now[0],
                replace(pipeline_settings(config), identity=identity), "replay")
            await pipeline.run_cycle(all_feeds=True)  # every feed's first, empty fetch
            for r in replay.reports:
                published[url_of[r.outlet]].append(r)
                now[0] = r.published + timedelta(minutes=10)
                await pipeline.run_cycle(all_feeds=True)
        desk = DeskStore(store)
        out = []
        for entry in store.timeline(limit=None, newest_first=False):
            detail = desk.event(entry.event.id)
            assert detail is not None
            out.append(EventSeen(
                entry.event.id, entry.event.type,
                tuple(s.url.rsplit("/", 2)[-2] + "/" + s.url.rsplit("/", 1)[-1]
                      for s in detail.sources if s.url),
                len(detail.alert_chats), entry.event.follow_up_of))
        if inspect is not None:
            inspect(store)
        db.dispose()
        return out


def evaluate(path: Path, config: Any, baseline: bool = True) -> tuple[Score, Score | None]:
    """Replay ``path`` with event identity (and with the old placement, ``baseline``)."""
    from tracker.app import load_classifier

    replay = load_replay(path)
    engine = load_classifier(config)
    mine = score(replay, asyncio.run(run_replay(replay, config, engine=engine)))
    old = (score(replay, asyncio.run(run_replay(replay, config, identity=False, engine=engine)))
           if baseline else None)
    return mine, old
