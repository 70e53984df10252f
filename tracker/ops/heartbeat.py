"""The idle heartbeat: one log line per period while no feed is due. Pure.

A quiet daemon otherwise says nothing between polls (feeds are due every 15 minutes or
more), which looks exactly like a hung one. :meth:`Heartbeat.tick` is called after every
scheduler tick with the number of feeds that tick polled; it returns the fields of an
``idle`` log line when the period has passed since the last line (or the last busy tick),
else None.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass
class Heartbeat:
    period: timedelta
    _since: datetime | None = field(default=None, repr=False)
    _ticks: int = 0

    def tick(self, now: datetime, polled: int, feeds: int,
             next_due: datetime | None) -> dict[str, object] | None:
        """Fields of the ``idle`` line due now, or None (see the module docstring)."""
        if polled or self._since is None:
            self._since, self._ticks = now, 0
            return None
        self._ticks += 1
        if now - self._since < self.period:
            return None
        line: dict[str, object] = {
            "idle_seconds": int((now - self._since).total_seconds()),
            "idle_ticks": self._ticks, "feeds": feeds,
            "next_poll_at": next_due.isoformat() if next_due else None,
        }
        self._since, self._ticks = now, 0
        return line
