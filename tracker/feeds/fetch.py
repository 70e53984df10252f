"""Conditional GET of one feed over a shared ``httpx.AsyncClient``.

The rules we follow:

- conditional requests (RFC 7232 §3.2–3.3): ``If-None-Match`` from the stored ETag and
  ``If-Modified-Since`` from the stored Last-Modified, sent verbatim; a 304 (§4.1) costs no
  body and no parse. A 200 with an empty body is also "not modified" (sites do that).
- redirects are followed (at most ``max_redirects``) and the final URL is kept, for
  resolving relative links; more is a ``redirect_loop``. When every hop from the requested
  URL is permanent (301 or 308, RFC 9110 §15.4.2/§15.4.9), the target is ``moved_to``: the
  caller records it and asks there from now on. One 302/307 in the chain ends that.
- at most ``per_host`` requests to one host at a time (an ``asyncio.Semaphore`` per host)
  and at most ``max_connections`` in flight overall (one more semaphore).
- the body is read as a stream of raw bytes and decoded by ``inflate.CappedDecoder``, which
  never inflates past ``max_body_bytes`` (the cap holds inside each zlib call, so a gzip
  bomb stops at the cap, not at the end of a 64 kB chunk's worth of output); a
  Content-Length over the cap stops before the first byte. We ask only for gzip/deflate.
- ``total_timeout`` bounds the whole request, so a slow-drip server cannot hold a per-host
  slot longer than that (configurable: ``[fetch] total_timeout``).
- ``Retry-After`` on 429 and 503 (RFC 9110 §10.2.3), as seconds or an HTTP-date, becomes
  ``FetchFailed.retry_after``; Cache-Control max-age / Expires become ``max_age_seconds``.

Failures raise ``FetchFailed`` (a ``tracker.errors.FetchError``) whose ``kind`` is one of
``timeout``, ``http_<status>``, ``too_large``, ``network``, ``redirect_loop``; a 200 with an
empty body is a result with ``empty_body`` set (the caller decides what it means).
"""

from __future__ import annotations

import asyncio
import time
import zlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

import httpx

from tracker.errors import FetchError
from tracker.feeds.caching import freshness_seconds, retry_after
from tracker.feeds.inflate import SUPPORTED, BodyTooLarge, CappedDecoder
from tracker.feeds.transport import PerOriginTransport

ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
)


@dataclass(frozen=True)
class FetchSettings:
    """How the fetcher talks to the network; one instance for the whole process."""

    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    max_body_bytes: int = 5_000_000
    per_host: int = 2
    max_connections: int = 100
    user_agent: str = "tracker/0.1"
    max_redirects: int = 10
    total_timeout: float | None = 60.0  # whole request, a guard against slow-drip servers


