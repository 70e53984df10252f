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


def run_phase(work: Path, phase: str, cycles: int) -> dict[str, object]:
    """``cold``: one cycle on an empty store. ``steady``: wait for the parent's go before
    each of ``cycles`` cycles (it changes the feeds in between) and time each."""
    import asyncio
    import io
    from datetime import UTC, datetime

    from tracker.app import open_app
    from tracker.config import parse_config

    urls: list[str] = json.loads((work / "urls.json").read_text())
    raw = {
        "database": {"url": f"sqlite:///{work / 'tracker.db'}"},
        "scheduler": {"max_concurrent_feeds": 100},
        "fetch": {"per_host": 2, "max_body_bytes": 5_000_000},
        "health": {"enabled": False},
        "feeds": [{"url": u, "name": f"feed {i}"} for i, u in enumerate(urls)],
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

    asyncio.run(go())
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def spawn(tree: Path, work: Path, phase: str, cycles: int, between: object = None
          ) -> dict[str, object]:
    """Run a phase in a child process with ``tree``'s tracker; ``between(n)`` runs before
    the child's steady cycle ``n``."""
    child = subprocess.Popen(
        [sys.executable, __file__, "--phase", phase, "--work", str(work), "--tree", str(tree),
         "--cycles", str(cycles)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
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
        raise SystemExit(f"{phase} phase failed ({tree})")
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
    parser.add_argument("--phase", choices=["cold", "steady"], help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--tree", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.phase:
        sys.path.insert(0, str(args.tree))
        import tracker  # noqa: F401  (from --tree, before anything else imports it)

        print(json.dumps(run_phase(args.work, args.phase, args.cycles)))
        return 0

    sys.path.insert(0, str(REPO))
    from bench.bench_poll import setup_server
    from tests.support.feedserver import FeedServerProcess

    trees = {"after": REPO, **({"before": args.before.resolve()} if args.before else {})}
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
            cold = spawn(tree, work, "cold", 1)
            print(f"{name}: cold cycle done", flush=True)

            def between(n: int, sizes: dict[int, int] = sizes) -> None:
                nonlocal version
                version += 1
                first = (n * changed) % args.feeds
                for k in range(changed):
                    f = (first + k) % args.feeds
                    sizes[f] += args.new
                    srv.call(grow, [f], sizes[f], version, args.latency)

            steady = spawn(tree, work, "steady", args.cycles, between)
            results[name] = (cold, steady)
            shutil.rmtree(work)
    _report(results)
    return 0


def _report(results: dict[str, tuple[dict[str, object], dict[str, object]]]) -> None:
    print()
    for name, (cold, steady) in results.items():
        c = cold["cycles"][0]  # type: ignore[index]
        print(f"{name:<6} cold: {c['new_items']} items, CPU {c['cpu']:.1f} s, wall "
              f"{c['wall']:.1f} s, peak RSS {cold['peak_rss_mb']:.1f} MB")
        for n, s in enumerate(steady["cycles"]):  # type: ignore[arg-type]
            print(f"{name:<6} steady cycle {n + 1}: {s['fetched']} fetched, {s['not_modified']} "
                  f"not modified, {s['new_items']} new items, {s['errors']} errors; CPU "
                  f"{s['cpu']:.2f} s, wall {s['wall']:.2f} s, RSS after {s['rss_mb']:.1f} MB")
        cpus = [s["cpu"] for s in steady["cycles"]]  # type: ignore[attr-defined]
        print(f"{name:<6} steady: RSS with the app open {steady['ready_rss_mb']:.1f} MB, "
              f"peak RSS {steady['peak_rss_mb']:.1f} MB; worst cycle CPU {max(cpus):.2f} s "
              f"(target <= 1.5 s: {'OK' if max(cpus) <= 1.5 else 'MISSED'})")
    print(f"load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    raise SystemExit(main())
