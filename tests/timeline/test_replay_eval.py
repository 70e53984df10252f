"""The clustering evaluation: B-cubed scoring, and the targets on the multi-outlet replay."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tracker.config import load_config
from tracker.replay import EventSeen, load_replay, run_replay, score
from tracker.timeline.bcubed import bcubed

REPO = Path(__file__).resolve().parents[2]
REPLAY = REPO / "tests" / "data" / "replay" / "multi_outlet.toml"


def test_bcubed_of_a_perfect_and_a_merged_clustering() -> None:
    """Identical clusterings score 1; merging two gold clusters costs precision only."""
    gold = {"a1": "A", "a2": "A", "b1": "B"}
    assert bcubed(gold, {"a1": "1", "a2": "1", "b1": "2"}).f1 == 1.0
    merged = bcubed(gold, {"a1": "1", "a2": "1", "b1": "1"})
    assert merged.recall == 1.0 and merged.precision == pytest.approx((2 / 3 * 2 + 1 / 3) / 3)
    split = bcubed(gold, {"a1": "1", "b1": "2"})  # a2 in no cluster: its own singleton
    assert split.precision == 1.0 and split.recall == pytest.approx((0.5 + 0.5 + 1) / 3)


def test_the_replay_set_is_big_and_hard_enough() -> None:
    """At least 30 stories of 3–6 outlets with headlines and summaries, and 10 hard pairs."""
    replay = load_replay(REPLAY)
    assert len(replay.stories) >= 30 and len(replay.pairs) >= 10
    for s in replay.stories:
        assert 3 <= len({r.outlet for r in s.reports}) <= 6, s.key
        assert all(r.title and r.summary for r in s.reports), s.key
    kinds = {s.key: s for s in replay.stories}
    assert any(s.follows for s in kinds.values()) and any(s.alerts == 0 for s in kinds.values())


def test_score_counts_wrong_merges_and_alerts() -> None:
    """A timeline that merges a hard pair and alerts a recap is scored as such."""
    replay = load_replay(REPLAY)
    stories = {s.key: s for s in replay.stories}
    events = []
    for n, s in enumerate(replay.stories):
        reports = tuple(r.id for r in s.reports)
        if s.key == "h200_permit":
            continue
        if s.key == "h20_permit":
            reports += tuple(r.id for r in stories["h200_permit"].reports)
        events.append(EventSeen(n + 1, s.type, reports, 1, None))
    scored = score(replay, events)
    assert any(m.startswith("h20_permit + h200_permit") for m in scored.wrong_merges)
    assert scored.silent_alerts >= 1 and scored.precision < 1.0


def test_the_replay_meets_the_targets_through_the_real_pipeline() -> None:
    """F1 ≥ 0.95, no wrong merge on a hard pair, one alert per real event, none from recaps."""
    replay = load_replay(REPLAY)
    scored = score(replay, asyncio.run(run_replay(replay, load_config(
        REPO / "config" / "tracker.toml", env={}))))
    assert scored.f1 >= 0.95, scored.problems
    assert scored.wrong_merges == []
    assert scored.exactly_one_alert == scored.real_events, scored.problems
    assert scored.silent_alerts == 0
    assert scored.follow_ups_linked == scored.follow_ups, scored.problems


def test_every_export_of_the_replayed_timeline_lists_each_event_once() -> None:
    """Each of the six weekly exports of the replay's timeline holds every event of its week
    once: as many JSON events, CSV rows, calendar entries and TimelineJS slides as events,
    each event's headline in the Markdown and its one card in the HTML."""
    import csv
    import io
    import json
    from datetime import UTC, datetime

    from tracker.export import render_export
    from tracker.export._week import week_of
    from tracker.readside import load_labels

    config = load_config(REPO / "config" / "tracker.toml", env={})
    entries: list = []
    asyncio.run(run_replay(load_replay(REPLAY), config, inspect=lambda store: entries.extend(
        store.timeline(limit=None, newest_first=False))))
    labels = load_labels(config)
    weeks: dict[str, list] = {}
    for e in entries:
        weeks.setdefault(week_of(e.event.sort_date.date()), []).append(e)
    assert sum(len(w) for w in weeks.values()) == len(entries) >= 30
    for week, members in weeks.items():
        def out(fmt: str, week: str = week, members: list = members) -> str:
            return render_export(fmt, members, week=week, tz="UTC", labels=labels,
                                 generated_at=datetime(2026, 1, 1, tzinfo=UTC)).decode("utf-8")
        data = json.loads(out("json"))
        listed = data["events"] if isinstance(data, dict) else data
        assert len(listed) == len(members)
        assert len(list(csv.DictReader(io.StringIO(out("csv"))))) == len(members)
        assert out("ics").count("BEGIN:VEVENT") == len(members)
        assert len(json.loads(out("timelinejs"))["events"]) == len(members)
        md, page = out("md"), out("html")
        for e in members:
            assert e.event.headline in md
            assert page.count(f'id="event-{e.event.id}"') == 1
        assert page.count('<article class="event"') == len(members)
