"""``tracker feeds``: the status table, OPML import and export, and ``feeds test`` (one feed
fetched and classified, nothing stored)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from tracker import cli_desk
from tracker.cli_common import (
    HELP_OPTIONS,
    ConfigOption,
    write_output,
)
from tracker.cli_common import err as _err
from tracker.cli_common import load as _config
from tracker.cli_common import utc_now as _utc_now
from tracker.config import Config, load_config
from tracker.errors import ConfigError
from tracker.text.safe import console_markup, terminal_text

feeds_app = typer.Typer(context_settings=HELP_OPTIONS, invoke_without_command=True,
                        help="Feeds: the status table (no subcommand), OPML import/export, "
                             "testing.")


@feeds_app.callback()
def _feeds(ctx: typer.Context, config: ConfigOption = None) -> None:
    """Without a subcommand: every feed's last poll, status, errors, next poll, redirects."""
    if ctx.invoked_subcommand is None:
        cli_desk.feeds_status(config)
        _feed_moves(config)


def _feed_moves(config: Path | None) -> None:
    """Every configured feed's state: moves adopted, retirement, waits, failures."""
    from tracker.ops.feedlist import COLUMNS, feed_rows
    from tracker.readside import open_store

    cfg = _config(config)
    store = open_store(cfg)
    store.sync_feeds(cfg.feeds, _utc_now())
    feeds = store.feeds()
    store.engine.dispose()
    table = Table(title=f"{len(feeds)} feeds")
    for col in COLUMNS:
        table.add_column(col)
    for row in feed_rows(feeds, _utc_now()):
        table.add_row(*(console_markup(cell) for cell in row))
    Console().print(table)


@feeds_app.command("import")
def feeds_import(
    file: Annotated[Path, typer.Argument(help="an OPML file")],
    write: Annotated[bool, typer.Option("--write", help="append the feeds to the config file")]
    = False,
    config: ConfigOption = None,
) -> None:
    """Read feeds from OPML; print them as [[feeds]] entries, or append them with --write."""
    from tracker.ops.opml import feeds_toml, read_opml

    cfg = _config(config)
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise ConfigError(str(file), "", f"cannot read: {exc}") from exc
    found = read_opml(data, str(file))
    block = feeds_toml(found, existing=[f.url for f in cfg.feeds])
    new = block.count("[[feeds]]")
    if not write:
        sys.stdout.write(block)
        _err().print(f"{len(found)} feeds in {file}, {new} not yet in {cfg.path}")
        return
    original = cfg.path.read_text(encoding="utf-8")
    cfg.path.write_text(original.rstrip("\n") + "\n\n" + block, encoding="utf-8")
    try:
        load_config(cfg.path)
    except ConfigError:
        cfg.path.write_text(original, encoding="utf-8")
        raise
    _err().print(f"added {new} feeds to {cfg.path} (send SIGHUP to a running daemon)")


@feeds_app.command("export")
def feeds_export(
    output: Annotated[Path | None, typer.Option("-o", "--output", help="file (default stdout)")]
    = None,
    title: Annotated[str, typer.Option(help="the OPML title")] = "tracker feeds",
    config: ConfigOption = None,
) -> None:
    """Write the configured feeds as OPML."""
    from tracker.ops.opml import write_opml

    cfg = _config(config)
    data = write_opml(cfg.feeds, title, created=_utc_now())
    if output is None:
        sys.stdout.buffer.write(data)
    else:
        write_output(output, data)


@feeds_app.command("test")
def feeds_test(
    url: Annotated[str, typer.Argument(help="the feed URL")],
    timezone: Annotated[str | None, typer.Option(help="time zone for naive dates")] = None,
    config: ConfigOption = None,
) -> None:
    """Fetch one feed and show what tracker makes of every item; stores nothing."""
    cfg = _config(config)
    import asyncio

    asyncio.run(_feeds_test(cfg, url, timezone))


async def _feeds_test(cfg: Config, url: str, timezone: str | None) -> None:
    from tracker.app import fetch_settings, load_classifier
    from tracker.classify.report import render_report
    from tracker.feeds.fetch import Fetcher, build_client
    from tracker.feeds.poll import fetch_and_parse
    from tracker.model import Article

    engine = load_classifier(cfg)
    settings = fetch_settings(cfg)
    out = Console()
    async with build_client(settings) as client:
        polled = await fetch_and_parse(Fetcher(client, settings), url, None, now=_utc_now(),
                                       feed_timezone=timezone)
    fetch, feed = polled.fetch, polled.feed
    out.print(f"HTTP {fetch.http_status} from {fetch.final_url} · {len(fetch.body):,} bytes · "
              f"{fetch.content_type or 'no content type'} · ETag {fetch.etag or '—'}",
              highlight=False)
    if fetch.moved_to:
        out.print(f"moved permanently to {console_markup(fetch.moved_to)} (301/308): tracker "
                  "adopts it on the next poll", highlight=False)
    if feed is None:
        out.print("empty body (HTTP 200 with nothing in it)" if fetch.empty_body
                  else "not modified")
        return
    out.print(f"[bold]{console_markup(feed.title)}[/bold] — {len(feed.entries)} items"
              + (f" · warning: {console_markup(feed.warning)}" if feed.warning else ""),
              highlight=False)
    for e in feed.entries:
        when = e.published.isoformat() if e.published else "—"
        status = f"{e.date_status}: {e.date_problem}" if e.date_problem else e.date_status
        out.rule()
        out.print(terminal_text(f"{e.title}\n  key: {e.key}\n  link: {e.link}\n  published "
                                f"(UTC): {when} [{status}]"), highlight=False, markup=False)
        article = Article(e.title, e.content or e.summary, e.published or _utc_now())
        out.print(terminal_text(render_report(article, engine.classify(article))),
                  highlight=False, markup=False)
