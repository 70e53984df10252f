"""Benchmark: one poll cycle over 3,000 feeds by one process against three processes sharing
one PostgreSQL.

A loopback feed server (its own process) serves ``--feeds`` small Arabic feeds over 50
loopback addresses, each response delayed ``--latency`` seconds. For each cluster size a fresh
PostgreSQL schema is migrated and ``--procs`` ``tracker run`` processes are started on it with
a one-hour interval, so every feed is due exactly once; the cycle time is from the start of
the processes until every feed has a successful poll recorded. Reported per run:

- cycle s — wall time of the cycle (process start-up included, measured separately too);
- lock waits — samples of ``pg_stat_activity`` (every 50 ms) showing a tracker session
  waiting on a lock (claims use ``FOR UPDATE SKIP LOCKED``, so the target is none);
- duplicate polls — requests the feed server answered beyond one per feed (target: zero);
- most feeds by one process — the largest share of the cycle's feeds one process polled
  (from each process's ``cycle_done`` log lines; target with 3 processes: at most half).

Claims are ``scheduler.claim_batch`` feeds at a time (``--claim-batch``; default: the
config's), claimed again as a process's polling slots free up. The script runs unchanged
against the code before sized claims (copy it into that tree), which gives the baseline.

    TRACKER_BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test \\
        python bench/bench_cluster.py [--feeds 3000] [--latency 0.2]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support.feedserver import FeedServer, FeedServerProcess, Item, rss  # noqa: E402


def setup_server(server: FeedServer, feeds: int, latency: float) -> None:
    """Register every feed (runs in the server's process)."""
    for f in range(feeds):
        items = [Item(title=f"خبر تقني رقم {i} من الموقع {f}", link=f"/n/{f}/{i}",
                      guid=f"s{f}-{i}", description="نص قصير عن أخبار التقنية في المنطقة")
                 for i in range(5)]
        server.add(f"/f/{f}.xml", rss(items), content_type="application/rss+xml",
                   etag=f'"{f}"', delay=latency)


def _config(path: Path, urls: list[str], claim_batch: int | None) -> None:
    feeds = "".join(f'[[feeds]]\nurl = "{u}"\nname = "feed {i}"\ninterval = "1h"\n'
                    for i, u in enumerate(urls))
    path.write_text(f"""
[scheduler]
tick = "1s"
max_concurrent_feeds = 50
{f"claim_batch = {claim_batch}" if claim_batch else ""}
[fetch]
per_host = 2
[health]
enabled = false
[logging]
level = "INFO"
format = "json"
[classifier]
taxonomy = "{REPO / 'config' / 'taxonomy.toml'}"
entities = "{REPO / 'config' / 'entities.toml'}"
{feeds}""", encoding="utf-8")


def run(base: str, cfg: Path, procs: int, feeds: int, server: FeedServerProcess,
        work: Path) -> dict[str, float]:
    schema = "bench_" + uuid.uuid4().hex[:8]
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    url = f"{base}?options=-csearch_path%3D{schema}"
    env = {**os.environ, "PYTHONPATH": str(REPO), "TRACKER_DATABASE_URL": url}
    subprocess.run([sys.executable, "-m", "tracker", "db", "upgrade", "--config", str(cfg)],
                   env=env, check=True, capture_output=True)
    before = server.request_count()
    watch = create_engine(url)
    started = time.perf_counter()
    children = []
    for n in range(procs):
        with (work / f"{procs}-{n}.log").open("wb") as log:
            children.append(subprocess.Popen(
                [sys.executable, "-m", "tracker", "run", "--config", str(cfg)], env=env,
                stdout=log, stderr=subprocess.STDOUT))
    lock_waits, first_poll = 0, None
    try:
        while True:
            time.sleep(0.05)
            with watch.connect() as conn:
                try:
                    done = conn.execute(text(
                        "SELECT count(*) FROM feed WHERE last_success_at IS NOT NULL")).scalar()
                except Exception:  # the tables appear with the first process
                    continue
                lock_waits += conn.execute(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND query ILIKE '%feed%'")).scalar() or 0
            if done and first_poll is None:
                first_poll = time.perf_counter() - started
            if done == feeds:
                break
            if time.perf_counter() - started > 600:
                raise RuntimeError("cycle did not finish in 10 minutes")
        cycle = time.perf_counter() - started
    finally:
        for c in children:
            c.terminate()
        for c in children:
            c.wait(timeout=60)
        watch.dispose()
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()
    served = server.request_count() - before
    shares = [_polled(work / f"{procs}-{n}.log") for n in range(procs)]
    return {"cycle": cycle, "startup": first_poll or 0.0, "lock_waits": lock_waits,
            "duplicates": served - feeds, "most": max(shares) / feeds,
            "shares": " ".join(str(s) for s in shares)}


def _polled(log: Path) -> int:
    """Feeds one process polled: the sum of its ``cycle_done`` lines."""
    total = 0
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        if '"cycle_done"' in line:
            total += int(json.loads(line).get("feeds", 0))
    return total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--feeds", type=int, default=3000)
    ap.add_argument("--latency", type=float, default=0.2)
    ap.add_argument("--claim-batch", type=int, default=None)
    ap.add_argument("--procs", type=int, nargs="+", default=[1, 3])
    args = ap.parse_args()
    base = os.environ.get("TRACKER_BENCH_DATABASE_URL",
                          "postgresql://postgres@127.0.0.1:5432/test")
    base = base.replace("postgresql://", "postgresql+psycopg://", 1)
    hosts = [f"127.0.0.{2 + i}" for i in range(50)]
    with (FeedServerProcess(setup_server, args.feeds, args.latency, hosts=hosts) as server,
          tempfile.TemporaryDirectory() as tmp):
        work = Path(tmp)
        cfg = work / "tracker.toml"
        _config(cfg, [server.url(f"/f/{f}.xml", host=f % len(hosts))
                      for f in range(args.feeds)], args.claim_batch)
        results = {n: run(base, cfg, n, args.feeds, server, work) for n in args.procs}
    print(f"\n{args.feeds} feeds, {args.latency * 1000:.0f} ms latency, 50 loopback addresses,"
          f" 50 feeds at a time per process, claims of {args.claim_batch or 'the default'}, "
          f"{os.cpu_count()} CPU cores\n")
    print(f"{'processes':>9} {'cycle s':>8} {'first poll s':>13} {'lock waits':>11} "
          f"{'duplicate polls':>16} {'most by one':>12}  feeds per process")
    for n, r in results.items():
        print(f"{n:>9} {r['cycle']:>8.1f} {r['startup']:>13.1f} {r['lock_waits']:>11.0f} "
              f"{r['duplicates']:>16.0f} {r['most']:>11.0%}  {r['shares']}")
    if 1 in results and 3 in results:
        print(f"\nscaling factor (1 process / 3 processes): "
              f"{results[1]['cycle'] / results[3]['cycle']:.2f}x")
        most = results[3]["most"]
        print(f"3 processes: the busiest polled {most:.0%} of the feeds (target <= 50%: "
              f"{'OK' if most <= 0.5 else 'MISSED'})")


if __name__ == "__main__":
    main()
