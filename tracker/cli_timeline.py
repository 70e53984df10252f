"""``tracker timeline`` and ``tracker export``: the timeline in the terminal and as files.

Registered on the app in :mod:`tracker.cli`. Filter values are checked against the taxonomy,
the statuses and the gazetteer (any spelling of an entity), dates shown in
``scheduler.timezone``, and an empty week names the weeks that hold events.
"""

from __future__ import annotations

import json
import sys
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
    config: ConfigOption = None,
) -> None:
    """Show the timeline, newest first, filtered by entity, type, dates and status."""
    from tracker.readside import entity_names, load_labels, open_store
    from tracker.timeline_view import entry_json

    cfg = _config(config)
    labels = load_labels(cfg)
    one_of(lang, LANGS, "--lang", "language")
    for t in type_ or ():
        one_of(t, labels.event_types(), "--type", "event type")
    for st in status or ():
        one_of(st, STATUSES, "--status", "status")
    entity_id = cli_desk.resolve_entity(entity, entity_names(labels)) if entity else None
    now = _utc_now()
    store = open_store(cfg)
    entries = store.timeline(entity=entity_id, types=type_ or (), since=parse_since(since, now),
                             until=parse_since(until, now), statuses=status or (), limit=limit)
    store.engine.dispose()
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