@dataclass(frozen=True)
class FetchState:
    """The validators stored from the last successful fetch (RFC 7232 §2)."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True)
class FetchResult:
    """One successful fetch; ``body`` is ``b""`` when ``not_modified``."""

    url: str
    final_url: str
    not_modified: bool
    http_status: int
    etag: str | None
    last_modified: str | None
    body: bytes
    content_type: str | None
    max_age_seconds: int | None
    elapsed_seconds: float
    moved_to: str | None = None  # where every redirect hop said the feed moved permanently
    empty_body: bool = False  # a 200 (not a 304) with no body at all

    def state(self) -> FetchState:
        """The validators to send on the next fetch of this feed."""
        return FetchState(etag=self.etag, last_modified=self.last_modified)


class FetchFailed(FetchError):
    """A fetch failure with what the scheduler needs: the HTTP status and Retry-After."""

    def __init__(
        self,
        kind: str,
        message: str,
        *,
        http_status: int | None = None,
        retry_after: datetime | None = None,
        decoded_bytes: int | None = None,
    ) -> None:
        super().__init__(kind, message)
        self.http_status = http_status
        self.retry_after = retry_after
        self.decoded_bytes = decoded_bytes  # too_large: bytes produced before the read stopped


def build_client(settings: FetchSettings) -> httpx.AsyncClient:
    """The one HTTP client of the process: redirects followed, HTTP/1.1, kept-alive
    connections in one small pool per origin (see ``transport``)."""
    return httpx.AsyncClient(
        transport=PerOriginTransport(per_origin=settings.per_host),
        follow_redirects=True,
        max_redirects=settings.max_redirects,
        timeout=httpx.Timeout(
            connect=settings.connect_timeout,
            read=settings.read_timeout,
            write=settings.read_timeout,
            pool=None,  # waiting for a free connection is bounded by total_timeout instead
        ),
        headers={"User-Agent": settings.user_agent, "Accept": ACCEPT,
                 "Accept-Encoding": "gzip, deflate"},
    )


class Fetcher:
    """Fetches feeds with conditional GET, a per-host limit and a body size cap."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        settings: FetchSettings,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._client = client
        self._settings = settings
        self._clock = clock
        self._hosts: dict[str, asyncio.Semaphore] = {}
        self._in_flight = asyncio.Semaphore(settings.max_connections)

    async def fetch(self, url: str, state: FetchState | None = None) -> FetchResult:
        """GET ``url`` conditionally; raises ``FetchFailed`` on any failure."""
        state = state or FetchState()
        headers: dict[str, str] = {}
        if state.etag:
            headers["If-None-Match"] = state.etag
        if state.last_modified:
            headers["If-Modified-Since"] = state.last_modified
        async with self._host_slot(url), self._in_flight:
            started = time.monotonic()
            try:
                async with asyncio.timeout(self._settings.total_timeout):
                    async with self._client.stream("GET", url, headers=headers) as response:
                        return await self._result(url, state, response, started)
            except TimeoutError as exc:
                raise FetchFailed("timeout", f"timed out after {_since(started)} s: {url}") from exc
            except httpx.TimeoutException as exc:
                message = f"{_timeout_phase(exc)} timed out after {_since(started)} s: {url}"
                raise FetchFailed("timeout", message) from exc
            except httpx.TooManyRedirects as exc:
                raise FetchFailed("redirect_loop", f"too many redirects from {url}") from exc
            except (httpx.HTTPError, httpx.InvalidURL) as exc:
                message = f"network error ({type(exc).__name__}: {exc}) fetching {url}"
                raise FetchFailed("network", message) from exc

    def _host_slot(self, url: str) -> asyncio.Semaphore:
        host = (urlsplit(url).hostname or "").lower()
        slot = self._hosts.get(host)
        if slot is None:
            slot = self._hosts[host] = asyncio.Semaphore(self._settings.per_host)
        return slot

    async def _result(
        self, url: str, state: FetchState, response: httpx.Response, started: float
    ) -> FetchResult:
        status = response.status_code
        if status != 304 and not 200 <= status < 300:
            raise self._http_error(response)
        if status == 304:
            await response.aread()  # no body, but reading to its end keeps the connection
            body = b""
        else:
            body = await self._read_capped(response)
        return FetchResult(
            moved_to=_moved_to(url, response),
            empty_body=status != 304 and not body,
            url=url,
            final_url=str(response.url),
            not_modified=status == 304 or not body,
            http_status=status,
            etag=response.headers.get("etag") or (state.etag if status == 304 else None),
            last_modified=response.headers.get("last-modified")
            or (state.last_modified if status == 304 else None),
            body=body,
            content_type=response.headers.get("content-type"),
            max_age_seconds=freshness_seconds(response.headers, self._clock()),
            elapsed_seconds=time.monotonic() - started,
        )

    async def _read_capped(self, response: httpx.Response) -> bytes:
        cap = self._settings.max_body_bytes
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > cap:
            raise _too_large(response, f"Content-Length {declared}")
        coding = response.headers.get("content-encoding", "identity")
        if coding.strip().lower() not in SUPPORTED:  # not asked for: httpx decodes it
            return await self._read_decoded(response, cap)
        decoder = CappedDecoder(coding, cap)
        chunks: list[bytes] = []
        raw_size = 0
        try:
            async for raw in _raw_chunks(response):
                raw_size += len(raw)
                if raw_size > cap:
                    raise BodyTooLarge(raw_size)
                chunks.append(decoder.feed(raw))
        except BodyTooLarge as exc:
            raise _too_large(response, f"stopped after {exc.decoded:,} decoded bytes",
                             exc.decoded) from exc
        except zlib.error as exc:
            raise FetchFailed("network", f"broken {coding} body ({exc}): {response.url}",
                              http_status=response.status_code) from exc
        return b"".join(chunks)

    async def _read_decoded(self, response: httpx.Response, cap: int) -> bytes:
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > cap:
                raise _too_large(response, f"stopped after {size:,} decoded bytes", size)
            chunks.append(chunk)
        return b"".join(chunks)

    def _http_error(self, response: httpx.Response) -> FetchFailed:
        status = response.status_code
        message = f"HTTP {status} {response.reason_phrase}".rstrip()
        when = None
        if status in (429, 503):
            now = self._clock()
            when = retry_after(response.headers.get("retry-after"), now)
            if when is not None:
                message += f", retry after {max(0, round((when - now).total_seconds()))} s"
        return FetchFailed(
            f"http_{status}",
            f"{message}: {response.url}",
            http_status=status,
            retry_after=when,
        )


def _too_large(response: httpx.Response, detail: str, decoded: int | None = None) -> FetchFailed:
    return FetchFailed(
        "too_large",
        f"body too large ({detail}, cap exceeded): {response.url}",
        http_status=response.status_code,
        decoded_bytes=decoded,
    )


async def _raw_chunks(response: httpx.Response) -> AsyncIterator[bytes]:
    """The body as sent (still content-encoded); a response built in memory by a transport
    (``httpx.Response(200, content=…)``) has no stream to read, only its bytes."""
    try:
        async for raw in response.aiter_raw():
            yield raw
    except httpx.StreamConsumed:
        yield response.content


def _moved_to(url: str, response: httpx.Response) -> str | None:
    """The URL a chain of only-permanent redirects from ``url`` ends at (None: no such move)."""
    if not response.history:
        return None
    if any(hop.status_code not in (301, 308) for hop in response.history):
        return None
    target = str(response.url)
    return target if target != url else None


def _since(started: float) -> str:
    return f"{time.monotonic() - started:.1f}"


def _timeout_phase(exc: httpx.TimeoutException) -> str:
    return {
        httpx.ConnectTimeout: "connect",
        httpx.ReadTimeout: "read",
        httpx.WriteTimeout: "write",
        httpx.PoolTimeout: "waiting for a connection",
    }.get(type(exc), "request")
