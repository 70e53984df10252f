"""What a response's headers say about when to ask again (pure functions).

- ``freshness_seconds``: ``Cache-Control: max-age`` wins over ``Expires`` (RFC 9111 §4.2.1);
  ``no-store``/``no-cache`` give no freshness; ``Expires`` is read against the response's
  ``Date`` header when present, else against ``now``.
- ``retry_after``: ``Retry-After`` as delay-seconds or an HTTP-date (RFC 9110 §10.2.3), as an
  aware UTC instant.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*\"?(\d+)", re.I)
_NO_CACHE = re.compile(r"(?:^|,)\s*(no-store|no-cache)\b", re.I)


def http_date(value: str | None) -> datetime | None:
    """An HTTP-date (IMF-fixdate or an obsolete form) as aware UTC, or None."""
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)  # HTTP dates are always GMT
    return parsed.astimezone(UTC)


def freshness_seconds(headers: Mapping[str, str], now: datetime) -> int | None:
    """Seconds the response stays fresh, from Cache-Control max-age or Expires, or None."""
    cache_control = headers.get("cache-control", "")
    if _NO_CACHE.search(cache_control):
        return None
    if match := _MAX_AGE.search(cache_control):
        return int(match.group(1))
    expires = http_date(headers.get("expires"))
    if expires is None:
        return None
    reference = http_date(headers.get("date")) or now
    return max(0, int((expires - reference).total_seconds()))


def retry_after(value: str | None, now: datetime) -> datetime | None:
    """The instant a Retry-After header value points at, or None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return now + timedelta(seconds=int(value))
    return http_date(value)
