"""``tracker timeline`` and ``tracker export``: the timeline in the terminal and as files.

Registered on the app in :mod:`tracker.cli`. Filter values are checked against the taxonomy,
the statuses and the gazetteer (any spelling of an entity), dates shown in
``scheduler.timezone``, and an empty week names the weeks that hold events.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from tracker import cli_desk
from tracker.cli_common import LANGS, STATUSES, ConfigOption, one_of, write_output
from tracker.cli_common import err as _err
from tracker.cli_common import load as _config
from tracker.cli_common import utc_now as _utc_now
from tracker.text.safe import console_markup


def parse_since(value: str | None, now: datetime) -> datetime | None:
    """'30d' (ago) or an ISO date."""
    from tracker.config import parse_duration

    if value is None:
        return None
    try:
        return now - parse_duration(value)
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(f"expected a duration like 30d or a date like 2025-08-01, "
                                 f"got {value!r}") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def timeline(
    entity: Annotated[str | None, typer.Option(
        help="entity by any name or id: Nvidia, إنفيديا, nvidia")] = None,
    type_: Annotated[list[str] | None, typer.Option("--type", help="event type (repeatable)")]
    = None,
    since: Annotated[str | None, typer.Option(help="30d, or a date such as 2025-08-01")] = None,
    until: Annotated[str | None, typer.Option(help="a date, or a duration ago")] = None,
    status: Annotated[list[str] | None, typer.Option(help="status (repeatable)")] = None,
    limit: Annotated[int, typer.Option(help="at most this many events")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of a table")] = False,
    lang: Annotated[str, typer.Option(help="ar or en")] = "ar",
    explain: Annotated[int | None, typer.Option(
        "--explain", help="event id: its mentions and why each joined")] = None,
    item: Annotated[int | None, typer.Option(
        "--item", help="with --explain: why this item did (or did not) join the event")] = None,
    config: ConfigOption = None,
) -> None:
    """Show the timeline, newest first, filtered by entity, type, dates and status."""
    from tracker.readside import entity_names, load_labels, open_timeline
    from tracker.timeline_view import entry_json

    cfg = _config(config)
    if item is not None and explain is None:
        raise typer.BadParameter("--item needs --explain EVENT", param_hint="--item")
    if explain is not None:
        from tracker.app import load_classifier

        explain_event(cfg, load_classifier(cfg), explain, item, as_json)
        return
    labels = load_labels(cfg)
    one_of(lang, LANGS, "--lang", "language")
    for t in type_ or ():
        one_of(t, labels.event_types(), "--type", "event type")
    for st in status or ():
        one_of(st, STATUSES, "--status", "status")
    entity_id = cli_desk.resolve_entity(entity, entity_names(labels)) if entity else None
    now = _utc_now()
    reader = open_timeline(cfg)
    try:
        entries = reader.timeline(entity=entity_id, types=type_ or (),
                                  since=parse_since(since, now), until=parse_since(until, now),
                                  statuses=status or (), limit=limit)
    finally:
        reader.close()
    if as_json:
        data = [entry_json(e, labels) for e in entries]
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
        return
    tz = cfg.get("scheduler", "timezone")
    table = Table(title=f"timeline — {len(entries)} events (dates in {tz})")
    for col in ("date", "type", "headline", "entities", "status", "sources"):
        table.add_column(col)
    for entry in entries:
        ev = entry.event
        table.add_row(*(console_markup(cell) for cell in (
            cli_desk.event_day(ev, tz), labels.labels(ev.type, lang), ev.headline,
            ", ".join(dict.fromkeys(labels.entity_label(x.id, lang) for x in ev.entities)),
            ev.status, str(len(entry.sources)))))
    Console().print(table)


def explain_event(cfg: object, engine: object, event_id: int, item_id: int | None,
                  as_json: bool) -> None:
    """``timeline --explain``: the event's mentions and why each joined; with ``--item``,
    the identity verdict of that item's mentions against the event."""
    from tracker.app import open_desk
    from tracker.classify.engine import Engine
    from tracker.model import Article
    from tracker.timeline import collapse, of_event, same_event

    assert isinstance(engine, Engine)
    desk = open_desk(cfg)  # type: ignore[arg-type]
    detail = desk.event(event_id)
    record = desk.item(item_id) if item_id is not None else None
    desk.store.engine.dispose()
    if detail is None:
        _err().print(f"no event {event_id}", highlight=False, markup=False)
        raise typer.Exit(1)
    if item_id is not None and record is None:
        _err().print(f"no item {item_id}", highlight=False, markup=False)
        raise typer.Exit(1)
    ev = detail.event
    lines: list[dict[str, object]] = []
    if record is None:
        for n, s in enumerate(detail.sources):
            lines.append({"item": s.item_id, "outlet": s.outlet, "title": s.title,
                          "sentence": s.sentence, "recap": s.recap, "status": s.status,
                          "why": s.reason or ("first report" if n == 0 else
                                              "joined (placed before event identity)")})
    else:
        it = record.item
        source = next((s for s in detail.sources if s.item_id == it.id), None)
        found = engine.classify(Article(title=it.title, text=it.content or it.summary,
                                        published=it.published or it.first_seen))
        target = of_event(ev)
        for merged, m in collapse(found, it.published, it.first_seen, it.title):
            verdict = same_event(m, target)
            lines.append({"item": it.id, "type": merged.type, "sentence": merged.sentence,
                          "background": merged.background, "joined": verdict.joined,
                          "why": str(verdict)})
        if source is not None:
            lines.insert(0, {"item": it.id, "joined": True,
                             "why": f"a source of this event: {source.reason or 'joined'}"})
        elif not lines:
            lines.append({"item": it.id, "joined": False, "why": "the item reports no event"})
    if as_json:
        sys.stdout.write(json.dumps({"event": ev.id, "type": ev.type, "headline": ev.headline,
                                     "follow_up_of": ev.follow_up_of, "mentions": lines},
                                    ensure_ascii=False, indent=2) + "\n")
        return
    out = Console()
    head = f"event {ev.id} — {ev.type} — {ev.headline}"
    if ev.follow_up_of is not None:
        head += f" (follows up event {ev.follow_up_of})"
    out.print(console_markup(head))
    for line in lines:
        title = line.get("title") or line.get("sentence") or ""
        out.print(console_markup(f"• item {line['item']} {line.get('outlet', '')}: {title}"))
        out.print(console_markup(f"    {line['why']}"))


