"""The command line: builds settings and parts, runs one command, maps errors to exit codes.

Exit codes: 0 success; 1 the command could not do its work (e.g. the database is
unreachable); 2 bad usage or a bad config file (the message names the file, key, problem).
"""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

import tracker
from tracker import cli_desk, cli_timeline
from tracker.cli_common import (
    HELP_OPTIONS,
    ConfigOption,
    OutputError,
)
from tracker.cli_common import err as _err
from tracker.cli_common import load as _config
from tracker.cli_common import utc_now as _utc_now
from tracker.cli_feeds import feeds_app
from tracker.cli_timeline import parse_since
from tracker.config import Config, describe
from tracker.errors import ConfigError, TrackerError
from tracker.text.safe import console_markup, terminal_text

app = typer.Typer(add_completion=False, no_args_is_help=True, context_settings=HELP_OPTIONS,
                  help="Tracks the US–China AI-chip race in Arabic news feeds.")
db_app = typer.Typer(no_args_is_help=True, context_settings=HELP_OPTIONS, help="Database schema.")
app.add_typer(db_app, name="db")
app.add_typer(feeds_app, name="feeds")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"tracker {tracker.__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[bool, typer.Option("--version", "-V", callback=_version, is_eager=True,
                                          help="print the version and exit")] = False,
) -> None:
    """Tracks the US–China AI-chip race in Arabic news feeds."""


def _setup_logging(config: Config) -> None:
    from tracker.app import telegram_token
    from tracker.logs import setup_logging

    token = telegram_token(config)
    setup_logging(config.get("logging", "level"), config.get("logging", "format"),
                  secrets=[token] if token else [])


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
        feeds.add_row(escape(f.name), escape(f.url), f"{int(f.interval.total_seconds())}s",
                      f.timezone or "")
    out.print(feeds)
    wls = Table(title=f"{len(cfg.watchlists)} watchlists")
    for col in ("name", "events", "entities", "chats"):
        wls.add_column(col)
    for w in cfg.watchlists:
        wls.add_row(w.name, ", ".join(sorted(w.events)) or "any",
                    ", ".join(sorted(w.entities)) or "any", ", ".join(w.chats))
    out.print(wls)
    from tracker.app import telegram_token

    warnings = config_warnings(cfg, telegram_token(cfg) is not None)
    for warning in warnings:
        out.print(f"[yellow]warning:[/yellow] {escape(warning)}")
    out.print("[green]configuration OK[/green]" + (f" ({len(warnings)} warnings)"
                                                   if warnings else ""))


def config_warnings(cfg: Config, has_token: bool) -> list[str]:
    """What makes a valid config useless: it can never alert, or polls nothing."""
    out = []
    if not cfg.feeds:
        out.append("no [[feeds]]: the daemon polls nothing")
    if not cfg.watchlists and not has_token:
        out.append(f"no [[watchlists]] and no Telegram token in "
                   f"${cfg.get('telegram', 'token_env')}: this config can never alert "
                   "(add a watchlist with chats = [\"console\"] to see alerts on the console)")
    elif not cfg.watchlists:
        out.append("no [[watchlists]]: only Telegram subscribers who pick topics get alerts")
    telegram_chats = [c for w in cfg.watchlists for c in w.chats if c != "console"]
    if telegram_chats and not has_token:
        out.append(f"watchlists name Telegram chats ({', '.join(sorted(set(telegram_chats)))})"
                   f" but ${cfg.get('telegram', 'token_env')} is not set: their alerts go to "
                   "the console")
    if cfg.watchlists and all(c == "console" for w in cfg.watchlists for c in w.chats) \
            and not cfg.get("alerts", "console"):
        out.append("every watchlist alerts the console but alerts.console = false")
    return out


