"""Where the daemon's memory goes, before its first poll and per item of its window.

Each measurement runs in a fresh process (resident set size from ``/proc/self/status``:
``VmRSS`` now, ``VmHWM`` its peak so far), with the tracker package of this tree and, with
``--before DIR``, of another source tree (e.g. ``git archive`` of an older commit unpacked
there; same interpreter and packages) right after it, for a baseline in the same run:

- imports: the RSS after each of the daemon's heavy libraries and our own layers, in order;
- the classifier: the engine of the shipped taxonomy and gazetteer (its Aho-Corasick
  automaton), then the shipped learned model, with build and load times;
- the app: ``open_app`` on a migrated SQLite store, no bot token, health server off (what
  ``bench_churn`` runs), and which heavy libraries that loaded;
- the near-duplicate window: ``--window`` generated texts of random words (unrelated, as
  most news is to each other; no two share a bucket by design) through
  ``NearDuplicates.match_and_add``, bytes per item by tracemalloc and by RSS.

Run: ``.venv/bin/python bench/bench_memory.py [--before /tmp/old-tree] [--window 20000]``
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

IMPORTS = ("numpy", "sqlalchemy", "sqlmodel", "httpx", "feedparser", "telegram", "telegram.ext",
           "uvicorn", "alembic", "tracker.store.repo", "tracker.classify.engine",
           "tracker.pipeline", "tracker.app", "tracker.web.app", "tracker.daemon")
HEAVY = ("alembic", "apscheduler", "feedparser", "httpx", "numpy", "pydantic", "sqlalchemy",
         "sqlmodel", "starlette", "telegram", "uvicorn")


def status() -> dict[str, float]:
    """``VmRSS`` and ``VmHWM`` of this process, in MB."""
    out: dict[str, float] = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            out[name] = int(value.split()[0]) / 1024
    return out


# --- the phases (each runs in a fresh process, tracker imported from --tree) ------------------


def phase_imports() -> dict[str, object]:
    import importlib

    steps = [("start", status()["VmRSS"])]
    for name in IMPORTS:
        importlib.import_module(name)
        steps.append((name, status()["VmRSS"]))
    return {"steps": steps}


def phase_classifier() -> dict[str, object]:
    import gc
    import time

    from tracker.classify import load_engine
    from tracker.classify.learned import load_model

    config = REPO / "config"
    gc.collect()
    base = status()
    t = time.perf_counter()
    engine = load_engine(config / "taxonomy.toml", config / "entities.toml")
    build = time.perf_counter() - t
    gc.collect()
    built = status()
    t = time.perf_counter()
    model = load_model()
    load = time.perf_counter() - t
    engine.with_model(model)
    gc.collect()
    loaded = status()
    return {"engine_mb": built["VmRSS"] - base["VmRSS"],
            "engine_peak_mb": built["VmHWM"] - base["VmRSS"], "engine_s": build,
            "model_mb": loaded["VmRSS"] - built["VmRSS"], "model_s": load}


def phase_app(work: Path) -> dict[str, object]:
    import asyncio
    import io
    from datetime import UTC, datetime

    from tracker.app import open_app
    from tracker.config import parse_config

    raw = {"database": {"url": f"sqlite:///{work / 'tracker.db'}"},
           "health": {"enabled": False},
           "feeds": [{"url": "http://127.0.0.1:9/feed.xml", "name": "one"}]}
    config = parse_config(raw, REPO / "config" / "tracker.toml", env={})
    out: dict[str, object] = {"imported_mb": status()["VmRSS"]}

    async def go() -> None:
        async with open_app(config, lambda: datetime.now(UTC), io.StringIO()):
            out["open_mb"] = status()["VmRSS"]
            out["heavy"] = sorted({m.split(".")[0] for m in sys.modules} & set(HEAVY))

    asyncio.run(go())  # once to migrate the store, then measured in the next process
    return out


def texts(n: int, seed: int = 14) -> list[str]:
    """``n`` texts of 60 random words over the Arabic letters (unrelated to each other)."""
    import random

    rng = random.Random(seed)
    letters = [chr(c) for c in range(0x0627, 0x064B)]
    return [" ".join("".join(rng.choices(letters, k=rng.randint(2, 8))) for _ in range(60))
            for _ in range(n)]


def phase_window(n: int) -> dict[str, object]:
    import gc
    import tracemalloc
    from datetime import UTC, datetime

    from tracker.neardup import NearDuplicates

    todo = texts(n)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    NearDuplicates().match_and_add(-1, "تمهيد", now)  # first-call allocations outside
    out: dict[str, object] = {}
    for traced in (False, True):  # RSS without tracemalloc (its own tables cost RSS too)
        gc.collect()
        before = status()["VmRSS"]
        if traced:
            tracemalloc.start()
        index = NearDuplicates()
        for i, text in enumerate(todo):
            index.match_and_add(i, text, now)
        gc.collect()
        if traced:
            out["traced_per_item"] = tracemalloc.get_traced_memory()[0] / n
            tracemalloc.stop()
        else:
            out["rss_mb"] = status()["VmRSS"] - before
            out["buckets_per_item"] = sum(len(band) for band in index._buckets) / n
        del index
    return out


# --- the driver -------------------------------------------------------------------------------


def spawn(tree: Path, phase: str, *extra: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, __file__, "--phase", phase, "--tree", str(tree), *extra],
        capture_output=True, text=True, check=True, env={**os.environ, "PYTHONPATH": ""})
    result: dict[str, object] = json.loads(done.stdout.splitlines()[-1])
    return result


def measure(tree: Path, window: int) -> dict[str, dict[str, object]]:
    with tempfile.TemporaryDirectory() as tmp:
        spawn(tree, "app", "--work", tmp)  # migrates the store
        app = spawn(tree, "app", "--work", tmp)
    return {"imports": spawn(tree, "imports"), "classifier": spawn(tree, "classifier"),
            "app": app, "window": spawn(tree, "window", "--window", str(window))}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--before", type=Path, help="another source tree, for a baseline")
    parser.add_argument("--window", type=int, default=5000, help="near-duplicate window items")
    parser.add_argument("--phase", choices=["imports", "classifier", "app", "window"],
                        help=argparse.SUPPRESS)
    parser.add_argument("--tree", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.phase:
        sys.path.insert(0, str(args.tree))
        import tracker  # noqa: F401  (from --tree, before anything else imports it)

        if args.phase == "imports":
            result = phase_imports()
        elif args.phase == "classifier":
            result = phase_classifier()
        elif args.phase == "app":
            result = phase_app(args.work)
        else:
            result = phase_window(args.window)
        print(json.dumps(result))
        return 0
    trees = {"after": REPO, **({"before": args.before.resolve()} if args.before else {})}
    runs = {name: measure(tree, args.window) for name, tree in trees.items()}
    _report(runs, args.window)
    return 0


def _report(runs: dict[str, dict[str, dict[str, object]]], window: int) -> None:
    names = list(runs)
    print(f"{'measurement':<58}" + "".join(f"{n:>14}" for n in names))

    def row(label: str, values: Sequence[object]) -> None:
        print(f"{label:<58}" + "".join(f"{v:>14}" for v in values))

    steps = {n: dict(runs[n]["imports"]["steps"]) for n in names}  # type: ignore[call-overload]
    prev = {n: 0.0 for n in names}
    for name, _ in runs[names[0]]["imports"]["steps"]:  # type: ignore[attr-defined]
        values = []
        for n in names:
            values.append(f"{steps[n][name]:.1f} (+{steps[n][name] - prev[n]:.1f})")
            prev[n] = steps[n][name]
        row(f"import {name}: RSS MB (added)", values)
    c = {n: runs[n]["classifier"] for n in names}
    row("engine (automaton): RSS added, MB", [f"{c[n]['engine_mb']:.1f}" for n in names])
    row("engine: peak RSS added while built, MB",
        [f"{c[n]['engine_peak_mb']:.1f}" for n in names])
    row("engine: build time, s", [f"{c[n]['engine_s']:.2f}" for n in names])
    row("learned model: RSS added, MB / load s",
        [f"{c[n]['model_mb']:.1f} / {c[n]['model_s']:.2f}" for n in names])
    a = {n: runs[n]["app"] for n in names}
    row("open_app, migrated store, no token: RSS imported, MB",
        [f"{a[n]['imported_mb']:.1f}" for n in names])
    row("open_app: RSS with the app open, MB", [f"{a[n]['open_mb']:.1f}" for n in names])
    for n in names:
        print(f"  {n}: heavy libraries loaded: {', '.join(a[n]['heavy'])}")  # type: ignore[arg-type]
    w = {n: runs[n]["window"] for n in names}
    row(f"near-duplicate window of {window:,} unrelated texts: traced B/item",
        [f"{w[n]['traced_per_item']:.0f}" for n in names])
    row("same: RSS added, MB (buckets per item)",
        [f"{w[n]['rss_mb']:.1f} ({w[n]['buckets_per_item']:.1f})" for n in names])
    print(f"load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    raise SystemExit(main())
