"""The desk in the terminal: ``tracker why``, ``tracker items``, ``tracker feeds`` (status),
and ``tracker web`` (the web desk on its own). Registered on the app in :mod:`tracker.cli`.

Every feed string is printed as text (rich markup escaped), dates in ``scheduler.timezone``.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.table import Table

from tracker.alerts.render import Labels
from tracker.cli_common import ConfigOption, err, load, utc_now
from tracker.explain import ItemWhy
from tracker.model import TimelineEvent
from tracker.text.safe import console_markup
from tracker.text.search import NameIndex


def resolve_entity(name: str, names: NameIndex) -> str:
    """The entity id written as ``name`` (any spelling, id included), or a usage error."""
    found = names.resolve(name)
    if found is None:
        raise typer.BadParameter(f"unknown entity {name!r}; known: {', '.join(names.ids())}",
                                 param_hint="--entity")
    return found


def event_day(ev: TimelineEvent, tz: str) -> str:
    """The date the text gave, else the day it was first reported, in ``tz``."""
    if ev.event_date is not None:
        return ev.event_date.value
    return ev.sort_date.astimezone(ZoneInfo(tz)).date().isoformat()


def local(when: datetime | None, tz: str) -> str:
    return when.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M") if when else "—"


def why(
    item: Annotated[str, typer.Argument(help="an item id (see tracker items) or its URL")],
    lang: Annotated[str, typer.Option(help="ar or en")] = "en",
    config: ConfigOption = None,
) -> None:
    """Why an item did or did not alert: its events, the watchlists, the deciding reason."""
    from tracker.app import load_classifier, open_desk
    from tracker.cli_common import LANGS, one_of
    from tracker.explain import explain_item
    from tracker.model import Article

    one_of(lang, LANGS, "--lang", "language")
    cfg = load(config)
    engine = load_classifier(cfg)
    desk = open_desk(cfg)
    try:
        item_id = int(item) if item.strip().isdigit() else desk.item_by_url(item)
        detail = desk.item(item_id) if item_id is not None else None
        if detail is None:
            raise typer.BadParameter(f"no stored item {item!r}", param_hint="ITEM")
        subscribers = desk.instant_subscribers()
    finally:
        desk.store.engine.dispose()
    it = detail.item
    detected = engine.classify(Article(it.title, it.content or it.summary,
                                       it.published or it.first_seen))
    result = explain_item(detail, detected, cfg.watchlists, subscribers,
                          cfg.get("alerts", "max_age"), utc_now())
    print_why(Console(), result, engine, cfg.get("scheduler", "timezone"), lang)


def print_why(out: Console, result: ItemWhy, labels: Labels, tz: str, lang: str) -> None:
    """The item page, as text."""
    it = result.detail.item
    out.print(f"[bold]#{it.id}[/bold] {console_markup(it.title)}", highlight=False)
    out.print(f"  {console_markup(it.outlet)} · {console_markup(it.link or '—')}", highlight=False)
    out.print(f"  published {local(it.published, tz)} · first seen {local(it.first_seen, tz)}"
              f" ({tz})", highlight=False)
    if result.item_reason is not None:
        out.print(f"  → {console_markup(result.item_reason.text(lang))}", highlight=False)
    for ew in result.events:
        ev = ew.found.event
        names = ", ".join(dict.fromkeys(labels.entity_label(e.id, lang) for e in ev.entities))
        out.rule()
        out.print(f"[bold]{console_markup(labels.labels(ev.type, lang))}[/bold] — event #{ev.id} · "
                  f"{console_markup(names)} · {ew.found.status}"
                  + (" · recap" if ew.found.recap else ""), highlight=False)
        if ew.found.sentence:
            out.print(f"  sentence: {console_markup(ew.found.sentence)}", highlight=False)
        if ew.why:
            out.print(f"  why: {console_markup(' | '.join(ew.why))}", highlight=False)
        out.print(f"  watchlists matched: {console_markup(', '.join(ew.watchlists) or '—')}; "
                  f"not matched: {console_markup(', '.join(ew.missed) or '—')}", highlight=False)
        out.print(f"  → {console_markup(ew.reason.text(lang))}", highlight=False)
    stored = {e.found.event.type for e in result.events}
    now_types = {d.type for d in result.detected_now}
    if now_types != stored:
        found_now = ", ".join(sorted(now_types)) or "nothing"
        out.print(f"  current rules find: {console_markup(found_now)}", highlight=False)
    for label in result.detail.labels:
        out.print(f"  analyst label: {console_markup(label)}", highlight=False)


def items(
    search: Annotated[str | None, typer.Option(
        help="full-text search: إنفيديا, انفيديا and Nvidia find the same items")] = None,
    limit: Annotated[int, typer.Option(help="at most this many items")] = 30,
    page: Annotated[int, typer.Option(min=1, help="page of results (from 1)")] = 1,
    config: ConfigOption = None,
) -> None:
    """List stored items, newest first, or those matching --search."""
    from tracker.readside import entity_names, load_labels, open_desk
    from tracker.text.search import parse_query

    cfg = load(config)
    names = entity_names(load_labels(cfg))
    desk = open_desk(cfg)
    try:
        query = parse_query(search, names) if search else None
        if search and not query:
            raise typer.BadParameter("nothing to search for (no letters or digits)",
                                     param_hint="--search")
        if query:
            desk.refresh_search()
        found, more = desk.items(query, page, limit)
    finally:
        desk.store.engine.dispose()
    tz = cfg.get("scheduler", "timezone")
    table = Table(title=f"items{f' matching {search!r}' if search else ''} — page {page}"
                        f" ({tz})")
    for col in ("id", "first seen", "outlet", "title"):
        table.add_column(col)
    for it in found:
        table.add_row(str(it.id), local(it.first_seen, tz), console_markup(it.outlet),
                      console_markup(it.title))
    Console().print(table)
    if more:
        err().print(f"more: --page {page + 1}", highlight=False)


def feeds_status(config_path: Path | None) -> None:
    """``tracker feeds``: every feed's last poll, status, errors, next poll, redirect."""
    from tracker.readside import open_desk

    cfg = load(config_path)
    desk = open_desk(cfg)
    try:
        desk.store.sync_feeds(cfg.feeds, utc_now())
        feeds = desk.feeds()
    finally:
        desk.store.engine.dispose()
    tz = cfg.get("scheduler", "timezone")
    table = Table(title=f"{sum(f.active for f in feeds)} feeds ({tz})")
    for col in ("feed", "status", "last poll", "next poll", "items", "failures", "error",
                "redirected to"):
        table.add_column(col)
    for f in feeds:
        if not f.active:
            status = "removed"
        elif f.last_polled_at is None:
            status = "never polled"
        else:
            status = f.health or ("failing" if f.consecutive_failures else "ok")
        table.add_row(console_markup(f.name), status, local(f.last_polled_at, tz),
                      local(f.next_poll_at, tz) if f.active else "—", str(f.items),
                      str(f.consecutive_failures), console_markup((f.last_error or "")[:60]),
                      console_markup(f.final_url or ""),
                      style="red" if status == "failing" else None)
    Console().print(table)


