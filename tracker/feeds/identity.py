"""The stable identity of a feed entry, so the same item is recognised on every fetch.

An entry's key is decided in this order:

1. ``guid:<guid>`` when the feed gives a GUID that looks stable: not empty, not the same as
   the link (then it *is* the link, rule 2), and not random-looking (a UUID or a long hex
   string) when the entry also has a link that no other entry of the same fetch shares;
2. ``url:<canonical link>`` — scheme and host lower-cased, default port, fragment and
   tracking parameters (``utm_*``, ``fbclid``, ``gclid``) dropped, other parameters kept in
   their order, non-ASCII path characters percent-encoded (RFC 3986 §6.2);
3. ``hash:<sha1>`` of the match keys of title and summary, for entries with neither.

Why random-looking GUIDs lose to the link: a GUID that changes on every fetch (a known
failure of some CMS plugins) makes every item "new" each time; those GUIDs are generated,
so they look like UUIDs or hashes. A link shared by several entries (every item pointing at
the home page) is not an identity, so those entries keep their GUID or fall to the hash.
"""

from __future__ import annotations

import functools
import hashlib
import re
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from tracker.text.normalize import match_key

TRACKING_PARAMS = frozenset({"fbclid", "gclid"})
_RANDOM_GUID = re.compile(
    r"[{(]?[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}[})]?|[0-9a-f]{16,}",
    re.I,
)
_DEFAULT_PORTS = {"http": 80, "https": 443}
_ESCAPE = re.compile(r"%[0-9a-fA-F]{2}")
_PATH_SAFE = "/:@!$&'()*+,;=-._~%"


@functools.lru_cache(maxsize=8192)  # called for every entry of every fetch
def canonical_url(url: str) -> str:
    """The form of ``url`` we compare: see rule 2 of the module docstring."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if parts.port is not None and parts.port != _DEFAULT_PORTS.get(scheme):
        host = f"{host}:{parts.port}"
    path = _ESCAPE.sub(lambda m: m.group(0).upper(), quote(parts.path, safe=_PATH_SAFE))
    query = [
        (name, value)
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
        if not (name.lower().startswith("utm_") or name.lower() in TRACKING_PARAMS)
    ]
    return urlunsplit((scheme, host, path or "/", urlencode(query, doseq=True), ""))


def is_random_guid(guid: str) -> bool:
    """True for GUIDs that look generated (a UUID or a long hex digest)."""
    return _RANDOM_GUID.fullmatch(guid.strip()) is not None


def entry_key(
    guid: str | None, link: str | None, title: str, summary: str, *, link_is_shared: bool
) -> str:
    """The stable key of one entry, by the rules of the module docstring."""
    canonical = canonical_url(link) if link else None
    url = None if link_is_shared else canonical
    guid = (guid or "").strip()
    if guid:
        if guid == link or (
            guid.startswith(("http://", "https://")) and canonical_url(guid) == canonical
        ):
            return f"url:{canonical}"
        if not (url and is_random_guid(guid)):
            return f"guid:{guid}"
    if url:
        return f"url:{url}"
    digest = hashlib.sha1(f"{match_key(title)}\x1f{match_key(summary)}".encode()).hexdigest()
    return f"hash:{digest}"
