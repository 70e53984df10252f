"""A notifier that prints alerts on the console (used while no Telegram token is set)."""

from __future__ import annotations

from typing import TextIO

from tracker.alerts.render import Labels, alert_text
from tracker.store.repo import OutboxMessage
from tracker.text.safe import terminal_text


class ConsoleNotifier:
    """Writes each alert as plain text to ``stream`` (control characters deleted, so a feed
    string never drives the terminal); every message is delivered."""

    def __init__(self, stream: TextIO, labels: Labels, lang: str = "ar",
                 tz: str = "UTC") -> None:
        self.tz = tz
        self.stream = stream
        self.labels = labels
        self.lang = lang

    async def deliver(self, message: OutboxMessage) -> str | None:
        if message.event is None:
            body = message.payload or f"[{message.kind}]"
        else:
            body = alert_text(message.event, message.sources, self.labels, self.lang,
                              tz=self.tz)
        head = f"── alert → {message.chat_id}" + (
            f" (watchlist {message.watchlist})" if message.watchlist else "")
        self.stream.write(terminal_text(f"{head}\n{body}\n"))  # feed strings: no control codes
        self.stream.flush()
        return None