def web(
    host: Annotated[str | None, typer.Option(help="bind address (default: health.host)")] = None,
    port: Annotated[int | None, typer.Option(help="port (default: health.port)")] = None,
    config: ConfigOption = None,
) -> None:
    """Serve the web desk on its own (the daemon serves it too, at the health address)."""
    from tracker.app import desk_app, load_classifier
    from tracker.readside import open_store

    cfg = load(config)
    engine = load_classifier(cfg)
    bind = host or cfg.get("health", "host")
    store = open_store(cfg)
    try:
        import tracker
        from tracker.ops.health import HealthChecks, health_routes
        from tracker.ops.metrics import Metrics
        from tracker.ops.probes import sql_ping

        checks = HealthChecks(sql_ping(store.engine), lambda: True, lambda: None,
                              tracker.__version__)
        routes = health_routes(Metrics(version=tracker.__version__), checks)
        app = desk_app(cfg, store, engine, utc_now, routes=routes, host=bind)
        import asyncio

        asyncio.run(_serve(app, bind, port or cfg.get("health", "port")))
    finally:
        store.engine.dispose()


async def _serve(app: object, host: str, port: int) -> None:
    import asyncio
    import signal

    from tracker.ops.asgi import AsgiServer

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        server = await AsgiServer(app, host, port).start()
    except OSError as exc:
        from tracker.errors import TrackerError

        raise TrackerError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    err().print(f"desk on http://{host}:{server.port}/ (Ctrl-C stops)", highlight=False)
    try:
        await stop.wait()
    finally:
        await server.stop()
