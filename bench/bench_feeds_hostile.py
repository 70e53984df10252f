"""Hostile-feed evaluation: tracker's feeds edge against feedparser alone, in one run.

Four measurements, each printed beside its baseline:

1. **dates** — every case of tests/data/feeds/dates/ (the date string, the feed's zone, the
   right UTC instant or "none"). Baseline: feedparser's own date parsing (``_parse_date``,
   zone-less dates read as UTC, as feedparser does). Counted: right, refused (None where a
   date exists), *wrong instant* (the harmful outcome) and raised exceptions.
2. **bodies** — every case of tests/data/feeds/parse/ that names its titles (encodings,
   BOM-less UTF-16/32, double encoding, legacy charsets, JSON Feed, control characters).
   Baseline: ``feedparser.parse(body, response_headers={"content-type": …})``. A case is
   right when every expected title comes out exactly (after white space is collapsed).
3. **gzip bomb** — a 67 MB run of spaces gzipped (≈65 kB), cap 5 MB. Baseline: httpx's own
   decoder fed the same 64 kB network chunks, with the cap checked after each decoded chunk
   (what tracker did). Counted: bytes inflated before the read stops, and the time taken.
4. **throughput** — ``parse_feed`` on a 500-item Arabic RSS body against bare
   ``feedparser.parse`` on the same bytes (median of ``--repeat`` runs), so the cost of the
   extra care is visible.

Run: ``.venv/bin/python bench/bench_feeds_hostile.py [--repeat 5]`` (about 20 s).
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import feedparser
import feedparser.datetimes
from httpx._decoders import GZipDecoder

from tracker.feeds.dates import parse_date
from tracker.feeds.inflate import BodyTooLarge, CappedDecoder
from tracker.feeds.parse import parse_feed

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "feeds"
NOW = datetime(2025, 9, 3, tzinfo=UTC)


def _feedparser_date(value: str) -> datetime | None:
    parsed = feedparser.datetimes._parse_date(value)
    if parsed is None:
        return None
    return datetime(*parsed[:6], tzinfo=UTC)


def bench_dates() -> None:
    cases = [json.loads(p.read_text("utf-8")) for p in sorted((DATA / "dates").glob("*.json"))]
    readers = {"feedparser": lambda c: _feedparser_date(c["input"]),
               "tracker": lambda c: parse_date(c["input"], c["timezone"])}
    print(f"dates: {len(cases)} cases (tests/data/feeds/dates)")
    print(f"  {'reader':<11} {'right':>6} {'refused':>8} {'WRONG':>6} {'raised':>7}")
    for name, read in readers.items():
        right = refused = wrong = raised = 0
        for case in cases:
            expected = datetime.fromisoformat(case["expected"]) if case["expected"] else None
            try:
                got = read(case)
            except Exception:
                raised += 1
                continue
            if got == expected:
                right += 1
            elif got is None:
                refused += 1
            else:
                wrong += 1
        print(f"  {name:<11} {right:>6} {refused:>8} {wrong:>6} {raised:>7}")


def _norm(text: str) -> str:
    return " ".join(text.split())


def bench_bodies() -> None:
    cases = []
    for path in sorted((DATA / "parse").glob("*.json")):
        case = json.loads(path.read_text("utf-8"))
        if "titles" in case["expect"] or "titles_include" in case["expect"]:
            cases.append((path.stem, case, (DATA / "parse" / case["body"]).read_bytes()))
    print(f"\nbodies: {len(cases)} cases with expected titles (tests/data/feeds/parse)")
    results: dict[str, list[str]] = {"feedparser": [], "tracker": []}
    for stem, case, body in cases:
        want = [_norm(t) for t in case["expect"].get("titles") or
                case["expect"]["titles_include"]]
        headers = {"content-type": case["content_type"] or "application/xml"}
        try:
            raw = feedparser.parse(body, response_headers=headers)
            got_fp = [_norm(str(e.get("title", ""))) for e in raw.entries]
        except Exception:
            got_fp = []
        try:
            feed = parse_feed(body, content_type=case["content_type"],
                              final_url="https://news.example/feed", now=NOW,
                              feed_timezone=case["expect"].get("timezone"))
            got_tr = [_norm(e.title) for e in feed.entries]
        except Exception:
            got_tr = []
        for name, got in (("feedparser", got_fp), ("tracker", got_tr)):
            if all(t in got for t in want):
                results[name].append(stem)
    for name, right in results.items():
        missed = sorted({c[0] for c in cases} - set(right))
        print(f"  {name:<11} {len(right):>3}/{len(cases)} right"
              + (f"   missed: {', '.join(missed)}" if missed else ""))


def bench_bomb() -> None:
    cap = 5_000_000
    bomb = gzip.compress(b" " * 67_000_000, compresslevel=9)
    chunks = [bomb[i:i + 65_536] for i in range(0, len(bomb), 65_536)]
    print(f"\ngzip bomb: 67,000,000 bytes in a {len(bomb):,}-byte body "
          f"({len(chunks)} chunks of 64 kB), cap {cap:,}")
    started = time.perf_counter()
    base = GZipDecoder()
    inflated = 0
    for chunk in chunks:
        inflated += len(base.decode(chunk))
        if inflated > cap:
            break
    base_ms = (time.perf_counter() - started) * 1000
    started = time.perf_counter()
    capped = CappedDecoder("gzip", cap)
    try:
        for chunk in chunks:
            capped.feed(chunk)
    except BodyTooLarge as exc:
        ours = exc.decoded
    else:
        ours = capped.size
    ours_ms = (time.perf_counter() - started) * 1000
    print(f"  {'decoder':<26} {'inflated':>12} {'ms':>7}")
    print(f"  {'httpx, cap after chunk':<26} {inflated:>12,} {base_ms:>7.1f}")
    print(f"  {'tracker CappedDecoder':<26} {ours:>12,} {ours_ms:>7.1f}")


def _big_feed(items: int) -> bytes:
    parts = ['<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
             "<title>أخبار الرقائق</title><link>https://news.example/</link>"]
    for i in range(items):
        parts.append(
            f"<item><title>شركة ناشئة تعلن عن معالج رقم {i} لتدريب النماذج</title>"
            f"<link>https://news.example/n/{i}</link><guid>n-{i}</guid>"
            f"<pubDate>Mon, 01 Sep 2025 10:{i % 60:02d}:00 +0300</pubDate>"
            "<description>&lt;p&gt;قالت الشركة إن المعالج الجديد يدخل الإنتاج الضخم في "
            "الربع المقبل بعد اختبارات ناجحة&lt;/p&gt;</description></item>")
    parts.append("</channel></rss>")
    return "\n".join(parts).encode("utf-8")


def bench_throughput(repeat: int) -> None:
    body = _big_feed(500)
    timings: dict[str, list[float]] = {"feedparser.parse": [], "tracker parse_feed": []}
    for _ in range(repeat):
        started = time.perf_counter()
        feedparser.parse(body)
        timings["feedparser.parse"].append(time.perf_counter() - started)
        started = time.perf_counter()
        parse_feed(body, content_type="application/rss+xml; charset=utf-8",
                   final_url="https://news.example/feed", now=NOW)
        timings["tracker parse_feed"].append(time.perf_counter() - started)
    print(f"\nthroughput: a 500-item Arabic RSS body ({len(body):,} bytes), "
          f"median of {repeat}")
    for name, values in timings.items():
        median = statistics.median(values)
        print(f"  {name:<20} {median * 1000:>8.1f} ms   {500 / median:>8.0f} items/s")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    args: Any = parser.parse_args(argv)
    bench_dates()
    bench_bodies()
    bench_bomb()
    bench_throughput(args.repeat)


if __name__ == "__main__":
    main()