def eval_timeline(
    file: Annotated[Path, typer.Argument(help="a replay file (TOML), e.g. "
                                              "tests/data/replay/multi_outlet.toml")],
    baseline: Annotated[bool, typer.Option(
        help="also replay with the placement rules before event identity")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of a table")] = False,
    config: ConfigOption = None,
) -> None:
    """Replay a labelled multi-outlet set through the pipeline and score the timeline."""
    from dataclasses import asdict

    from tracker.replay import Score, evaluate

    cfg = _config(config)
    try:
        mine, old = evaluate(file, cfg, baseline=baseline)
    except (OSError, ValueError, KeyError) as exc:
        _err().print(f"{file}: {exc}", highlight=False, markup=False)
        raise typer.Exit(2) from exc
    if as_json:
        sys.stdout.write(json.dumps({"identity": asdict(mine),
                                     "baseline": asdict(old) if old else None},
                                    ensure_ascii=False, indent=2) + "\n")
        return
    rows: list[tuple[str, Callable[[Score], str]]] = [
        ("B-cubed precision", lambda s: f"{s.precision:.3f}"),
        ("B-cubed recall", lambda s: f"{s.recall:.3f}"),
        ("B-cubed F1", lambda s: f"{s.f1:.3f}"),
        (f"timeline events (real events: {mine.real_events})",
         lambda s: str(s.timeline_events)),
        ("alerts", lambda s: str(s.alerts)),
        ("real events with exactly one alert", lambda s: f"{s.exactly_one_alert}/{s.real_events}"),
        ("alerts from recaps and denials", lambda s: str(s.silent_alerts)),
        ("wrong merges on hard pairs", lambda s: str(len(s.wrong_merges))),
        ("follow-ups linked", lambda s: f"{s.follow_ups_linked}/{s.follow_ups}"),
    ]
    table = Table(title=f"event identity on {file.name}")
    table.add_column("measure")
    table.add_column("event identity")
    if old is not None:
        table.add_column("baseline: placement before identity")
    for name, cell in rows:
        table.add_row(name, cell(mine), *([cell(old)] if old is not None else []))
    out = Console()
    out.print(table)
    for label, sc in (("event identity", mine), ("baseline", old)):
        if sc is None:
            continue
        for problem in [*sc.wrong_merges, *sc.problems]:
            out.print(console_markup(f"{label}: {problem}"))


def export(
    week: Annotated[str | None, typer.Option(
        help="ISO week YYYY-Www (default: the last complete week in scheduler.timezone)")] = None,
    fmt: Annotated[str, typer.Option("--format", "-f",
                                     help="md, html, csv, json, ics or timelinejs")] = "md",
    output: Annotated[Path | None, typer.Option("-o", "--output",
                                                help="file to write (default: stdout)")] = None,
    config: ConfigOption = None,
) -> None:
    """Export one week of the timeline as Markdown, HTML, CSV, JSON, iCalendar or TimelineJS."""
    from tracker.export import FORMATS, last_complete_week, render_export, week_bounds

    if fmt not in FORMATS:
        raise typer.BadParameter(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}",
                                 param_hint="--format")
    cfg = _config(config)
    tz = cfg.get("scheduler", "timezone")
    now = _utc_now()
    week = week or last_complete_week(now, tz)
    try:
        start, end = week_bounds(week, tz)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--week") from exc
    from tracker.readside import load_labels, open_store

    labels = load_labels(cfg)
    store = open_store(cfg)
    entries = store.timeline(since=start, until=end, limit=None, newest_first=False)
    from tracker.store.desk import DeskStore

    desk = DeskStore(store)
    installation = desk.installation_id()
    others = desk.weeks_with_events(tz) if not entries else []
    store.engine.dispose()
    data = render_export(fmt, entries, week=week, tz=tz, labels=labels, generated_at=now,
                         installation=installation)
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        write_output(output, data)
        _err().print(f"{week}: {len(entries)} events → {output} ({len(data):,} bytes)",
                     highlight=False, markup=False)
    if not entries:
        hint = (", ".join(f"{w} ({n})" for w, n in others) if others
                else "none: the timeline is empty")
        _err().print(f"no events in {week} ({tz}); weeks with events: {hint}"
                     + (f" — e.g. tracker export --week {others[0][0]}" if others else ""),
                     highlight=False, markup=False)
