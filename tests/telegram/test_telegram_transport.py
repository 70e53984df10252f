"""The lean Bot API transport: keep-alive, chunked answers, timeouts, files via httpx."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator

import pytest
from telegram.error import NetworkError

from tests.conftest import Clock
from tests.support.botapi import BotApiServer
from tests.telegram.helpers import TOKEN, FakeLabels, drain_all, enqueue, make_event, settings_for
from tracker.store.botport import StoreForBot
from tracker.store.repo import Store
from tracker.telegram.sender import TelegramNotifier, make_bot
from tracker.telegram.transport import LeanRequest


async def test_slow_answers_time_out_and_the_outbox_retries(
    api: BotApiServer, store: Store, labels: FakeLabels, clock: Clock
) -> None:
    """A Bot API slower than the timeout is a transient failure: retried, then delivered."""
    bot = make_bot(TOKEN, settings_for(api, timeout=0.3))
    async with bot:
        notifier = TelegramNotifier(bot, StoreForBot(store), labels, per_chat_interval=0)
        enqueue(store, clock, make_event(store, clock), [1])
        api.fault("slow", delay=1.0, times=1)
        report = await drain_all(store, notifier, clock)
    assert report.retried == 1 and report.sent == 1
    assert len(api.texts(1)) in (1, 2)  # the slow answer may still have been delivered late


async def test_documents_go_through_the_httpx_fallback(api: BotApiServer) -> None:
    """A request with a file (multipart) is sent by the fallback transport."""
    bot = make_bot(TOKEN, settings_for(api))
    async with bot:
        await bot.send_document(5, io.BytesIO(b"week,events\n"), filename="week.csv",
                                caption="<b>Week</b>", parse_mode="HTML")
        await bot.send_message(5, "after")
    [doc, text] = api.sent(5)
    assert doc.document == ("week.csv", b"week,events\n") and doc.plain == "Week"
    assert text.plain == "after"


@pytest.fixture
async def chunked_server() -> AsyncIterator[int]:
    """A server answering every request with a chunked JSON body, keeping the connection."""
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                                  if line.lower().startswith(b"content-length")))
                await reader.readexactly(length)
                writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                             b"6\r\n{\"ok\":\r\n9\r\ntrue,\"res\r\nb\r\nult\":true}\r\n0\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()


async def test_chunked_answers_are_read_and_connections_reused(chunked_server: int) -> None:
    """A chunked answer is decoded, and the next request reuses the idle connection."""
    request = LeanRequest(pool_size=2, timeout=2)
    await request.initialize()
    try:
        url = f"http://127.0.0.1:{chunked_server}/bot{TOKEN}/close"
        assert await request.post(url) is True
        assert await request.post(url) is True
        assert sum(len(c) for c in request._idle.values()) == 1
    finally:
        await request.shutdown()


async def test_nothing_listening_is_a_network_error() -> None:
    """A refused connection surfaces as PTB's NetworkError (a transient failure)."""
    request = LeanRequest(timeout=0.5)
    await request.initialize()
    try:
        with pytest.raises(NetworkError):
            await request.post("http://127.0.0.1:9/bot1:x/getMe")
    finally:
        await request.shutdown()
