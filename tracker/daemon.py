"""``tracker run``: the scheduler loop.

The schedule is a timer plus a query (as in miniflux): every ``tick`` the poll job claims the
feeds whose ``next_poll_at`` has come, so each feed is polled at its own interval (and
backoff), restarts lose nothing, and several processes can share the feeds. A second job
drains the outbox. SIGHUP reloads the config files (feeds and watchlists added or removed
without a restart). SIGINT and SIGTERM stop everything: the running cycle may finish within
``grace`` seconds, the outbox is flushed once more, then clients close; every ingest is one
transaction, so an interrupted feed is simply polled again next time.

Alongside run the health server (``/healthz``, ``/metrics``) and, under systemd, the
READY/STOPPING notices and the watchdog (:mod:`tracker.ops.runtime`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, TextIO

from apscheduler.schedulers.asyncio import AsyncIOScheduler

import tracker
from tracker.alerts.outbox import drain
from tracker.app import (
    App,
    bot_settings,
    check_desk_bind,
    desk_app,
    load_classifier,
    open_app,
)
from tracker.config import Config, load_config
from tracker.errors import TrackerError
from tracker.ops.heartbeat import Heartbeat
from tracker.ops.instrument import MeteredNotifier, observe_cycle, observe_drain
from tracker.ops.metrics import Metrics
from tracker.ops.probes import sql_ping
from tracker.ops.runtime import Operations, OpsSettings
from tracker.store.botport import StoreForBot
from tracker.store.db import Leadership
from tracker.store.desk import DeskStore

if TYPE_CHECKING:  # python-telegram-bot loads only when a token is set (BotRunner.tick)
    from tracker.telegram.bot import AnyApplication

log = logging.getLogger(__name__)


def utc_now() -> datetime:
    return datetime.now(UTC)


class Daemon:
    """Owns the scheduler and its jobs for one process."""

    def __init__(self, app: App, tick: float, outbox_interval: float,
                 metrics: Metrics | None = None) -> None:
        self.app = app
        self.tick = tick
        self.outbox_interval = outbox_interval
        self.metrics = metrics or Metrics(version=tracker.__version__)
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        self._running: set[asyncio.Task[object]] = set()
        self.cycles = 0
        self.last_cycle_at: datetime | None = None
        self.on_reload: Callable[[Config], None] | None = None
        self.heartbeat = Heartbeat(app.config.get("scheduler", "heartbeat"))

    def _spawn(self, job: Callable[[], Awaitable[None]]) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            task = asyncio.current_task()
            assert task is not None
            self._running.add(task)
            try:
                await job()
            except asyncio.CancelledError:  # stop() cancels what outlives the grace period
                log.warning("job_cancelled", extra={"job": getattr(job, "__name__", "job")})
            except Exception:
                log.exception("job_failed", extra={"job": getattr(job, "__name__", "job")})
            finally:
                self._running.discard(task)
        return run

    async def poll(self) -> None:
        report = await self.app.pipeline.run_cycle()
        self.cycles += 1
        self.last_cycle_at = utc_now()
        observe_cycle(self.metrics, report, self.last_cycle_at)
        if report.feeds:
            log.info("cycle_done", extra={"feeds": len(report.feeds),
                                          "new_items": report.total("new_items"),
                                          "events": report.total("events"),
                                          "alerts": report.total("alerts"),
                                          "errors": report.errors})
        if report.total("new_items"):
            await asyncio.to_thread(DeskStore(self.app.store).refresh_search)
        feeds = len(self.app.config.feeds)
        idle = self.heartbeat.tick(self.last_cycle_at, len(report.feeds), feeds, None)
        if idle is not None:
            feed_views = await asyncio.to_thread(self.app.store.feeds)
            due = [f.next_poll_at for f in feed_views if f.next_poll_at is not None]
            idle["next_poll_at"] = min(due).isoformat() if due else None
            log.info("idle", extra=idle)
        if report.total("alerts"):
            await self.send()

    async def send(self) -> None:
        if not self.app.can_send():  # rows keep their attempts until the link is back
            return
        result = await drain(self.app.store, self.app.notifier, utc_now, self.app.owner,
                             lease=self.app.config.get("scheduler", "outbox_lease"))
        observe_drain(self.metrics, result)
        counts = await asyncio.to_thread(self.app.store.outbox_counts)
        self.metrics.set_outbox_depth(counts.get("pending", 0))

    def reload(self) -> None:
        """SIGHUP: re-read the config files; feeds and watchlists change without a restart.

        A config that does not load is logged and ignored: the daemon keeps the old one.
        """
        try:
            config = load_config(self.app.config.path)
            load_classifier(config)  # validates watchlist references
            self.app.store.sync_feeds(config.feeds, utc_now())
        except TrackerError as exc:
            log.error("reload_failed", extra={"error": str(exc)})
            return
        self.app.config = config
        self.app.pipeline.watchlists = tuple(config.watchlists)
        if self.on_reload is not None:
            self.on_reload(config)
        log.info("config_reloaded", extra={"feeds": len(config.feeds),
                                           "watchlists": len(config.watchlists)})

    async def digest(self, period: str) -> None:
        """Queue and send the daily or weekly digests (at most one per chat and period)."""
        from tracker.alerts.digests import send_digests

        now = utc_now()
        if period == "weekly":  # the config watchlists' channels get the weekly digest too
            await asyncio.to_thread(self._queue_channel_digests, now)
        queued = await send_digests(self.app.store, self.app.notifier, now,
                                    "weekly" if period == "weekly" else "daily",
                                    clock=utc_now, owner=self.app.owner)
        log.info("digests_sent", extra={"period": period, "queued": queued})

    def _queue_channel_digests(self, now: datetime) -> None:
        from tracker.store.deliveries import digest_key, enqueue_digest

        chats = {c for wl in self.app.config.watchlists for c in wl.chats if c != "console"}
        for chat in sorted(chats):
            enqueue_digest(self.app.store, chat, digest_key("weekly", now),
                           now - timedelta(days=7), now, now)

    def start(self) -> None:
        now = utc_now()
        config = self.app.config
        tz = config.get("scheduler", "timezone")
        hour = config.get("digest", "hour")
        weekday = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[config.get("digest",
                                                                              "weekday")]
        self.scheduler.add_job(self._spawn(lambda: self.digest("daily")), "cron", hour=hour,
                               timezone=tz, id="digest_daily", coalesce=True,
                               misfire_grace_time=3600)
        self.scheduler.add_job(self._spawn(lambda: self.digest("weekly")), "cron",
                               day_of_week=weekday, hour=hour, timezone=tz, id="digest_weekly",
                               coalesce=True, misfire_grace_time=3600)
        self.scheduler.add_job(self._spawn(self.poll), "interval", seconds=self.tick,
                               next_run_time=now, max_instances=1, coalesce=True, id="poll")
        self.scheduler.add_job(self._spawn(self.send), "interval", seconds=self.outbox_interval,
                               next_run_time=now + timedelta(seconds=1), max_instances=1,
                               coalesce=True, id="outbox")
        self.scheduler.start()

    async def stop(self, grace: float) -> None:
        self.scheduler.shutdown(wait=False)
        running = list(self._running)
        if running:
            _done, pending = await asyncio.wait(running, timeout=grace)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending, timeout=2)


BOT_LEADER_LOCK = 7_245_003


class BotRunner:
    """Runs the Telegram bot in exactly one process of a cluster: the one holding the
    bot's :class:`~tracker.store.db.Leadership`; the others try again every tick and take
    over when the holder dies."""

    def __init__(self, app: App, config: Config) -> None:
        self.app = app
        self.config = config
        self.leader = Leadership(app.store.engine, BOT_LEADER_LOCK)
        self.bot: AnyApplication | None = None
        self._retry_first = config.get("telegram", "retry_first").total_seconds()
        self._retry_max = config.get("telegram", "retry_max").total_seconds()
        self._delay = self._retry_first
        self._next_try = 0.0
        self._last_failure: tuple[str, str] | None = None
        if not app.telegram_token:
            log.warning("telegram_disabled", extra={
                "reason": f"no token in ${config.get('telegram', 'token_env')}; alerts go to "
                          "the console"})

    async def tick(self) -> None:
        if self.bot is not None or not self.app.telegram_token:
            return
        if time.monotonic() < self._next_try or not self.app.can_send():
            return  # while the sender's link is down it alone reports (and retries) it
        if not await asyncio.to_thread(self.leader.try_acquire):
            return
        from tracker.telegram.bot import build_application, label_choices, start_bot, stop_bot

        labels = self.app.classifier
        bot = build_application(
            self.config.values, StoreForBot(self.app.store), labels, utc_now,
            token=self.app.telegram_token,
            entity_ids_with_labels=label_choices(labels, labels.entity_kinds(), "entity"),
            event_types_with_labels=label_choices(labels, labels.event_types(), "event"),
            settings=bot_settings(self.config))
        try:
            await start_bot(bot)
        except Exception as exc:  # unreachable, token refused: the daemon goes on
            with contextlib.suppress(Exception):
                await stop_bot(bot)
            self._failed(exc)
            return
        self.bot = bot
        self._delay = self._retry_first
        self._next_try = 0.0
        log.info("telegram_bot_started", extra={"owner": self.app.owner})

    def _failed(self, exc: BaseException) -> None:
        """One log line per new reason (no traceback), then retry with backoff."""
        from tracker.telegram.link import describe, failure_kind

        status, reason = failure_kind(exc), describe(exc)
        if (status, reason) != self._last_failure:
            log.error("telegram_bot_unavailable", extra={
                "status": status, "reason": reason, "retry_in_seconds": self._delay})
            self._last_failure = (status, reason)
        self._next_try = time.monotonic() + self._delay
        self._delay = min(self._retry_max, self._delay * 2)

    async def stop(self) -> None:
        if self.bot is not None:
            from tracker.telegram.bot import stop_bot

            await stop_bot(self.bot)
            self.bot = None
        await asyncio.to_thread(self.leader.release)


def ops_settings(config: Config) -> OpsSettings:
    return OpsSettings(config.get("health", "enabled"), config.get("health", "host"),
                       config.get("health", "port"), config.get("health", "max_cycle_age"))


async def run_daemon(config: Config, out: TextIO, *, grace: float = 5.0,
                     ready: Callable[[Daemon], None] | None = None) -> None:
    """Run until SIGINT or SIGTERM."""
    check_desk_bind(config)  # before anything polls or listens
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    metrics = Metrics(version=tracker.__version__)
    try:
        async with open_app(config, utc_now, out) as app:
            app.notifier = MeteredNotifier(app.notifier, metrics, utc_now)
            outbox_every = config.get("scheduler", "outbox_interval").total_seconds()
            tick = config.get("scheduler", "tick").total_seconds()
            daemon = Daemon(app, tick=tick, outbox_interval=outbox_every, metrics=metrics)
            bots = BotRunner(app, config)
            link_task = (asyncio.create_task(app.telegram_link.run())
                         if app.telegram_link is not None else None)
            daemon.scheduler.add_job(daemon._spawn(bots.tick), "interval", seconds=5,
                                     next_run_time=utc_now(), max_instances=1, coalesce=True,
                                     id="bot_leader")
            daemon.start()
            ops = Operations(ops_settings(config), metrics, tracker.__version__)
            link = app.telegram_link
            await ops.start(check_database=sql_ping(app.store.engine),
                            scheduler_running=lambda: bool(daemon.scheduler.running),
                            last_cycle_at=lambda: daemon.last_cycle_at,
                            components=(lambda: {"telegram": link.health()})
                            if link is not None else None,
                            status=f"polling {len(config.feeds)} feeds",
                            app=lambda routes: desk_app(config, app.store, app.classifier,
                                                        utc_now, routes=routes))

            def reload() -> None:
                ops.reloading()
                daemon.reload()
                ops.reloaded(f"polling {len(daemon.app.config.feeds)} feeds")

            loop.add_signal_handler(signal.SIGHUP, reload)
            log.info("daemon_started", extra={"feeds": len(config.feeds), "owner": app.owner,
                                              "database": app.store.engine.url.render_as_string()})
            if ready is not None:
                ready(daemon)
            await stop.wait()
            log.info("daemon_stopping", extra={"grace_seconds": grace})
            await ops.stop("stopping")
            await daemon.stop(grace)
            await bots.stop()
            if link_task is not None:
                link_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await link_task
            await daemon.send()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            loop.remove_signal_handler(sig)
    log.info("daemon_stopped")
