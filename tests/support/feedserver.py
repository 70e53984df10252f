"""A real HTTP/1.1 feed server on loopback, for tests and benchmarks.

It runs its own asyncio loop in a background thread, so sync tests, async tests (whose loop
stays free) and benchmarks can all use it; ``FeedServerProcess`` runs one in a child process
when its CPU must not count against the measured client.

Usage::

    with FeedServer() as srv:                      # 127.0.0.1, an ephemeral port
        srv.add("/a.xml", body=rss([Item("عنوان", link="/n/1")]), etag='"v1"',
                content_type="application/rss+xml; charset=windows-1256")
        url = srv.url("/a.xml")
        ...                                        # fetch it
        srv.requests_for("/a.xml")[-1].headers["if-none-match"]

Routes (all take ``headers=`` for extra response headers and ``delay=`` seconds, slept
asynchronously before the status line):

- ``add(path, body, ...)``          a static response; honours If-None-Match and
                                    If-Modified-Since with 304 when it has an ETag or
                                    Last-Modified (RFC 7232 §3.2–3.3, If-None-Match first);
- ``set_body(path, body, ...)``     change a route's body (and validators) in place;
- ``script(path, [Response, ...])`` answer with each response in turn, the last one repeats
                                    (e.g. 429 with Retry-After, then 200);
- ``add_redirect(path, location)``  a 301/302/307 to another path or URL;
- ``add_huge(path, size)``          a body of ``size`` bytes streamed in chunks, never held in
                                    memory; ``stats(path).bytes_sent`` shows how much went out
                                    before the client hung up;
- ``add_drip(path, chunks, every)`` a body sent slowly, one chunk every ``every`` seconds.

Unknown paths answer 404. ``FeedServer(hosts=[...])`` listens on several loopback addresses
(``127.0.0.2`` … ``127.0.0.51`` all reach ``lo`` on Linux) and serves every route on each;
``url(path, host=i)`` picks the address. ``rss(items, encoding=, declared=)`` builds RSS 2.0
bytes in any encoding with a possibly lying XML declaration; ``truncated(body)`` breaks it,
``html_page()`` is what a dead feed URL often serves instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from email.utils import format_datetime, parsedate_to_datetime
from http import HTTPStatus
from typing import Any
from xml.sax.saxutils import escape

# --- the responses a route can give --------------------------------------------------------


@dataclass(frozen=True)
class Response:
    """One scripted answer of a route."""

    status: int = 200
    body: bytes = b""
    content_type: str | None = "application/rss+xml; charset=utf-8"
    etag: str | None = None
    last_modified: str | None = None  # an HTTP-date; see http_date()
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before the status line (asyncio.sleep, the server stays free)
    stream_size: int | None = None  # stream this many filler bytes instead of ``body``
    drip: float = 0.0  # seconds before each body chunk
    chunk_size: int = 65_536
    chunks: tuple[bytes, ...] | None = None  # send the body as exactly these pieces
    reason: str | None = None  # the status line's reason phrase (latin-1), else the standard one


@dataclass(frozen=True)
class Request:
    """One request the server received; header names are lower-case."""

    method: str
    path: str
    headers: Mapping[str, str]
    host: str
    at: float  # time.monotonic()


@dataclass
class RouteStats:
    """What a route has done so far."""

    hits: int = 0
    bytes_sent: int = 0


@dataclass
class _Route:
    responses: list[Response]
    stats: RouteStats = field(default_factory=RouteStats)

    def next_response(self) -> Response:
        index = min(self.stats.hits, len(self.responses) - 1)
        self.stats.hits += 1
        return self.responses[index]


def http_date(value: datetime) -> str:
    """An aware datetime as an IMF-fixdate (``Sun, 24 Aug 2025 07:30:00 GMT``)."""
    return format_datetime(value, usegmt=True)


# --- the server ------------------------------------------------------------------------------

_FILLER = b"<!-- padding padding padding padding padding padding padding padding -->\n"


class FeedServer:
    """A threaded asyncio HTTP/1.1 server with keep-alive, on one or more loopback addresses."""

    def __init__(self, host: str = "127.0.0.1", *, hosts: Sequence[str] | None = None) -> None:
        self.hosts: tuple[str, ...] = tuple(hosts or (host,))
        self.base_urls: list[str] = []
        self.requests: list[Request] = []
        self.connections = 0  # TCP connections accepted (keep-alive reuse shows here)
        self._routes: dict[str, _Route] = {}
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._servers: list[asyncio.Server] = []
        self._writers: set[asyncio.StreamWriter] = set()

    # life cycle

    def __enter__(self) -> FeedServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
        """Start listening; returns once every address accepts connections."""
        self._thread = threading.Thread(target=self._run, name="feedserver", daemon=True)
        self._thread.start()
        self._ready.wait(10)
        if self._error is not None:
            raise RuntimeError("feed server failed to start") from self._error

    def stop(self) -> None:
        """Close every connection and stop the loop thread."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None or not thread.is_alive():
            return
        asyncio.run_coroutine_threadsafe(self._close(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)

    # routes

    def add(
        self,
        path: str,
        body: bytes = b"",
        *,
        content_type: str | None = "application/rss+xml; charset=utf-8",
        etag: str | None = None,
        last_modified: str | datetime | None = None,
        status: int = 200,
        delay: float = 0.0,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Serve ``body`` at ``path`` (replacing any route there)."""
        response = Response(
            status=status,
            body=body,
            content_type=content_type,
            etag=etag,
            last_modified=_as_http_date(last_modified),
            headers=dict(headers or {}),
            delay=delay,
        )
        self.script(path, [response])

    def script(self, path: str, responses: Sequence[Response]) -> None:
        """Answer requests to ``path`` with ``responses`` in turn; the last one repeats."""
        if not responses:
            raise ValueError("a script needs at least one response")
        with self._lock:
            self._routes[path] = _Route(list(responses))

    def set_body(
        self,
        path: str,
        body: bytes,
        *,
        etag: str | None = None,
        last_modified: str | datetime | None = None,
    ) -> None:
        """Change the body (and validators) every response of ``path`` gives from now on."""
        with self._lock:
            route = self._routes[path]
            route.responses = [
                replace(r, body=body, etag=etag, last_modified=_as_http_date(last_modified))
                for r in route.responses
            ]

    def add_redirect(self, path: str, location: str, *, status: int = 301) -> None:
        """Redirect ``path`` to ``location`` (a path on this server or an absolute URL)."""
        self.script(path, [Response(status=status, content_type=None,
                                    headers={"Location": location})])  # fmt: skip

    def add_huge(
        self, path: str, size: int, *, declare_length: bool = True, chunk_size: int = 65_536
    ) -> None:
        """Stream ``size`` filler bytes (with or without Content-Length), never materialised."""
        headers = {} if declare_length else {"X-No-Length": "1"}
        self.script(path, [Response(stream_size=size, headers=headers, chunk_size=chunk_size)])

    def add_drip(self, path: str, chunks: Sequence[bytes], every: float) -> None:
        """Send ``chunks`` one by one, ``every`` seconds apart (a slow-drip server)."""
        self.script(path, [Response(body=b"".join(chunks), drip=every, chunks=tuple(chunks))])

    # what happened

    def url(self, path: str, host: int = 0) -> str:
        """The absolute URL of ``path`` on the ``host``-th address."""
        return self.base_urls[host] + path

    def requests_for(self, path: str) -> list[Request]:
        """The requests received for ``path`` (without query string), oldest first."""
        return [r for r in list(self.requests) if r.path.split("?")[0] == path]

    def stats(self, path: str) -> RouteStats:
        """Hits and bytes sent of the route at ``path``."""
        return self._routes[path].stats

    # the loop thread

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._listen())
        except BaseException as exc:  # reported to start()
            self._error = exc
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _listen(self) -> None:
        port = 0
        for host in self.hosts:
            try:
                server = await asyncio.start_server(self._serve, host, port, limit=1 << 16)
            except OSError:
                server = await asyncio.start_server(self._serve, host, 0, limit=1 << 16)
            bound = server.sockets[0].getsockname()[1]
            port = port or bound
            self._servers.append(server)
            self.base_urls.append(f"http://{host}:{bound}")

    async def _close(self) -> None:
        for server in self._servers:
            server.close()
        for writer in list(self._writers):
            writer.close()
        current = asyncio.current_task()
        tasks = [task for task in asyncio.all_tasks() if task is not current]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for server in self._servers:
            await server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        self.connections += 1
        host = writer.get_extra_info("sockname")[0]
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                    return
                request = _parse_request(head, host)
                if request is None:
                    return
                length = int(request.headers.get("content-length", "0") or 0)
                if length:
                    await reader.readexactly(length)
                self.requests.append(request)
                keep_alive = await self._answer(request, writer)
                if not keep_alive:
                    return
        except (ConnectionError, asyncio.CancelledError):
            return
        finally:
            self._writers.discard(writer)
            writer.close()

    async def _answer(self, request: Request, writer: asyncio.StreamWriter) -> bool:
        with self._lock:
            route = self._routes.get(request.path.split("?")[0])
            response = route.next_response() if route else Response(status=404, body=b"")
        if response.delay:
            await asyncio.sleep(response.delay)
        status = response.status
        if 200 <= status < 300 and _not_modified(request.headers, response):
            status = 304
        headers: dict[str, str] = {}
        if response.content_type and status != 304:
            headers["Content-Type"] = response.content_type
        if response.etag:
            headers["ETag"] = response.etag
        if response.last_modified:
            headers["Last-Modified"] = response.last_modified
        headers.update({k: v for k, v in response.headers.items() if k != "X-No-Length"})
        size = response.stream_size if response.stream_size is not None else len(response.body)
        chunked = "X-No-Length" in response.headers and status != 304
        if status == 304 or request.method == "HEAD":
            size = 0
        if chunked:
            headers["Transfer-Encoding"] = "chunked"
        elif status != 304:
            headers["Content-Length"] = str(size)
        close = request.headers.get("connection", "").lower() == "close"
        if close:
            headers["Connection"] = "close"
        reason = response.reason if response.reason is not None else _reason(status)
        head = f"HTTP/1.1 {status} {reason}\r\n" + "".join(
            f"{name}: {value}\r\n" for name, value in headers.items()
        )
        writer.write(head.encode("latin-1") + b"\r\n")
        await writer.drain()
        if size:
            await self._send_body(response, size, chunked, writer, route)
        return not close

    async def _send_body(
        self,
        response: Response,
        size: int,
        chunked: bool,
        writer: asyncio.StreamWriter,
        route: _Route | None,
    ) -> None:
        for chunk in _chunks(response, size):
            if response.drip:
                await asyncio.sleep(response.drip)
            writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk)
            await writer.drain()
            if route is not None:
                route.stats.bytes_sent += len(chunk)
        if chunked:
            writer.write(b"0\r\n\r\n")
            await writer.drain()


def _chunks(response: Response, size: int) -> Iterator[bytes]:
    step = response.chunk_size
    if response.chunks is not None:
        yield from response.chunks
        return
    if response.stream_size is None:
        for start in range(0, size, step):
            yield response.body[start : start + step]
        return
    block = (_FILLER * (step // len(_FILLER) + 1))[:step]
    sent = 0
    while sent < size:
        piece = block[: min(step, size - sent)]
        sent += len(piece)
        yield piece


def _parse_request(head: bytes, host: str) -> Request | None:
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3:
        return None
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if ":" in line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    return Request(method=parts[0], path=parts[1], headers=headers, host=host, at=time.monotonic())


def _not_modified(headers: Mapping[str, str], response: Response) -> bool:
    """RFC 7232 §6: If-None-Match decides when present; else If-Modified-Since."""
    if "if-none-match" in headers:
        if not response.etag:
            return False
        wanted = {tag.strip().removeprefix("W/") for tag in headers["if-none-match"].split(",")}
        return "*" in wanted or response.etag.removeprefix("W/") in wanted
    since, modified = headers.get("if-modified-since"), response.last_modified
    if not since or not modified:
        return False
    try:
        return parsedate_to_datetime(modified) <= parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def _as_http_date(value: str | datetime | None) -> str | None:
    return http_date(value) if isinstance(value, datetime) else value


# --- the server in a child process ------------------------------------------------------------


class FeedServerProcess:
    """A ``FeedServer`` in a child process, set up by ``setup(server, *args)`` there.

    ``setup`` must be importable (a module-level function). ``base_urls`` and ``url()`` work
    as on ``FeedServer``; ``request_count()`` asks the child how many requests it served.
    """

    def __init__(
        self,
        setup: Callable[..., None],
        *args: Any,
        hosts: Sequence[str] = ("127.0.0.1",),
    ) -> None:
        self._setup = setup
        self._args = args
        self._hosts = tuple(hosts)
        self.base_urls: list[str] = []
        ctx = multiprocessing.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._process = ctx.Process(
            target=_serve_in_child, args=(setup, args, self._hosts, child), daemon=True
        )

    def __enter__(self) -> FeedServerProcess:
        self._process.start()
        if not self._conn.poll(60):
            self._process.kill()
            raise RuntimeError("feed server process did not start")
        self.base_urls = self._conn.recv()
        return self

    def __exit__(self, *exc_info: object) -> None:
        with contextlib.suppress(BrokenPipeError, EOFError):
            self._conn.send("stop")
        self._process.join(10)
        if self._process.is_alive():
            self._process.kill()

    def url(self, path: str, host: int = 0) -> str:
        return self.base_urls[host] + path

    def request_count(self) -> int:
        self._conn.send("count")
        count: int = self._conn.recv()
        return count

    def call(self, change: Callable[..., None], *args: Any) -> None:
        """Run ``change(server, *args)`` in the child (importable, like ``setup``), e.g. to
        change some feeds between two cycles; returns once it has run."""
        self._conn.send(("call", change, args))
        self._conn.recv()


def _serve_in_child(
    setup: Callable[..., None], args: tuple[Any, ...], hosts: tuple[str, ...], conn: Any
) -> None:
    with FeedServer(hosts=hosts) as server:
        setup(server, *args)
        conn.send(server.base_urls)
        with contextlib.suppress(EOFError):  # the parent went away: stop serving
            for message in iter(conn.recv, "stop"):
                if message == "count":
                    conn.send(len(server.requests))
                elif isinstance(message, tuple) and message[0] == "call":
                    message[1](server, *message[2])
                    conn.send(True)


# --- building feeds ---------------------------------------------------------------------------

SAME = "<same as encoding>"


@dataclass(frozen=True)
class Item:
    """One RSS item; ``None`` fields are left out of the XML."""

    title: str | None = None
    link: str | None = None
    guid: str | None = None
    guid_is_permalink: bool | None = None
    description: str | None = None  # HTML, escaped into the element
    pub_date: str | None = None
    content: str | None = None  # content:encoded, HTML


def rss(
    items: Sequence[Item],
    *,
    title: str = "أخبار الرقائق",
    link: str | None = "/",
    encoding: str = "utf-8",
    declared: str | None = SAME,
    bom: bool = False,
    ttl: int | None = None,
) -> bytes:
    """RSS 2.0 bytes in ``encoding``; ``declared`` is what the XML declaration claims (None:
    no encoding attribute) — set it to something else to build a lying feed."""
    said = encoding if declared == SAME else declared
    decl = f'<?xml version="1.0" encoding="{said}"?>' if said else '<?xml version="1.0"?>'
    parts = [
        decl,
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">',
        f"<channel><title>{escape(title)}</title>",
    ]
    if link is not None:
        parts.append(f"<link>{escape(link)}</link>")
    if ttl is not None:
        parts.append(f"<ttl>{ttl}</ttl>")
    parts.extend(_item_xml(item) for item in items)
    parts.append("</channel></rss>")
    data = "\n".join(parts).encode(encoding)
    return (b"\xef\xbb\xbf" if bom else b"") + data


def _item_xml(item: Item) -> str:
    out = ["<item>"]
    simple = [("title", item.title), ("link", item.link), ("description", item.description),
              ("pubDate", item.pub_date), ("content:encoded", item.content)]  # fmt: skip
    out.extend(f"<{tag}>{escape(value)}</{tag}>" for tag, value in simple if value is not None)
    if item.guid is not None:
        attr = ""
        if item.guid_is_permalink is not None:
            attr = f' isPermaLink="{str(item.guid_is_permalink).lower()}"'
        out.append(f"<guid{attr}>{escape(item.guid)}</guid>")
    out.append("</item>")
    return "".join(out)


def html_page(title: str = "ليست خلاصة") -> bytes:
    """An HTML page, the usual thing a dead feed URL returns instead of a feed."""
    page = f"<!DOCTYPE html><html><head><title>{title}</title></head><body><p>{title}</p></body>"
    return (page + "</html>").encode()


def truncated(body: bytes, keep: float = 0.6) -> bytes:
    """The first ``keep`` share of ``body``: broken XML, as a connection cut mid-feed gives."""
    return body[: int(len(body) * keep)]
