"""Building the bot people talk to, and running it inside the daemon's event loop.

:func:`build_application` wires the handlers of :mod:`tracker.telegram.handlers` into a PTB
``Application`` (nothing happens at import time; the daemon calls it once). The bot polls
for updates by default; with :attr:`BotSettings.webhook_url` set it listens for webhooks
instead. The daemon owns the loop, so the application is started and stopped explicitly::

    app = build_application(
        config.values, store, engine, utc_now, token=token,
        entity_ids_with_labels=label_choices(engine, engine.entity_kinds(), "entity"),
        event_types_with_labels=label_choices(engine, engine.event_types(), "event"))
    await start_bot(app)          # initialise, start, begin polling (or the webhook)
    ...                           # APScheduler jobs run alongside on the same loop
    await stop_bot(app)           # stop polling, stop, shut down
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from telegram import BotCommand, Update
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
)

from tracker.alerts.render import Labels
from tracker.store.repo import Store
from tracker.telegram.handlers import Handlers

AnyApplication = Application[Any, Any, Any, Any, Any, Any]

COMMANDS: dict[str, tuple[str, str]] = {
    "start": ("الاشتراك", "subscribe"),
    "help": ("المساعدة", "help"),
    "watch": ("متابعة جهة أو نوع حدث", "follow an entity or event type"),
    "unwatch": ("إلغاء متابعة", "stop following"),
    "list": ("ما تتابعه", "what you follow"),
    "mode": ("فوري أو ملخص يومي/أسبوعي", "instant, daily or weekly"),
    "mute": ("إيقاف مؤقت للتنبيهات", "pause alerts"),
    "timeline": ("آخر الأحداث", "latest events"),
    "lang": ("لغة الواجهة", "interface language"),
    "stop": ("إلغاء الاشتراك وحذف البيانات", "unsubscribe and delete data"),
}


@dataclass(frozen=True)
class BotSettings:
    """How the bot receives updates and how fast it may answer."""

    poll_timeout: float = 30.0  # getUpdates long-polling timeout, seconds
    poll_interval: float = 0.0
    webhook_url: str | None = None  # e.g. https://bot.example/telegram; None: long polling
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443
    webhook_path: str = "telegram"
    webhook_secret: str | None = None
    overall_per_second: float = 30.0
    group_per_minute: float = 20.0
    reply_retries: int = 2  # interactive replies may wait out a RetryAfter; alerts never do
    connection_pool: int = 16
    set_commands: bool = True


def build_application(
    config_values: Mapping[tuple[str, str], Any],
    store: Store,
    labels: Labels,
    now_fn: Callable[[], datetime],
    *,
    token: str,
    entity_ids_with_labels: Sequence[tuple[str, str, str]],
    event_types_with_labels: Sequence[tuple[str, str, str]],
    settings: BotSettings | None = None,
) -> AnyApplication:
    """The bot: commands, buttons and an error handler, against ``telegram.api_url``.

    ``entity_ids_with_labels`` and ``event_types_with_labels`` are ``(id, Arabic label,
    English label)`` triples from the gazetteer and the taxonomy; they make the keyboards
    and let people type names in either language.
    """
    settings = settings or BotSettings()
    handlers = Handlers(store, labels, now_fn, entities=entity_ids_with_labels,
                        event_types=event_types_with_labels,
                        admins=tuple(config_values.get(("telegram", "admins"), ())),
                        timezone=str(config_values.get(("scheduler", "timezone"), "UTC")))
    limiter = AIORateLimiter(overall_max_rate=settings.overall_per_second, overall_time_period=1,
                             group_max_rate=settings.group_per_minute, group_time_period=60,
                             max_retries=settings.reply_retries)
    builder = (ApplicationBuilder().token(token)
               .base_url(str(config_values.get(("telegram", "api_url"),
                                               "https://api.telegram.org/bot")))
               .rate_limiter(limiter)
               .connection_pool_size(settings.connection_pool)
               .get_updates_read_timeout(settings.poll_timeout + 10))
    if settings.set_commands:
        builder = builder.post_init(_set_commands)
    app: AnyApplication = builder.build()
    app.bot_data["handlers"] = handlers
    app.bot_data["settings"] = settings
    for name, callback in (
        ("start", handlers.on_start), ("help", handlers.on_help), ("lang", handlers.on_lang),
        ("watch", handlers.on_watch), ("unwatch", handlers.on_unwatch),
        ("list", handlers.on_list), ("mode", handlers.on_mode), ("mute", handlers.on_mute),
        ("timeline", handlers.on_timeline), ("stop", handlers.on_stop),
        ("stats", handlers.on_stats), ("feeds", handlers.on_feeds),
        ("broadcast", handlers.on_broadcast),
    ):
        app.add_handler(CommandHandler(name, callback))
    app.add_handler(CallbackQueryHandler(handlers.on_button))
    app.add_error_handler(handlers.on_error)
    return app


def label_choices(labels: Labels, ids: Iterable[str], kind: str) -> list[tuple[str, str, str]]:
    """``(id, Arabic label, English label)`` for entity ids (``kind="entity"``) or event
    type ids (``kind="event"``) — the lists :func:`build_application` takes."""
    label = labels.entity_label if kind == "entity" else labels.labels
    return [(i, label(i, "ar"), label(i, "en")) for i in ids]


async def _set_commands(app: AnyApplication) -> None:
    """The command menu, in Arabic by default and in English for English clients."""
    await app.bot.set_my_commands([BotCommand(c, ar) for c, (ar, _) in COMMANDS.items()])
    await app.bot.set_my_commands([BotCommand(c, en) for c, (_, en) in COMMANDS.items()],
                                  language_code="en")


async def start_bot(app: AnyApplication) -> None:
    """Initialise and start ``app`` and begin receiving updates, on the running loop."""
    settings: BotSettings = app.bot_data["settings"]
    await app.initialize()
    if app.post_init is not None:
        await app.post_init(app)
    await app.start()
    assert app.updater is not None
    if settings.webhook_url:
        await app.updater.start_webhook(
            listen=settings.webhook_listen, port=settings.webhook_port,
            url_path=settings.webhook_path,
            webhook_url=f"{settings.webhook_url.rstrip('/')}/{settings.webhook_path}",
            secret_token=settings.webhook_secret, allowed_updates=Update.ALL_TYPES)
    else:
        await app.updater.start_polling(poll_interval=settings.poll_interval,
                                        timeout=int(settings.poll_timeout),
                                        allowed_updates=Update.ALL_TYPES)


async def stop_bot(app: AnyApplication) -> None:
    """Stop receiving updates, let running handlers finish, and close the connections."""
    if app.updater is not None and app.updater.running:
        await app.updater.stop()
    if app.running:
        await app.stop()
    await app.shutdown()
