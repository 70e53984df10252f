"""A lean HTTP/1.1 transport for the sender: PTB's ``BaseRequest`` over asyncio streams.

Why: the outbox sends thousands of small form POSTs to one host. Through httpx → httpcore →
anyio each costs about a millisecond of CPU (pool bookkeeping that grows with connections
and waiting requests, a fresh socket-attribute dict per readiness check), which caps one core
below the 500 messages/s a self-hosted Bot API allows. This transport keeps a few keep-alive
connections per host and does the minimum per request.

What it does, in order, for one request:
1. a request with files (sendDocument) goes to the fallback ``HTTPXRequest`` unchanged;
2. an idle connection to the host is reused unless the peer closed it or it sat idle longer
   than ``keepalive`` seconds; else a new one is opened (TLS for https), at most
   ``pool_size`` at a time;
3. the POST is written in one piece (``TCP_NODELAY``) and the answer read by
   ``Content-Length`` or chunked encoding; a connection is never reused after an error,
   and a request is never retried here (it may have reached Telegram: the outbox decides);
4. timeouts raise PTB's ``TimedOut``, transport failures ``NetworkError``.

Not supported (use ``transport="httpx"``): proxies, HTTP/2.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from telegram._utils.defaultvalue import DEFAULT_NONE
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, HTTPXRequest, RequestData


@dataclass
class _Conn:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    idle_since: float = field(default_factory=time.monotonic)

    def usable(self, keepalive: float) -> bool:
        return (not self.reader.at_eof() and not self.writer.is_closing()
                and time.monotonic() - self.idle_since < keepalive)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.writer.close()


class LeanRequest(BaseRequest):
    """Keep-alive HTTP/1.1 POSTs for the Bot API (see the module docstring)."""

    def __init__(self, *, pool_size: int = 8, timeout: float = 15.0, keepalive: float = 30.0,
                 fallback: BaseRequest | None = None) -> None:
        self._pool_size = pool_size
        self._timeout = timeout
        self._keepalive = keepalive
        self._idle: dict[tuple[str, str, int], list[_Conn]] = {}
        self._slots: asyncio.Semaphore | None = None
        self._ssl: ssl.SSLContext | None = None
        self._fallback = fallback or HTTPXRequest(connection_pool_size=2, read_timeout=timeout,
                                                  write_timeout=timeout, connect_timeout=timeout,
                                                  pool_timeout=timeout)

    @property
    def read_timeout(self) -> float | None:
        return self._timeout

    async def initialize(self) -> None:
        self._slots = asyncio.Semaphore(self._pool_size)
        await self._fallback.initialize()

    async def shutdown(self) -> None:
        for conns in self._idle.values():
            for conn in conns:
                conn.close()
        self._idle.clear()
        await self._fallback.shutdown()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = DEFAULT_NONE,
        write_timeout: ODVInput[float] = DEFAULT_NONE,
        connect_timeout: ODVInput[float] = DEFAULT_NONE,
        pool_timeout: ODVInput[float] = DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if request_data is not None and request_data.contains_files:
            return await self._fallback.do_request(url, method, request_data, read_timeout,
                                                   write_timeout, connect_timeout, pool_timeout)
        if self._slots is None:
            self._slots = asyncio.Semaphore(self._pool_size)
        timeout = self._timeout
        if isinstance(read_timeout, int | float):
            timeout = float(read_timeout) + 5.0  # getUpdates long polls: its timeout plus slack
        body = request_data.url_encoded_parameters().encode() if request_data else b""
        parts = urlsplit(url)
        https = parts.scheme == "https"
        key = (parts.scheme, parts.hostname or "", parts.port or (443 if https else 80))
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        head = (f"{method} {target} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
                f"User-Agent: tracker (python-telegram-bot)\r\nAccept: application/json\r\n"
                f"Content-Type: application/x-www-form-urlencoded\r\n"
                f"Content-Length: {len(body)}\r\n\r\n").encode("latin-1")
        async with self._slots:
            conn = self._take(key)
            try:
                if conn is None:
                    conn = await asyncio.wait_for(self._connect(key), self._timeout)
                status, data, keep = await asyncio.wait_for(
                    self._exchange(conn, head + body), timeout)
            except TimeoutError as exc:
                if conn is not None:
                    conn.close()
                raise TimedOut(f"no answer from {parts.hostname} within {timeout} s") from exc
            except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                if conn is not None:
                    conn.close()
                raise NetworkError(f"{type(exc).__name__}: {exc}") from exc
            except BaseException:
                if conn is not None:
                    conn.close()
                raise
            if keep:
                conn.idle_since = time.monotonic()
                self._idle.setdefault(key, []).append(conn)
            else:
                conn.close()
            return status, data

    def _take(self, key: tuple[str, str, int]) -> _Conn | None:
        idle = self._idle.get(key)
        while idle:
            conn = idle.pop()
            if conn.usable(self._keepalive):
                return conn
            conn.close()
        return None

    async def _connect(self, key: tuple[str, str, int]) -> _Conn:
        scheme, host, port = key
        context: ssl.SSLContext | None = None
        if scheme == "https":
            if self._ssl is None:
                self._ssl = ssl.create_default_context()
            context = self._ssl
        reader, writer = await asyncio.open_connection(host, port, ssl=context,
                                                       limit=2 ** 20)
        sock = writer.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return _Conn(reader, writer)

    @staticmethod
    async def _exchange(conn: _Conn, request: bytes) -> tuple[int, bytes, bool]:
        conn.writer.write(request)
        await conn.writer.drain()
        raw = await conn.reader.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        version, status = lines[0].split(" ", 2)[:2]
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if sep:
                headers[name.strip().lower()] = value.strip()
        keep = version == "HTTP/1.1" and headers.get("connection", "").lower() != "close"
        if headers.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int((await conn.reader.readline()).split(b";")[0].strip(), 16)
                if size == 0:
                    while (await conn.reader.readline()) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(await conn.reader.readexactly(size))
                await conn.reader.readline()
            data = b"".join(chunks)
        elif "content-length" in headers:
            data = await conn.reader.readexactly(int(headers["content-length"]))
        else:
            data = await conn.reader.read()
            keep = False
        return int(status), data, keep
