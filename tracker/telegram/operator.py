"""The texts of the operators' /stats and /feeds (pure): Telegram HTML with every stored
string escaped; /feeds lists the failing feeds first, then the longest without a success."""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import datetime

from tracker.telegram.ports import FeedStatus


def stats_text(stats: Sequence[tuple[str, str]],
               failed: Sequence[tuple[int, str, str, str]]) -> str:
    """``stats`` as ``key: value`` lines, then the rows that failed for good
    ``(outbox id, chat, kind, error)``."""
    lines = ["<b>stats</b>"]
    lines += [f"{html.escape(k)}: {html.escape(v)}" for k, v in stats]
    if failed:
        lines.append("<b>failed</b>")
        lines += [f"#{i} chat {html.escape(c)} {html.escape(k)}: {html.escape(e[:200])}"
                  for i, c, k, e in failed]
    return "\n".join(lines)


def feeds_text(feeds: Sequence[FeedStatus], now: datetime, limit: int = 40) -> str:
    """One line per feed (at most ``limit``): ❌/✅, failures, minutes since a success."""
    never = datetime.min.replace(tzinfo=now.tzinfo)
    ordered = sorted(feeds, key=lambda f: (-f.consecutive_failures,
                                           f.last_success_at or never))
    lines = ["<b>feeds</b> (failing first)"]
    for f in ordered[:limit]:
        age = "never" if f.last_success_at is None else \
            f"{int((now - f.last_success_at).total_seconds() // 60)}m ago"
        mark = "❌" if f.consecutive_failures else "✅"
        err = f" — {html.escape((f.last_error or '')[:120])}" if f.consecutive_failures else ""
        lines.append(f"{mark} {html.escape(f.name)}: failures {f.consecutive_failures}, "
                     f"last success {age}{err}")
    return "\n".join(lines)
