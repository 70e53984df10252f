"""Steady-state benchmark: 1,000 feeds, a few per cent of them changed in each cycle.

bench_poll's feed server (a child process, ``--latency`` per response, ETag and
Last-Modified, 304 to a matching conditional GET) serves ``--feeds`` feeds of ``--items``
items. A cold cycle fills the store; then, ``--cycles`` times, ``--changed`` of the feeds
(a different slice each time) grow by ``--new`` items under a new ETag and one cycle polls
every feed: most answer 304, the changed ones are fetched, parsed, stored, classified and
placed on the timeline.

Each tree's cold cycle runs in one fresh process and its steady cycles in another (a
daemon restarted on a filled store), so the steady process's peak RSS is that of a daemon
that has only ever done steady cycles. ``--before DIR`` runs the same phases with the
tracker package of another source tree (e.g. ``git archive`` of an older commit unpacked
there; same interpreter and packages), against the same server and feeds, for a baseline
in the same run.

Memory: each phase reports the RSS with the app open, after each cycle and at its peak
(``VmHWM``). These run this tree once more, against the same server: ``--arena-max N`` with
``MALLOC_ARENA_MAX=N``, ``--trim`` calling glibc's ``malloc_trim(0)`` after each cycle (the
allocator's share), ``--rules`` with the rule engine alone (no learned model). ``--trace N``
prints the ``N`` source lines that hold the most memory (tracemalloc, which slows the
phase) near each phase's traced peak (sampled five times a second) and at its end.

Run: ``.venv/bin/python bench/bench_churn.py [--feeds 1000] [--before /tmp/old-tree]``
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

REPO = Path(__file__).resolve().parents[1]


# --- the server side (runs in the feed server's process) -------------------------------------


def grow(server: object, feeds: Sequence[int], items: int, version: int,
         latency: float) -> None:
    """Give ``feeds`` ``items`` items (more than before) and a new ETag."""
    from bench.bench_poll import make_feed

    for f in feeds:
        server.add(f"/feeds/{f}.xml", make_feed(f, items),  # type: ignore[attr-defined]
                   etag=f'"feed-{f}-v{version}"', delay=latency)


# --- a phase (runs in a fresh process, tracker imported from --tree) --------------------------


def _rss_mb() -> float:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * resource.getpagesize() / 2**20


def _smaps() -> dict[str, float]:
    """Resident MB by kind of mapping: shared libraries and other files, the main heap
    (glibc's main arena), the 64 MB-aligned heaps of glibc's per-thread arenas, and other
    anonymous memory (pymalloc's arenas, large mmap-ed blocks, thread stacks)."""
    out = dict.fromkeys(("files", "heap", "thread_arenas", "anonymous"), 0.0)
    kind = "anonymous"
    for line in Path("/proc/self/smaps").read_text().splitlines():
        head = line.split()
        if "-" in head[0] and len(head) >= 5 and ":" not in head[0]:  # a mapping's first line
            start, end = (int(x, 16) for x in head[0].split("-"))
            name = head[5] if len(head) > 5 else ""
            if name == "[heap]":
                kind = "heap"
            elif name.startswith("/"):
                kind = "files"
            elif not name and start % (64 << 20) == 0 and end - start <= 64 << 20:
                kind = "thread_arenas"
            else:
                kind = "anonymous"
        elif head[0] == "Rss:":
            out[kind] += int(head[1]) / 1024
    return out


def _top_lines(n: int, snapshot: Any, when: str) -> list[str]:
    """The ``n`` source lines holding the most traced memory in ``snapshot``, as text."""
    stats = snapshot.statistics("lineno")
    total = sum(s.size for s in stats)
    return [f"{when}: traced total {total / 2**20:.1f} MB"] + [
        f"{when}: {s.size / 2**20:7.1f} MB {s.count:8d} blocks  {s.traceback[0].filename}:"
        f"{s.traceback[0].lineno}" for s in stats[:n]]


class PeakSnapshots:
    """Samples tracemalloc's traced total every ``every`` seconds in a thread and keeps a
    snapshot taken near its highest value (within ``step`` bytes)."""

    def __init__(self, every: float = 0.2, step: int = 2 << 20) -> None:
        import threading

        self.best: Any = None
        self._high = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(every, step), daemon=True)
        self._thread.start()

    def _run(self, every: float, step: int) -> None:
        import tracemalloc

        while not self._stop.wait(every):
            current = tracemalloc.get_traced_memory()[0]
            if current > self._high + step:
                self._high = current
                self.best = tracemalloc.take_snapshot()

    def stop(self) -> Any:
        self._stop.set()
        self._thread.join()
        return self.best


def run_phase(work: Path, phase: str, cycles: int, trim: bool = False,
              trace: int = 0, rules: bool = False) -> dict[str, object]:
    """``cold``: one cycle on an empty store. ``steady``: wait for the parent's go before
    each of ``cycles`` cycles (it changes the feeds in between) and time each."""
    import asyncio
    import ctypes
    import io
    import tracemalloc
    from datetime import UTC, datetime

    peaks: PeakSnapshots | None = None
    if trace:
        tracemalloc.start()
        peaks = PeakSnapshots()

    from tracker.app import open_app
    from tracker.config import parse_config

    urls: list[str] = json.loads((work / "urls.json").read_text())
    raw = {
        "database": {"url": f"sqlite:///{work / 'tracker.db'}"},
        "scheduler": {"max_concurrent_feeds": 100},
        "fetch": {"per_host": 2, "max_body_bytes": 5_000_000},
        "health": {"enabled": False},
        "feeds": [{"url": u, "name": f"feed {i}"} for i, u in enumerate(urls)],
        **({"classifier": {"model": "rules"}} if rules else {}),
    }
    config = parse_config(raw, REPO / "config" / "tracker.toml", env={})
    out: dict[str, object] = {"cycles": []}

    async def go() -> None:
        async with open_app(config, lambda: datetime.now(UTC), io.StringIO()) as app:
            out["ready_rss_mb"] = _rss_mb()
            for n in range(1 if phase == "cold" else cycles):
                if phase == "steady":
                    print(json.dumps({"ready": n}), flush=True)
                    sys.stdin.readline()
                wall, cpu = time.perf_counter(), time.process_time()
                report = await app.pipeline.run_cycle(all_feeds=True)
                out["cycles"].append({  # type: ignore[attr-defined]
                    "wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu,
                    "new_items": report.total("new_items"), "errors": report.errors,
                    "not_modified": sum(f.status == "not_modified" for f in report.feeds),
                    "fetched": sum(f.status == "ok" for f in report.feeds),
                    "rss_mb": _rss_mb()})
                if trim:
                    ctypes.CDLL("libc.so.6").malloc_trim(0)
                    out["cycles"][-1]["trimmed_rss_mb"] = _rss_mb()  # type: ignore[index]
            out["smaps"] = _smaps()
            if peaks is not None:
                at_peak = peaks.stop()
                out["top"] = ((_top_lines(trace, at_peak, "at the peak") if at_peak else [])
                              + _top_lines(trace, tracemalloc.take_snapshot(), "at the end"))

    asyncio.run(go())
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


class Variant(NamedTuple):
    """One tree to run, with what differs for its processes."""

    tree: Path
    env: dict[str, str]
    trim: bool = False
    rules: bool = False  # the rule engine alone, no learned model


def spawn(variant: Variant, work: Path, phase: str, cycles: int, between: object = None,
          trace: int = 0) -> dict[str, object]:
    """Run a phase in a child process with ``tree``'s tracker; ``between(n)`` runs before
    the child's steady cycle ``n``."""
    child = subprocess.Popen(
        [sys.executable, __file__, "--phase", phase, "--work", str(work), "--tree",
         str(variant.tree), "--cycles", str(cycles), "--trace", str(trace),
         *(["--trim"] if variant.trim else []), *(["--rules"] if variant.rules else [])],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        env={**os.environ, **variant.env})
    assert child.stdin is not None and child.stdout is not None
    last = ""
    for line in child.stdout:
        last = line
        message = json.loads(line)
        if "ready" in message:
            if callable(between):
                between(message["ready"])
            child.stdin.write("go\n")
            child.stdin.flush()
    if child.wait() != 0:
        raise SystemExit(f"{phase} phase failed ({variant})")
    result: dict[str, object] = json.loads(last)
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--changed", type=float, default=0.05, help="share changed per cycle")
    parser.add_argument("--new", type=int, default=5, help="new items per changed feed")
    parser.add_argument("--cycles", type=int, default=3)
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--before", type=Path, help="another source tree, for a baseline")
    parser.add_argument("--arena-max", type=int, help="also run with MALLOC_ARENA_MAX=N")
    parser.add_argument("--trim", action="store_true",
                        help="also run with malloc_trim(0) after each cycle")
    parser.add_argument("--rules", action="store_true",
                        help="also run with the rule engine alone (no learned model)")
    parser.add_argument("--trace", type=int, default=0,
                        help="print the N lines holding the most memory (tracemalloc)")
    parser.add_argument("--phase", choices=["cold", "steady"], help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--tree", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.phase:
        sys.path.insert(0, str(args.tree))
        import tracker  # noqa: F401  (from --tree, before anything else imports it)

        print(json.dumps(run_phase(args.work, args.phase, args.cycles, args.trim, args.trace,
                                         args.rules)))
        return 0

    sys.path.insert(0, str(REPO))
    from bench.bench_poll import setup_server
    from tests.support.feedserver import FeedServerProcess

    trees = {"after": Variant(REPO, {})}
    if args.arena_max:
        trees[f"arena{args.arena_max}"] = Variant(REPO,
                                                  {"MALLOC_ARENA_MAX": str(args.arena_max)})
    if args.trim:
        trees["trim"] = Variant(REPO, {}, trim=True)
    if args.rules:
        trees["rules"] = Variant(REPO, {}, rules=True)
    if args.before:
        trees["before"] = Variant(args.before.resolve(), {})
    changed = max(1, round(args.feeds * args.changed))
    hosts = [f"127.0.0.{2 + i}" for i in range(args.hosts)]
    print(f"{args.feeds} feeds x {args.items} items, {changed} changed per cycle "
          f"(+{args.new} items each), {args.cycles} steady cycles, "
          f"{args.latency * 1000:.0f} ms latency", flush=True)
    results: dict[str, tuple[dict[str, object], dict[str, object]]] = {}
    with FeedServerProcess(setup_server, args.feeds, args.items, args.latency,
                           hosts=hosts) as srv, tempfile.TemporaryDirectory() as tmp:
        urls = [srv.url(f"/feeds/{i}.xml", host=i % len(hosts)) for i in range(args.feeds)]
        version = 1
        for name, tree in trees.items():
            sizes = dict.fromkeys(range(args.feeds), args.items)
            work = Path(tmp) / name
            work.mkdir()
            (work / "urls.json").write_text(json.dumps(urls))
            srv.call(grow, range(args.feeds), args.items, 1, args.latency)  # every tree: v1
            cold = spawn(tree, work, "cold", 1, trace=args.trace)
            print(f"{name}: cold cycle done", flush=True)

            def between(n: int, sizes: dict[int, int] = sizes) -> None:
                nonlocal version
                version += 1
                first = (n * changed) % args.feeds
                for k in range(changed):
                    f = (first + k) % args.feeds
                    sizes[f] += args.new
                    srv.call(grow, [f], sizes[f], version, args.latency)

            steady = spawn(tree, work, "steady", args.cycles, between, trace=args.trace)
            results[name] = (cold, steady)
            shutil.rmtree(work)
    _report(results)
    return 0


def _report(results: dict[str, tuple[dict[str, object], dict[str, object]]]) -> None:
    print()
    for name, (cold, steady) in results.items():
        c = cold["cycles"][0]  # type: ignore[index]
        trimmed = (f", after malloc_trim {c['trimmed_rss_mb']:.1f} MB"
                   if "trimmed_rss_mb" in c else "")
        print(f"{name:<6} cold: {c['new_items']} items, CPU {c['cpu']:.1f} s, wall "
              f"{c['wall']:.1f} s, RSS with the app open {cold['ready_rss_mb']:.1f} MB, after "
              f"{c['rss_mb']:.1f} MB{trimmed}, peak RSS {cold['peak_rss_mb']:.1f} MB")
        steady_cycles: list[dict[str, Any]] = steady["cycles"]  # type: ignore[assignment]
        for n, s in enumerate(steady_cycles):
            print(f"{name:<6} steady cycle {n + 1}: {s['fetched']} fetched, {s['not_modified']} "
                  f"not modified, {s['new_items']} new items, {s['errors']} errors; CPU "
                  f"{s['cpu']:.2f} s, wall {s['wall']:.2f} s, RSS after {s['rss_mb']:.1f} MB"
                  + (f" (trimmed {s['trimmed_rss_mb']:.1f} MB)" if "trimmed_rss_mb" in s else ""))
        cpus = [s["cpu"] for s in steady["cycles"]]  # type: ignore[attr-defined]
        print(f"{name:<6} steady: RSS with the app open {steady['ready_rss_mb']:.1f} MB, "
              f"peak RSS {steady['peak_rss_mb']:.1f} MB; worst cycle CPU {max(cpus):.2f} s "
              f"(target <= 1.5 s: {'OK' if max(cpus) <= 1.5 else 'MISSED'})")
        for phase, result in (("cold", cold), ("steady", steady)):
            parts: dict[str, float] = result["smaps"]  # type: ignore[assignment]
            print(f"{name:<6} {phase}: RSS at the end by mapping (MB): "
                  + ", ".join(f"{k} {v:.1f}" for k, v in parts.items()))
            for line in result.get("top", []):  # type: ignore[attr-defined]
                print(f"{name:<6} {phase} memory: {line}")
    print(f"load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    raise SystemExit(main())
