"""Wiring: builds the parts of a running tracker from a :class:`~tracker.config.Config`.

Nothing is built at import time; the CLI calls :func:`load_classifier` and :func:`open_app`
and passes the results on. This is the only module that knows every part.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import httpx

from tracker.alerts.console import ConsoleNotifier
from tracker.alerts.outbox import Notifier
from tracker.classify import Engine, load_engine
from tracker.config import Config, check_references
from tracker.demo import ReplayTransport
from tracker.feeds.fetch import Fetcher, FetchSettings, build_client
from tracker.feeds.parse import ParseLimits
from tracker.ops.feedhealth import HealthPolicy
from tracker.pipeline import Pipeline, PipelineSettings
from tracker.readside import entity_names
from tracker.readside import open_desk as open_desk  # the CLI and tests import it from here
from tracker.readside import open_store as open_store  # tests import it from here
from tracker.store.botport import StoreForBot
from tracker.store.desk import DeskStore
from tracker.store.repo import Store

if TYPE_CHECKING:  # python-telegram-bot (~12 MB, and APScheduler) loads only with a token
    from tracker.telegram.bot import BotSettings
    from tracker.telegram.link import TelegramLink
    from tracker.telegram.sender import SenderSettings, TelegramNotifier


def load_classifier(config: Config, with_model: bool = True) -> Engine:
    """The event engine of the config's taxonomy and gazetteer, with the type model of
    ``[classifier] model`` unless ``with_model`` is false; checks watchlist names."""
    extra = config.get("classifier", "extra_entities")
    engine = load_engine(config.config_file("taxonomy"), config.config_file("entities"),
                         config.config_file("extra_entities") if extra else None,
                         model=model_choice(config) if with_model else None)
    check_references(config, set(engine.event_types()), set(engine.entity_kinds()))
    return engine


def model_choice(config: Config) -> Path | str | None:
    """What ``[classifier] model`` asks for: "shipped", None for the rules alone, or a file."""
    chosen = str(config.get("classifier", "model"))
    if chosen == "rules":
        return None
    if chosen == "shipped":
        return "shipped"
    return config.config_file("model")


def fetch_settings(config: Config) -> FetchSettings:
    return FetchSettings(
        connect_timeout=config.get("fetch", "connect_timeout"),
        read_timeout=config.get("fetch", "read_timeout"),
        max_body_bytes=config.get("fetch", "max_body_bytes"),
        per_host=config.get("fetch", "per_host"),
        user_agent=config.get("fetch", "user_agent"),
        total_timeout=config.get("fetch", "total_timeout"),
    )


def pipeline_settings(config: Config) -> PipelineSettings:
    return PipelineSettings(
        max_age=config.get("alerts", "max_age"),
        max_concurrent_feeds=config.get("scheduler", "max_concurrent_feeds"),
        claim_batch=config.get("scheduler", "claim_batch"),
        lease=config.get("scheduler", "lease"),
        min_interval=config.get("scheduler", "min_interval"),
        max_interval=config.get("scheduler", "max_interval"),
        health=HealthPolicy(failures=config.get("health", "feed_failures")),
        admins=tuple(config.get("telegram", "admins")),
        parse_limits=ParseLimits(max_items=config.get("fetch", "max_items"),
                                 max_title_chars=config.get("fetch", "max_title_chars"),
                                 max_text_chars=config.get("fetch", "max_text_chars")),
    )


def telegram_token(config: Config, env: Mapping[str, str] | None = None) -> str | None:
    """The bot token from the variable named by ``telegram.token_env`` (None: not set)."""
    env = os.environ if env is None else env
    return env.get(config.get("telegram", "token_env")) or None


def sender_settings(config: Config) -> SenderSettings:
    from tracker.telegram.sender import SenderSettings

    return SenderSettings(
        api_url=config.get("telegram", "api_url"),
        overall_per_second=config.get("telegram", "overall_per_second"),
        group_per_minute=config.get("telegram", "group_per_minute"),
        per_chat_interval=config.get("telegram", "per_chat_interval"),
        transport=config.get("telegram", "transport"),
    )


def bot_settings(config: Config) -> BotSettings:
    from tracker.telegram.bot import BotSettings

    return BotSettings(
        overall_per_second=config.get("telegram", "overall_per_second"),
        group_per_minute=config.get("telegram", "group_per_minute"),
        webhook_url=config.get("telegram", "webhook_url") or None,
        webhook_listen=config.get("telegram", "webhook_listen"),
        webhook_port=config.get("telegram", "webhook_port"),
    )


def process_id() -> str:
    """A lease owner name unique to this process."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass
class App:
    config: Config
    store: Store
    classifier: Engine
    pipeline: Pipeline
    notifier: Notifier
    owner: str
    telegram_token: str | None = None
    telegram_link: TelegramLink | None = None  # None: alerts go to the console

    def can_send(self) -> bool:
        """False while the Bot API is unreachable or refuses the token: alerts wait."""
        return self.telegram_link is None or self.telegram_link.available


@asynccontextmanager
async def open_app(
    config: Config, clock: Callable[[], datetime], out: TextIO,
    classifier: Engine | None = None,
) -> AsyncIterator[App]:
    """Everything a cycle needs; HTTP clients are closed when the block ends."""
    classifier = classifier or load_classifier(config)
    store = open_store(config)
    store.sync_feeds(config.feeds, clock())
    settings = fetch_settings(config)
    client = build_client(settings)
    replay = httpx.AsyncClient(transport=ReplayTransport(
        config.path.parent / "demo", clock(), config.get("demo", "replay_over"), clock))
    fetchers = {"http": Fetcher(client, settings, clock=clock),
                "replay": Fetcher(replay, settings, clock=clock)}
    owner = process_id()
    pipeline = Pipeline(
        store, classifier,
        lambda url: fetchers["replay" if url.startswith("replay://") else "http"],
        config.watchlists, clock,
        pipeline_settings(config),
        owner,
        serialise_writes=store.engine.dialect.name == "sqlite",
    )
    token = telegram_token(config)
    telegram: TelegramNotifier | None = None
    notifier: Notifier
    link: TelegramLink | None = None
    if token:
        from tracker.telegram.link import TelegramLink
        from tracker.telegram.sender import build_notifier

        telegram = build_notifier(config.values, StoreForBot(store), classifier, token=token,
                                  settings=sender_settings(config),
                                  watchlists=config.watchlists)
        link = TelegramLink(telegram.probe, name="telegram",
                            retry_first=config.get("telegram", "retry_first").total_seconds(),
                            retry_max=config.get("telegram", "retry_max").total_seconds())
        telegram.link = link
        await link.connect()  # a failure is logged once; the daemon retries (TelegramLink.run)
        notifier = telegram
    else:
        notifier = ConsoleNotifier(out, classifier, tz=config.get("scheduler", "timezone"))
    try:
        yield App(config, store, classifier, pipeline, notifier, owner, token, link)
    finally:
        if telegram is not None:
            await telegram.close()
        await client.aclose()
        await replay.aclose()
        store.engine.dispose()


def web_token(config: Config, env: Mapping[str, str] | None = None) -> str | None:
    """The desk's access token from the variable named by ``web.token_env``."""
    env = os.environ if env is None else env
    return env.get(config.get("web", "token_env")) or None


def check_desk_bind(config: Config, host: str | None = None, serving: bool = False) -> None:
    """ConfigError when the desk would listen off loopback without credentials (the
    daemon serves it only with ``[health] enabled``; ``serving``: it is being built)."""
    from tracker.web.security import check_bind

    if config.get("web", "enabled") and (serving or config.get("health", "enabled")):
        check_bind(host or config.get("health", "host"), web_token(config), str(config.path),
                   config.get("web", "token_env"))


def desk_app(config: Config, store: Store, engine: Engine, clock: Callable[[], datetime], *,
             routes: Sequence[Any] = (), host: str | None = None) -> Any:
    """The desk's ASGI app for this config around ``routes`` (``/healthz``, ``/metrics``;
    ``[web] enabled = false``: only those); refuses a non-loopback bind without a token
    (ConfigError)."""
    import tracker
    from tracker.web.app import build_app
    from tracker.web.data import DeskContext

    token = web_token(config)
    enabled = bool(config.get("web", "enabled"))
    check_desk_bind(config, host, serving=True)
    ctx = DeskContext(labels=engine, names=entity_names(engine),
                      tz=config.get("scheduler", "timezone"), clock=clock,
                      watchlists=config.watchlists, max_age=config.get("alerts", "max_age"),
                      per_page=config.get("web", "per_page"), version=tracker.__version__,
                      token=token)
    return build_app(DeskStore(store), ctx, desk=enabled, extra_routes=routes)
