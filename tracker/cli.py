"""The command line: builds settings and parts, runs one command, maps errors to exit codes.

Exit codes: 0 success; 1 the command could not do its work (e.g. the database is
unreachable); 2 bad usage or a bad config file (the message names the file, key, problem).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from tracker.config import Config, describe, load_config, resolve_path
from tracker.errors import ConfigError, TrackerError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Tracks the US–China AI-chip race in Arabic news feeds.")
db_app = typer.Typer(no_args_is_help=True, help="Database schema.")
app.add_typer(db_app, name="db")

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="config file (default: $TRACKER_CONFIG or "
                 "config/tracker.toml)", show_default=False),
]


def _err() -> Console:
    return Console(stderr=True)


def _config(path: Path | None) -> Config:
    return load_config(resolve_path(path, os.environ))


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _setup_logging(config: Config) -> None:
    from tracker.logs import setup_logging

    setup_logging(config.get("logging", "level"), config.get("logging", "format"))


@app.command("check-config")
def check_config(config: ConfigOption = None) -> None:
    """Validate the config files and print the resolved configuration."""
    from tracker.app import load_classifier

    cfg = _config(config)
    engine = load_classifier(cfg)
    out = Console()
    table = Table(title=f"tracker configuration — {cfg.path}")
    for col in ("setting", "value", "from", "meaning"):
        table.add_column(col)
    for row in describe(cfg):
        table.add_row(*row)
    out.print(table)
    out.print(f"taxonomy: {cfg.config_file('taxonomy')} ({len(engine.event_types())} event "
              f"types); gazetteer: {cfg.config_file('entities')} "
              f"({len(engine.entity_kinds())} entities)")
    feeds = Table(title=f"{len(cfg.feeds)} feeds")
    for col in ("name", "url", "interval", "timezone"):
        feeds.add_column(col)
    for f in cfg.feeds:
        feeds.add_row(f.name, f.url, f"{int(f.interval.total_seconds())}s", f.timezone or "")
    out.print(feeds)
    wls = Table(title=f"{len(cfg.watchlists)} watchlists")
    for col in ("name", "events", "entities", "chats"):
        wls.add_column(col)
    for w in cfg.watchlists:
        wls.add_row(w.name, ", ".join(sorted(w.events)) or "any",
                    ", ".join(sorted(w.entities)) or "any", ", ".join(w.chats))
    out.print(wls)
    out.print("[green]configuration OK[/green]")


@db_app.command("upgrade")
def db_upgrade(config: ConfigOption = None) -> None:
    """Bring the database schema up to date (the daemon also does this on start)."""
    from tracker.store.db import current_revision, make_engine, upgrade

    cfg = _config(config)
    engine = make_engine(cfg.database_url)
    before = current_revision(engine)
    upgrade(engine)
    Console().print(f"database {engine.url.render_as_string()}: revision {before or 'none'}"
                    f" → {current_revision(engine)}")


@app.command()
def run(config: ConfigOption = None) -> None:
    """Run the daemon: poll feeds on schedule, store events, send alerts. Stops on SIGTERM."""
    from tracker.daemon import run_daemon

    cfg = _config(config)
    _setup_logging(cfg)
    asyncio.run(run_daemon(cfg, sys.stdout))


@app.command()
def poll(
    once: Annotated[bool, typer.Option("--once", help="one cycle over every feed, then exit")]
    = False,
    config: ConfigOption = None,
) -> None:
    """Poll every feed once, store what is new, send the alerts, print a per-feed summary."""
    if not once:
        _err().print("tracker poll runs one cycle and needs --once; the daemon is 'tracker run'")
        raise typer.Exit(2)
    cfg = _config(config)
    _setup_logging(cfg)
    asyncio.run(_poll_once(cfg))


async def _poll_once(cfg: Config) -> None:
    from tracker.alerts.outbox import drain
    from tracker.app import open_app

    err = _err()
    async with open_app(cfg, _utc_now, sys.stdout) as app:
        with Progress(TextColumn("[bold]polling"), BarColumn(), MofNCompleteColumn(),
                      TextColumn("{task.description}"), TimeElapsedColumn(),
                      console=err, transient=True) as progress:
            task = progress.add_task("", total=len(cfg.feeds))

            def done(r: Any) -> None:
                progress.update(task, advance=1, description=r.name[:40])

            report = await app.pipeline.run_cycle(all_feeds=True, on_feed_done=done)
        sent = await drain(app.store, app.notifier, _utc_now, app.owner)
    table = Table(title="poll cycle")
    for col in ("feed", "status", "new items", "dupes", "events", "alerts", "error"):
        table.add_column(col)
    for r in report.feeds:
        style = "red" if r.status == "error" else None
        table.add_row(r.name, r.status, str(r.new_items), str(r.duplicates), str(r.events),
                      str(r.alerts), (r.error or "")[:80], style=style)
    err.print(table)
    err.print(f"{len(report.feeds)} feeds, {report.total('new_items')} new items, "
              f"{report.total('events')} events, {report.total('alerts')} alerts queued, "
              f"{sent.sent} sent, {report.errors} feeds failed")


@app.command()
def classify(
    jsonl: Annotated[bool, typer.Option("--jsonl", help="JSON lines in and out")] = False,
    config: ConfigOption = None,
) -> None:
    """Classify text from stdin: JSON lines with --jsonl, else one article (title on line 1)."""
    from tracker.app import load_classifier
    from tracker.classify.report import classify_record, render_report
    from tracker.model import Article

    engine = load_classifier(_config(config))
    if jsonl:
        for n, line in enumerate(sys.stdin, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                if not isinstance(record, dict):
                    raise ValueError("not a JSON object")
            except ValueError as exc:
                out: dict[str, Any] = {"id": None, "events": [], "error": f"line {n}: {exc}"}
            else:
                out = classify_record(engine, record)
            sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
        return
    text = sys.stdin.read()
    title, _, body = text.strip().partition("\n")
    article = Article(title=title.strip(), text=body.strip(), published=_utc_now())
    report = render_report(article, engine.classify(article))
    Console().print(report)


@app.command("eval")
def evaluate_cmd(
    file: Annotated[Path, typer.Argument(help="labelled JSON lines (see shared/data/README)")],
    config: ConfigOption = None,
) -> None:
    """Score the engine on a labelled file: per-type precision, recall, F1 and every error."""
    from tracker.app import load_classifier
    from tracker.classify.evaluate import evaluate, render_evaluation

    engine = load_classifier(_config(config))
    try:
        lines = file.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(str(file), "", f"cannot read: {exc}") from exc
    records = []
    for n, line in enumerate(lines, 1):
        if line.strip():
            try:
                records.append(json.loads(line))
            except ValueError as exc:
                raise ConfigError(str(file), f"line {n}", f"not JSON: {exc}") from exc
    Console().print(render_evaluation(evaluate(engine, records)))


def main() -> None:
    """Console entry point: maps tracker errors to exit codes (usage errors exit 2)."""
    try:
        app()
    except ConfigError as exc:
        _err().print(f"[red]config error:[/red] {exc}", markup=True, highlight=False)
        sys.exit(2)
    except TrackerError as exc:
        _err().print(f"[red]error:[/red] {exc}", markup=True, highlight=False)
        sys.exit(1)
