"""The feeds edge: bytes off the network, turned into ``ParsedFeed`` values.

One module per job, in the order a poll runs through them:

- ``poll``      — one feed fetched and, if changed, parsed in a worker thread.
- ``fetch``     — conditional GET over one shared ``httpx.AsyncClient`` (RFC 9110, RFC 7232),
                  per-host concurrency limit, streamed body size cap, Retry-After.
- ``transport`` — the client's connection pools, one small pool per origin.
- ``caching``   — what response headers say about freshness and Retry-After (pure).
- ``schedule``  — when to poll a feed next (pure: success, Cache-Control/TTL, backoff).
- ``decode``    — bytes to text when the declared encoding lies (BOM, UTF-8, charset, cp1256).
- ``dates``     — publication dates feedparser cannot read (Arabic months, digits, "AST").
- ``identity``  — the stable key of an entry (guid, canonical URL, or content hash).
- ``parse``     — decoded text to ``ParsedFeed`` via feedparser (pure and synchronous).

Nothing here runs at import time; the caller builds the client and passes it in.
"""

from __future__ import annotations