@db_app.command("upgrade")
def db_upgrade(config: ConfigOption = None) -> None:
    """Bring the database schema up to date (the daemon also does this on start)."""
    from tracker.store.db import current_revision, make_engine, upgrade

    cfg = _config(config)
    engine = make_engine(cfg.database_url)
    before = current_revision(engine)
    upgrade(engine)
    Console().print(f"database {engine.url.render_as_string()}: revision {before or 'none'}"
                    f" → {current_revision(engine)}", highlight=False, markup=False)


@app.command()
def run(config: ConfigOption = None) -> None:
    """Run the daemon: poll feeds on schedule, store events, send alerts. Stops on SIGTERM."""
    from tracker.daemon import run_daemon

    cfg = _config(config)
    _setup_logging(cfg)
    import asyncio

    asyncio.run(run_daemon(cfg, sys.stdout))


@app.command()
def poll(
    once: Annotated[bool, typer.Option("--once", help="one cycle over every feed, then exit")]
    = False,
    force: Annotated[bool, typer.Option(
        "--force", help="also poll feeds whose server asked to wait (Retry-After)")] = False,
    config: ConfigOption = None,
) -> None:
    """Poll every feed once, store what is new, send the alerts, print a per-feed summary.

    A feed whose server answered 429/503 with Retry-After is skipped until then (cron users
    get banned otherwise), unless --force."""
    if not once:
        _err().print("tracker poll runs one cycle and needs --once; the daemon is 'tracker run'")
        raise typer.Exit(2)
    cfg = _config(config)
    _setup_logging(cfg)
    import asyncio

    asyncio.run(_poll_once(cfg, force))


async def _poll_once(cfg: Config, force: bool = False) -> None:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    from tracker.alerts.outbox import DrainReport, drain
    from tracker.app import open_app

    err = _err()
    async with open_app(cfg, _utc_now, sys.stdout) as app:
        with Progress(TextColumn("[bold]polling"), BarColumn(), MofNCompleteColumn(),
                      TextColumn("{task.description}"), TimeElapsedColumn(),
                      console=err, transient=True) as progress:
            task = progress.add_task("", total=len(cfg.feeds))

            def done(r: Any) -> None:
                progress.update(task, advance=1, description=console_markup(r.name[:40]))

            report = await app.pipeline.run_cycle(all_feeds=True, on_feed_done=done,
                                                  honour_retry_after=not force)
        if app.can_send():
            sent = await drain(app.store, app.notifier, _utc_now, app.owner)
        else:
            sent = DrainReport()
            err.print("Telegram is unavailable: the alerts wait in the outbox")
        polled = {r.feed_id for r in report.feeds}
        now = _utc_now()
        held = [f for f in app.store.feeds() if f.id not in polled and f.retired_at is None
                and f.retry_after is not None and f.retry_after > now]
    table = Table(title="poll cycle")
    for col in ("feed", "status", "new items", "dupes", "events", "alerts", "error"):
        table.add_column(col)
    for r in report.feeds:
        style = {"error": "red", "throttled": "yellow", "gone": "yellow"}.get(r.status)
        note = r.error or (f"moved permanently to {r.moved_to}" if r.moved_to else "") or (
            f"warning: {r.warning}" if r.warning else "")
        table.add_row(console_markup(r.name), r.status, str(r.new_items), str(r.duplicates),
                      str(r.events), str(r.alerts), console_markup(note[:120]), style=style)
    for f in held:
        table.add_row(console_markup(f.name), "waiting", "", "", "", "",
                      console_markup(f"server asked to wait until {f.retry_after:%Y-%m-%d %H:%M}"
                                     " UTC; --force polls it anyway"), style="yellow")
    err.print(table)
    err.print(f"{len(report.feeds)} feeds, {report.total('new_items')} new items, "
              f"{report.total('events')} events, {report.total('alerts')} alerts queued, "
              f"{sent.sent} sent, {report.errors} feeds failed")


app.command("timeline")(cli_timeline.timeline)
app.command("export")(cli_timeline.export)
app.command("eval-timeline")(cli_timeline.eval_timeline)


