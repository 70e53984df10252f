"""Poll benchmark: a full tracker poll cycle against a serial feedparser baseline.

A loopback feed server runs in a child process (its CPU is not ours), serving ``--feeds``
RSS feeds of ``--items`` Arabic items each, spread over ``--hosts`` loopback addresses
(127.0.0.2 …), every response delayed ``--latency`` seconds with ``asyncio.sleep`` so the
server is never the bottleneck. Every feed has an ETag and Last-Modified and answers 304 to
a matching conditional GET (RFC 7232).

Phases, each measured in a fresh Python process running only that phase (so its wall time,
CPU time of all its threads and peak memory belong to that phase alone):

- fetch+parse  the baseline's own work (fetch and parse, nothing stored) done tracker's way:
            all feeds concurrently, per-host limited, parsed in worker threads;
- cold      ``tracker_cycle`` on an empty store: every feed fetched, parsed, stored,
            classified and placed on the timeline;
- warm      ``tracker_cycle`` again: every feed answers 304 to the stored validators;
- baseline  ``feedparser.parse(url)`` one feed after another (what a naive reader does);
            ``--baseline-sample K`` measures K feeds and extrapolates (printed as such);
- reader    the ``reader`` library (lemon24): ``update_feeds(workers=20)`` into its own
            SQLite file — fetch, parse and store, no classification and no timeline (the
            ``bench`` dependency group installs it; skipped where it is absent).

Per item: the cold cycle's CPU time divided by the items it stored. The cold phase also
records the process's RSS once the app is open (config, engine, classifier with the shipped
learned model, migrations), i.e. before the first poll.

Memory is the growth of the phase process's peak RSS (``ru_maxrss``) from just before the
phase (interpreter and imports loaded) to its end, and the absolute peak RSS.

``tracker_cycle(urls, memory)`` is the one replaceable piece: swap its body for the full
pipeline (``tracker poll --once`` with the store, kept in ``memory.work``) and the rest of
the script stays as it is.

Run: ``.venv/bin/python bench/bench_poll.py [--feeds 500] [--baseline-sample K]``
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

import feedparser

from tests.support.feedserver import FeedServer, FeedServerProcess, Item, http_date, rss
from tracker.errors import FeedError
from tracker.feeds.fetch import Fetcher, FetchSettings, FetchState, build_client
from tracker.feeds.poll import fetch_and_parse

SETTINGS = FetchSettings(
    connect_timeout=10.0,
    read_timeout=30.0,
    max_body_bytes=5_000_000,
    per_host=2,
    max_connections=100,
    user_agent="tracker-bench/0.1",
)

# --- the feeds (built in the server process) -------------------------------------------------

COMPANIES = ["إنفيديا", "هواوي", "علي بابا", "ميتا إكس", "كامبريكون", "إس إم آي سي", "بايدو",
             "تينسنت", "إيه إم دي", "تي إس إم سي", "مور ثريدز", "بيرن تكنولوجي"]  # fmt: skip
PRODUCTS = ["شريحة H20", "معالج أسيند 910C", "رقاقة B30A", "مسرّع MI308", "رقاقة استدلال جديدة",
            "شريحة تدريب من الجيل التالي", "ذاكرة HBM3E", "وحدة معالجة رسومية للخوادم"]  # fmt: skip
TITLES = [
    "{c} تكشف عن {p} لمراكز البيانات في الصين",
    "مصادر: {c} تستعد للإنتاج الضخم لـ{p} قبل نهاية العام",
    "واشنطن تمنح {c} ترخيصاً لاستئناف تصدير {p}",
    "بكين تحث الشركات المحلية على تجنب شراء {p} من {c}",
    "إيرادات {c} من الحوسبة السحابية تنمو بنسبة {n}% في الربع الماضي",
    "{c} تواجه صعوبة في زيادة الطاقة الإنتاجية لـ{p}",
    "الجهات التنظيمية الصينية تستدعي {c} بشأن مخاطر أمنية في {p}",
    "{c} تبدأ شحن {p} إلى عملاء في الشرق الأوسط",
]
PARAGRAPHS = [
    "قالت الشركة في بيان يوم الأربعاء إن {p} سيتوفر للعملاء خلال الأشهر المقبلة، "
    "مشيرة إلى أن الطلب على رقائق الذكاء الاصطناعي لا يزال يفوق المعروض.",
    "وأضاف مسؤول تنفيذي أن {c} استثمرت أكثر من {n} مليار دولار في البحث والتطوير، "
    "في إطار سباق محتدم بين الولايات المتحدة والصين على أشباه الموصلات.",
    "ونفت {c} في وقت سابق وجود أي ثغرات أو أبواب خلفية في منتجاتها، "
    "مؤكدة التزامها بمعايير الأمن المعمول بها في جميع الأسواق.",
    "ويرى محللون أن القيود الأمريكية الجديدة قد تدفع الشركات الصينية إلى تسريع تطوير "
    "بدائل محلية، رغم صعوبات تواجهها المصانع في رفع الطاقة الإنتاجية.",
]
DATES = ["{d} Aug 2025 {h:02d}:15:00 +0300", "الأحد، {d} أغسطس 2025 {h:02d}:30 GMT+3",
         "{d} آب 2025 {h:02d}:45", "{d} أوت 2025 {h:02d}:00 AST"]  # fmt: skip
LAST_MODIFIED = datetime(2025, 8, 30, 12, 0, tzinfo=UTC)


def make_feed(feed: int, items: int) -> bytes:
    """RSS bytes of one benchmark feed: ``items`` Arabic items with GUIDs, links and dates."""
    entries = []
    for i in range(items):
        k = feed * 7 + i
        words = {"c": COMPANIES[k % len(COMPANIES)], "p": PRODUCTS[(k // 3) % len(PRODUCTS)],
                 "n": 5 + k % 40}  # fmt: skip
        body = "".join(f"<p>{PARAGRAPHS[(k + j) % len(PARAGRAPHS)]}</p>" for j in range(3))
        entries.append(
            Item(
                title=TITLES[k % len(TITLES)].format(**words) + f" — تقرير {feed}-{i}",
                link=f"/news/{feed}/{i}.html",
                guid=f"site{feed}-article-{i}",
                guid_is_permalink=False,
                description=body.format(**words),
                pub_date=DATES[k % len(DATES)].format(d=1 + i % 28, h=k % 24),
            )
        )
    return rss(entries, title=f"أخبار التقنية {feed}", link="/")


def setup_server(server: FeedServer, feeds: int, items: int, latency: float) -> None:
    """Register every benchmark feed on ``server`` (runs in the server's process)."""
    for feed in range(feeds):
        server.add(
            f"/feeds/{feed}.xml",
            make_feed(feed, items),
            content_type="application/rss+xml; charset=utf-8",
            etag=f'"feed-{feed}-v1"',
            last_modified=http_date(LAST_MODIFIED - timedelta(minutes=feed)),
            delay=latency,
        )


REPO = Path(__file__).resolve().parents[1]

# --- the cycle under test (the replaceable piece) --------------------------------------------


@dataclass
class CycleMemory:
    """What the cycle remembers between phases (each phase is a separate process).

    ``states`` are the validators, saved to ``work`` after cold and loaded for warm. A full
    pipeline version of ``tracker_cycle`` can ignore them and keep its SQLite store in
    ``work`` (e.g. ``work / "tracker.db"``), which outlives the phase processes.
    """

    work: Path
    states: dict[str, FetchState] = field(default_factory=dict)
    cycle: tuple[float, float] | None = None  # (wall, cpu) of the cycle alone
    startup: tuple[float, float] | None = None  # (wall, cpu) of opening the app
    ready_rss_mb: float | None = None  # RSS with the app open, before the first poll


@dataclass(frozen=True)
class CycleStats:
    """What one cycle did."""

    feeds: int
    fetched: int
    not_modified: int
    entries: int
    errors: int


async def tracker_cycle(urls: Sequence[str], memory: CycleMemory) -> CycleStats:
    """One full ``tracker poll --once`` cycle over ``urls``: fetch, decode, parse, store
    (SQLite in ``memory.work``, which outlives the phase), classify, place on the timeline.
    The validators live in the store, so the warm phase sends them from there."""
    from tracker.app import open_app
    from tracker.config import parse_config

    raw = {
        "database": {"url": f"sqlite:///{memory.work / 'tracker.db'}"},
        "scheduler": {"max_concurrent_feeds": 500},
        "fetch": {"per_host": SETTINGS.per_host, "max_body_bytes": SETTINGS.max_body_bytes,
                  "connect_timeout": SETTINGS.connect_timeout,
                  "read_timeout": SETTINGS.read_timeout},
        "health": {"enabled": False},
        "feeds": [{"url": u, "name": f"feed {i}"} for i, u in enumerate(urls)],
    }
    config = parse_config(raw, REPO / "config" / "tracker.toml", env={})
    started = (time.perf_counter(), time.process_time())
    async with open_app(config, lambda: datetime.now(UTC), io.StringIO()) as app:
        memory.ready_rss_mb = _rss_mb()
        cycle = (time.perf_counter(), time.process_time())
        report = await app.pipeline.run_cycle(all_feeds=True)
        memory.cycle = (time.perf_counter() - cycle[0], time.process_time() - cycle[1])
        memory.startup = (cycle[0] - started[0], cycle[1] - started[1])
    return CycleStats(
        feeds=len(urls),
        fetched=sum(1 for f in report.feeds if f.status == "ok"),
        not_modified=sum(1 for f in report.feeds if f.status == "not_modified"),
        entries=report.total("new_items"),
        errors=report.errors,
    )


async def fetch_parse_cycle(urls: Sequence[str]) -> CycleStats:
    """The same work as the baseline (fetch and parse, no store, no classification), done
    the way tracker's cycle does it: all feeds concurrently, per-host limited, parsed in
    worker threads."""
    now = datetime.now(UTC)
    async with build_client(SETTINGS) as client:
        fetcher = Fetcher(client, SETTINGS)

        async def one(url: str) -> tuple[int, bool]:
            try:
                outcome = await fetch_and_parse(fetcher, url, None, now=now)
            except FeedError:
                return 0, True
            return (len(outcome.feed.entries) if outcome.feed else 0), False

        results = await asyncio.gather(*(one(url) for url in urls))
    errors = sum(1 for _, err in results if err)
    return CycleStats(len(urls), len(urls) - errors, 0, sum(n for n, _ in results), errors)


def baseline(urls: Sequence[str]) -> CycleStats:
    """A naive reader: ``feedparser.parse(url)`` one feed after another."""
    entries = errors = 0
    for url in urls:
        data = feedparser.parse(url, agent="tracker-bench-baseline/0.1")
        entries += len(data.entries)
        errors += 1 if data.get("status") != 200 else 0
    return CycleStats(len(urls), len(urls) - errors, 0, entries, errors)


# --- measuring (each phase in its own process) ------------------------------------------------


@dataclass(frozen=True)
class Measure:
    """One measured phase."""

    name: str
    stats: CycleStats
    wall: float
    cpu: float
    rss_growth_mb: float
    rss_peak_mb: float
    note: str = ""
    ready_rss_mb: float | None = None


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _rss_mb() -> float:
    """The current resident set size (Linux: /proc/self/statm, in pages)."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * resource.getpagesize() / 2**20


def reader_cycle(urls: Sequence[str], work: Path) -> CycleStats:
    """The reader library's update: every feed fetched, parsed and stored in SQLite."""
    from reader import make_reader

    reader = make_reader(str(work / "reader.sqlite"))
    for url in urls:
        reader.add_feed(url, exist_ok=True)
    errors = 0
    for _url, value in reader.update_feeds_iter(workers=20):
        errors += 1 if isinstance(value, Exception) else 0
    entries = reader.get_entry_counts().total or 0
    reader.close()
    return CycleStats(len(urls), len(urls) - errors, 0, entries, errors)


def run_phase(phase: str, work: Path) -> Measure:
    """Run one phase in this (fresh) process; cold and warm read and write the validators."""
    urls: list[str] = json.loads((work / "urls.json").read_text())
    memory = CycleMemory(work)
    if phase == "warm":
        saved = json.loads((work / "states.json").read_text())
        memory.states = {url: FetchState(**state) for url, state in saved.items()}
    rss, cpu, wall = _maxrss_mb(), time.process_time(), time.perf_counter()
    if phase == "fetch+parse":
        stats = asyncio.run(fetch_parse_cycle(urls))
    elif phase == "baseline":
        stats = baseline(urls)
    elif phase == "reader":
        stats = reader_cycle(urls, work)
    else:
        stats = asyncio.run(tracker_cycle(urls, memory))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    peak = _maxrss_mb()
    note = ""
    if memory.cycle is not None and memory.startup is not None:
        note = (f"cycle alone; start-up (config, engine, migrations, feed sync) "
                f"{memory.startup[0]:.2f} s wall more")
        wall, cpu = memory.cycle
    if phase == "cold":
        states = {url: asdict(state) for url, state in memory.states.items()}
        (work / "states.json").write_text(json.dumps(states))
    return Measure(phase, stats, wall, cpu, peak - rss, peak, note, memory.ready_rss_mb)


def spawn_phase(phase: str, work: Path) -> Measure:
    """Run ``phase`` in a child Python process and read its measure back."""
    done = subprocess.run(
        [sys.executable, __file__, "--phase", phase, "--work", str(work)],
        check=True,
        capture_output=True,
        text=True,
    )
    data = json.loads(done.stdout.strip().splitlines()[-1])
    data["stats"] = CycleStats(**data["stats"])
    return Measure(**data)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--feeds", type=int, default=500)
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--hosts", type=int, default=50, help="loopback addresses 127.0.0.2…")
    parser.add_argument("--latency", type=float, default=0.2, help="server delay, seconds")
    parser.add_argument(
        "--baseline-sample",
        type=int,
        default=0,
        metavar="K",
        help="measure K feeds serially and extrapolate (default: all, if under ~3 minutes)",
    )
    parser.add_argument("--skip", nargs="*", default=[], choices=["baseline", "reader"],
                        help="phases to leave out")
    parser.add_argument("--phase", choices=["fetch+parse", "cold", "warm", "baseline",
                                            "reader"], help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.phase:
        print(json.dumps(asdict(run_phase(args.phase, args.work))))
        return 0
    if args.baseline_sample == 0 and args.feeds * (args.latency + 0.025) > 180:
        args.baseline_sample = max(1, int(180 / (args.latency + 0.025)))
        print(f"a full baseline would take over 3 minutes: sampling {args.baseline_sample} feeds")

    hosts = [f"127.0.0.{2 + i}" for i in range(args.hosts)]
    print(
        f"feed server: {args.feeds} feeds x {args.items} items on {len(hosts)} addresses, "
        f"{args.latency * 1000:.0f} ms latency; per_host={SETTINGS.per_host}",
        flush=True,
    )
    with (
        FeedServerProcess(setup_server, args.feeds, args.items, args.latency, hosts=hosts) as srv,
        tempfile.TemporaryDirectory() as tmp,
    ):
        work = Path(tmp)
        urls = [srv.url(f"/feeds/{i}.xml", host=i % len(hosts)) for i in range(args.feeds)]
        (work / "urls.json").write_text(json.dumps(urls))
        fetch_only = spawn_phase("fetch+parse", work)
        print(f"fetch+parse done in {fetch_only.wall:.1f} s", flush=True)
        cold = spawn_phase("cold", work)
        print(f"cold done in {cold.wall:.1f} s", flush=True)
        warm = spawn_phase("warm", work)
        print(f"warm done in {warm.wall:.1f} s", flush=True)
        other: Measure | None = None
        if "reader" not in args.skip and _has_reader():
            other = spawn_phase("reader", work)
            print(f"reader done in {other.wall:.1f} s", flush=True)
        sample = urls[: args.baseline_sample] if args.baseline_sample else urls
        if "baseline" in args.skip:
            sample = urls[:1]
        (work / "urls.json").write_text(json.dumps(sample))
        base = spawn_phase("baseline", work)
        served = srv.request_count()
    if len(sample) < len(urls):
        scale = len(urls) / len(sample)
        stats = CycleStats(len(urls), round(base.stats.fetched * scale), 0,
                           round(base.stats.entries * scale), base.stats.errors)  # fmt: skip
        base = Measure("baseline", stats, base.wall * scale, base.cpu * scale,
                       base.rss_growth_mb, base.rss_peak_mb,
                       f"EXTRAPOLATED from {len(sample)} feeds (x{scale:.1f})")  # fmt: skip
    else:
        base = Measure(base.name, base.stats, base.wall, base.cpu, base.rss_growth_mb,
                       base.rss_peak_mb, "measured in full")  # fmt: skip
    _report([fetch_only, cold, warm, base], served, other)
    return 0


def _has_reader() -> bool:
    import importlib.util

    return importlib.util.find_spec("reader") is not None


def _report(rows: Sequence[Measure], served: int, other: Measure | None = None) -> None:
    print()
    head = (f"{'phase':<11} {'feeds':>5} {'fetched':>7} {'304':>5} {'entries':>7} {'errors':>6} "
            f"{'wall s':>8} {'cpu s':>7} {'mem+ MB':>8} {'peak MB':>8}  note")  # fmt: skip
    print(head)
    print("-" * len(head))
    for m in [*rows, *([other] if other else [])]:
        print(f"{m.name:<11} {m.stats.feeds:>5} {m.stats.fetched:>7} {m.stats.not_modified:>5} "
              f"{m.stats.entries:>7} {m.stats.errors:>6} {m.wall:>8.2f} {m.cpu:>7.2f} "
              f"{m.rss_growth_mb:>8.1f} {m.rss_peak_mb:>8.1f}  {m.note}")  # fmt: skip
    fetch_only, cold, warm, base = rows
    print()
    for name, m in (("fetch+parse (the baseline's work)", fetch_only),
                    ("full cold cycle (+ store, classify, timeline)", cold)):
        speedup = base.wall / m.wall if m.wall else float("inf")
        print(f"{name} speed-up vs baseline (wall): {speedup:.1f}x (target >= 10x: "
              f"{'OK' if speedup >= 10 else 'MISSED'})")  # fmt: skip
    print(f"warm cycle: {warm.wall:.2f} s (target < 3 s: {'OK' if warm.wall < 3 else 'MISSED'})")
    if cold.stats.entries:
        per_item = cold.cpu / cold.stats.entries * 1000
        print(f"cold cycle CPU per stored item: {per_item:.2f} ms (target <= 0.7 ms: "
              f"{'OK' if per_item <= 0.7 else 'MISSED'})")
    cold_speedup = base.wall / cold.wall if cold.wall else float("inf")
    print(f"cold cycle vs baseline (wall): {cold_speedup:.1f}x (target >= 7x: "
          f"{'OK' if cold_speedup >= 7 else 'MISSED'})")
    if other is not None and other.wall:
        ratio = cold.wall / other.wall
        print(f"cold cycle vs reader (wall): {ratio:.2f}x reader's time (target <= 1.5x: "
              f"{'OK' if ratio <= 1.5 else 'MISSED'}); reader "
              f"{other.cpu / max(1, other.stats.entries) * 1000:.2f} ms CPU per item")
    if cold.ready_rss_mb is not None:
        print(f"daemon RSS with the app open, before the first poll: {cold.ready_rss_mb:.1f} "
              f"MB; peak during the cold cycle {cold.rss_peak_mb:.1f} MB, warm "
              f"{warm.rss_peak_mb:.1f} MB")
    print(f"requests served by the feed server: {served}")
    print(
        "cpu s: CPU time of the phase process (all threads; the server runs elsewhere); "
        "mem+ MB: growth of its peak RSS during the phase; peak MB: its peak RSS"
    )


if __name__ == "__main__":
    raise SystemExit(main())
