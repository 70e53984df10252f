"""A sender killed in the middle of a fan-out loses nothing and repeats only what was in
flight."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import Clock
from tests.support.botapi import BotApiServer
from tests.telegram.helpers import enqueue, make_event
from tracker.store.db import make_engine, upgrade
from tracker.store.repo import Store
from tracker.store.subscribers import delivered_counts, outbox_states, subscribe

REPO = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("drain_worker.py")
CONCURRENCY = 20
_NUMBER = re.compile("تنبيه رقم \u2066(\\d+)\u2069")


def _worker(database_url: str, api: BotApiServer, *extra: str) -> list[str]:
    return [sys.executable, str(WORKER), database_url, api.base_url + "/bot",
            "--concurrency", str(CONCURRENCY), *extra]


@pytest.mark.slow
def test_sigkill_mid_fanout_repeats_at_most_the_messages_in_flight(
    api: BotApiServer, tmp_path: Path
) -> None:
    """100 subscribers × 10 alerts; SIGKILL the sender mid-way, restart it: every alert
    arrives, and duplicates are at most the drain's concurrency."""
    database_url = f"sqlite:///{tmp_path / 'crash.db'}"
    engine = make_engine(database_url)
    upgrade(engine)
    store = Store(engine)
    clock = Clock(datetime.now(UTC))
    chats = [str(900_000 + i) for i in range(100)]
    for chat in chats:
        subscribe(store, chat, "ar", clock())
    for n in range(10):
        enqueue(store, clock, make_event(store, clock, headline=f"تنبيه رقم {n}"), chats)
    env = {**os.environ, "PYTHONPATH": str(REPO)}

    first = subprocess.Popen(_worker(database_url, api), cwd=REPO, env=env)
    try:
        api.wait_for(lambda: api.total() >= 300, timeout=60)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    time.sleep(0.2)  # let the stand-in finish answering requests it already read
    delivered_at_kill = api.total()
    recorded_at_kill = sum(delivered_counts(store).values())
    assert 300 <= delivered_at_kill < 1000, "the kill should land mid-way"

    subprocess.run(_worker(database_url, api, "--offset", "600"), cwd=REPO, env=env,
                   check=True, timeout=120)

    copies: Counter[tuple[str, int]] = Counter()
    for chat in chats:
        for text in api.texts(chat):
            m = _NUMBER.search(text)
            assert m, text
            copies[(chat, int(m.group(1)))] += 1
    missing = [(c, n) for c in chats for n in range(10) if copies[(c, n)] == 0]
    duplicates = sum(k - 1 for k in copies.values() if k > 1)
    seen = f"delivered at kill {delivered_at_kill}, recorded {recorded_at_kill}"
    assert missing == [], seen
    assert duplicates <= CONCURRENCY, seen
    assert duplicates == delivered_at_kill - recorded_at_kill  # exactly the unrecorded ones
    assert outbox_states(store) == {"alert/sent": 1000}
    engine.dispose()
