"""Start-up benchmark: wall and CPU time of short CLI commands, this tree against another.

Each command runs as ``python -m tracker …`` in a fresh process, ``--runs`` times,
alternating between this source tree and ``--before DIR`` (e.g. ``git archive`` of an older
commit unpacked there; same interpreter and packages), so both see the same machine load.
The store is a migrated SQLite file (``tracker db upgrade`` first); ``--populate N`` fills it
from N of bench_poll's feeds through the real pipeline first. Prints the median and the
best of each.

Run: ``.venv/bin/python bench/bench_startup.py [--before /tmp/old-tree] [--runs 9]``
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
COMMANDS = (["--help"], ["timeline", "--entity", "nvidia"])


def run_once(tree: Path, args: Sequence[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall, CPU user+system) of one ``python -m tracker args`` from ``tree``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "tracker", *args], cwd=tree, check=True,
                   env={**env, "PYTHONPATH": str(tree)}, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def populate(db_url: str, feeds: int) -> None:
    """One cold cycle of the real pipeline over ``feeds`` of bench_poll's feeds."""
    import asyncio
    from datetime import UTC, datetime

    sys.path.insert(0, str(REPO))
    from bench.bench_poll import make_feed
    from tests.conftest import Clock
    from tests.pipeline.helpers import make_config, running
    from tests.support.feedserver import FeedServer

    async def go() -> None:
        with FeedServer() as srv:
            for f in range(feeds):
                srv.add(f"/feeds/{f}.xml", make_feed(f, 50))
            cfg = make_config(db_url, [{"url": srv.url(f"/feeds/{f}.xml"), "name": f"f{f}"}
                                       for f in range(feeds)], health={"enabled": False})
            async with running(cfg, Clock(datetime(2025, 8, 29, 12, tzinfo=UTC))) as (app, _):
                await app.pipeline.run_cycle(all_feeds=True)

    asyncio.run(go())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--before", type=Path, help="another source tree to compare with")
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--populate", type=int, default=0, metavar="N",
                        help="fill the store from N bench_poll feeds first")
    args = parser.parse_args(argv)
    trees = {"after": REPO, **({"before": args.before.resolve()} if args.before else {})}
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'tracker.db'}"
        env = {**os.environ, "TRACKER_DATABASE_URL": url}
        subprocess.run([sys.executable, "-m", "tracker", "db", "upgrade"], cwd=REPO, env=env,
                       check=True, stdout=subprocess.DEVNULL)
        if args.populate:
            populate(url, args.populate)
        for command in COMMANDS:
            times: dict[str, list[tuple[float, float]]] = {name: [] for name in trees}
            for tree in trees.values():  # one warm-up each (page cache, .pyc files)
                run_once(tree, command, env)
            for _ in range(args.runs):
                for name, tree in trees.items():
                    times[name].append(run_once(tree, command, env))
            for name, measured in times.items():
                walls = [w for w, _ in measured]
                cpus = [c for _, c in measured]
                print(f"tracker {' '.join(command):<26} {name:<6} wall median "
                      f"{statistics.median(walls):.3f} s (best {min(walls):.3f}), CPU median "
                      f"{statistics.median(cpus):.3f} s (best {min(cpus):.3f})", flush=True)
    print(f"load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