@app.command()
def backtest(
    since: Annotated[str, typer.Option(help="replay items first seen this long ago")] = "30d",
    watchlist: Annotated[str | None, typer.Option(help="only this config watchlist")] = None,
    show: Annotated[int, typer.Option(help="list at most this many changed items")] = 50,
    config: ConfigOption = None,
) -> None:
    """Replay stored items through the current rules; show what would change."""
    from tracker.app import load_classifier
    from tracker.backtest import backtest as run_backtest
    from tracker.readside import open_store

    cfg = _config(config)
    engine = load_classifier(cfg)
    lists = [w for w in cfg.watchlists if watchlist is None or w.name == watchlist]
    if watchlist is not None and not lists:
        raise ConfigError(str(cfg.path), "watchlists", f"no watchlist named {watchlist!r}")
    store = open_store(cfg)
    start = parse_since(since, _utc_now())
    assert start is not None
    stored = store.stored_items(start)
    store.engine.dispose()
    result = run_backtest(stored, engine.classify, lists, cfg.get("alerts", "max_age"))
    out = Console()
    table = Table(title=f"backtest over {result.items} items since {start:%Y-%m-%d}")
    for col in ("event type", "on the timeline", "with current rules", "change"):
        table.add_column(col)
    for t in sorted(set(result.before) | set(result.after)):
        b, a = result.before[t], result.after[t]
        table.add_row(t, str(b), str(a), f"{a - b:+d}")
    table.add_row("items that alert", str(result.alerts_before), str(result.alerts_after),
                  f"{result.alerts_after - result.alerts_before:+d}", style="bold")
    out.print(table)
    for ch in result.changes[:show]:
        gone = ", ".join(sorted(ch.before - ch.after)) or "—"
        new = ", ".join(sorted(ch.after - ch.before)) or "—"
        alert = ""
        if ch.alerted_before != ch.alerts_after:
            alert = " | alert: " + ("would no longer alert" if ch.alerted_before else "would alert")
        out.print(terminal_text(f"• [{ch.item.outlet}] {ch.item.title}\n   removed: {gone} | "
                                f"added: {new}{alert}"), highlight=False, markup=False)
    if len(result.changes) > show:
        out.print(f"… and {len(result.changes) - show} more changed items")


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
    Console().print(terminal_text(report), markup=False, highlight=False)


# The classifier's own commands (train, eval, label) register themselves on ``app``.
from tracker import cli_model  # noqa: E402, F401

app.command("why")(cli_desk.why)
app.command("items")(cli_desk.items)
app.command("web")(cli_desk.web)


def main() -> None:
    """Console entry point: maps tracker errors to exit codes (usage errors exit 2)."""
    try:
        app()
    except ConfigError as exc:
        _err().print(f"[red]config error:[/red] {console_markup(str(exc))}", highlight=False)
        sys.exit(2)
    except OutputError as exc:
        _err().print(f"[red]error:[/red] {console_markup(str(exc))}", highlight=False)
        sys.exit(2)
    except TrackerError as exc:
        _err().print(f"[red]error:[/red] {console_markup(_first_line(str(exc)))}",
                     highlight=False)
        sys.exit(1)
    except Exception as exc:  # a database problem outside the store's own wrapping
        if not _is_database_error(exc):
            raise
        from tracker.store.db import describe_error

        _err().print(f"[red]database error:[/red] {escape(describe_error(exc))}",  # type: ignore[arg-type]
                     highlight=False)
        sys.exit(1)


def _is_database_error(exc: Exception) -> bool:
    """An SQLAlchemy error (looked up only if SQLAlchemy was imported: a command that never
    touched the database does not pay for importing it)."""
    errors = sys.modules.get("sqlalchemy.exc")
    return errors is not None and isinstance(exc, errors.SQLAlchemyError)


def _first_line(message: str) -> str:
    return message.strip().splitlines()[0] if message.strip() else message
