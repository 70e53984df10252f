"""Fixtures of the feeds suite: a loopback feed server and a fetcher with short timeouts."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from tests.support.feedserver import FeedServer
from tracker.feeds.fetch import Fetcher, FetchSettings, build_client

TEST_SETTINGS = FetchSettings(
    connect_timeout=2.0,
    read_timeout=0.5,
    max_body_bytes=200_000,
    per_host=2,
    max_connections=20,
    user_agent="tracker-tests/0",
)


@pytest.fixture
def server() -> Iterator[FeedServer]:
    """A loopback feed server on 127.0.0.1, fresh for each test."""
    with FeedServer() as srv:
        yield srv


@pytest.fixture
async def fetcher() -> AsyncIterator[Fetcher]:
    """A fetcher with a 0.5 s read timeout and a 200 kB body cap."""
    async with build_client(TEST_SETTINGS) as client:
        yield Fetcher(client, TEST_SETTINGS)
