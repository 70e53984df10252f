"""Fetching over real loopback HTTP: conditional GET, failures, redirects, limits."""

from __future__ import annotations

import asyncio
import gzip
import ssl
import time
import zlib
from datetime import UTC, datetime, timedelta

import pytest

from tests.feeds.conftest import TEST_SETTINGS
from tests.support.feedserver import FeedServer, Item, Response, http_date, rss
from tracker.errors import FetchError
from tracker.feeds.fetch import Fetcher, FetchFailed, FetchSettings, FetchState, build_client
from tracker.feeds.transport import PerOriginTransport

FEED = rss([Item("خبر", link="/n/1")])
LAST_MODIFIED = datetime(2025, 8, 24, 7, 30, tzinfo=UTC)


async def test_first_fetch_returns_body_and_validators(
    server: FeedServer, fetcher: Fetcher
) -> None:
    """A 200 gives the body, its ETag, Last-Modified, Content-Type and the final URL."""
    server.add("/a.xml", FEED, etag='"v1"', last_modified=LAST_MODIFIED)
    result = await fetcher.fetch(server.url("/a.xml"), FetchState())
    assert not result.not_modified
    assert result.http_status == 200
    assert result.body == FEED
    assert result.etag == '"v1"'
    assert result.last_modified == http_date(LAST_MODIFIED)
    assert result.content_type == "application/rss+xml; charset=utf-8"
    assert result.final_url == result.url == server.url("/a.xml")
    assert result.elapsed_seconds >= 0


async def test_user_agent_is_sent(server: FeedServer, fetcher: Fetcher) -> None:
    """Every request carries the configured User-Agent (sites block unknown ones)."""
    server.add("/a.xml", FEED)
    await fetcher.fetch(server.url("/a.xml"))
    assert server.requests_for("/a.xml")[0].headers["user-agent"] == "tracker-tests/0"


async def test_second_fetch_is_conditional_and_304_has_no_body(
    server: FeedServer, fetcher: Fetcher
) -> None:
    """The second fetch sends If-None-Match and If-Modified-Since and a 304 is not_modified."""
    server.add("/a.xml", FEED, etag='"v1"', last_modified=LAST_MODIFIED)
    first = await fetcher.fetch(server.url("/a.xml"), FetchState())
    second = await fetcher.fetch(server.url("/a.xml"), first.state())
    sent = server.requests_for("/a.xml")[1].headers
    assert sent["if-none-match"] == '"v1"'
    assert sent["if-modified-since"] == http_date(LAST_MODIFIED)
    assert second.not_modified and second.http_status == 304 and second.body == b""
    assert second.etag == '"v1"' and second.last_modified == http_date(LAST_MODIFIED)


async def test_not_modified_answers_keep_the_connection(
    server: FeedServer, fetcher: Fetcher
) -> None:
    """A 304 is read to its end, so the next polls of the host reuse the kept-alive
    connection instead of opening a new one each (a new connection per 304 cost CPU)."""
    server.add("/a.xml", FEED, etag='"v1"')
    state = (await fetcher.fetch(server.url("/a.xml"), FetchState())).state()
    for _ in range(5):
        assert (await fetcher.fetch(server.url("/a.xml"), state)).not_modified
    assert len(server.requests_for("/a.xml")) == 6
    assert server.connections == 1


async def test_last_modified_alone_gives_304(server: FeedServer, fetcher: Fetcher) -> None:
    """A feed with only Last-Modified is revalidated with If-Modified-Since alone."""
    server.add("/a.xml", FEED, last_modified=LAST_MODIFIED)
    first = await fetcher.fetch(server.url("/a.xml"))
    second = await fetcher.fetch(server.url("/a.xml"), first.state())
    assert "if-none-match" not in server.requests_for("/a.xml")[1].headers
    assert second.not_modified


async def test_changed_feed_gives_new_body(server: FeedServer, fetcher: Fetcher) -> None:
    """When the ETag changed the conditional GET gets the new body and the new ETag."""
    server.add("/a.xml", FEED, etag='"v1"')
    first = await fetcher.fetch(server.url("/a.xml"))
    new = rss([Item("خبر جديد", link="/n/2")])
    server.set_body("/a.xml", new, etag='"v2"')
    second = await fetcher.fetch(server.url("/a.xml"), first.state())
    assert not second.not_modified and second.body == new and second.etag == '"v2"'


async def test_empty_200_counts_as_not_modified(server: FeedServer, fetcher: Fetcher) -> None:
    """A 200 with an empty body is treated like a 304."""
    server.add("/empty.xml", b"")
    result = await fetcher.fetch(server.url("/empty.xml"))
    assert result.not_modified and result.http_status == 200 and result.body == b""


async def test_cache_control_max_age_is_reported(server: FeedServer, fetcher: Fetcher) -> None:
    """Cache-Control max-age becomes max_age_seconds."""
    server.add("/a.xml", FEED, headers={"Cache-Control": "public, max-age=1800"})
    assert (await fetcher.fetch(server.url("/a.xml"))).max_age_seconds == 1800


async def test_expires_is_reported_against_date(server: FeedServer, fetcher: Fetcher) -> None:
    """Expires minus the response Date becomes max_age_seconds when there is no max-age."""
    now = datetime(2025, 8, 24, 7, 0, tzinfo=UTC)
    headers = {"Date": http_date(now), "Expires": http_date(now + timedelta(hours=1))}
    server.add("/a.xml", FEED, headers=headers)
    assert (await fetcher.fetch(server.url("/a.xml"))).max_age_seconds == 3600


async def test_timeout_raises_fetch_error(server: FeedServer, fetcher: Fetcher) -> None:
    """A server slower than the read timeout gives FetchError(kind="timeout")."""
    server.add("/slow.xml", FEED, delay=1.5)
    with pytest.raises(FetchError) as caught:
        await fetcher.fetch(server.url("/slow.xml"))
    assert caught.value.kind == "timeout"
    assert "timed out" in str(caught.value)


async def test_slow_drip_hits_total_timeout(server: FeedServer) -> None:
    """A server that drips bytes below the read timeout is stopped by the total timeout."""
    settings = FetchSettings(read_timeout=1.0, total_timeout=0.6)
    server.add_drip("/drip.xml", [b"<rss>", b"<channel>", b"<title>", b"x", b"</title>"], 0.2)
    async with build_client(settings) as client:
        with pytest.raises(FetchError) as caught:
            await Fetcher(client, settings).fetch(server.url("/drip.xml"))
    assert caught.value.kind == "timeout"


async def test_slow_drip_frees_its_per_host_slot_at_the_total_timeout(
    server: FeedServer,
) -> None:
    """With one slot per host, a feed queued behind a drip server is fetched once the drip
    is cut at ``total_timeout``, not when the drip would have ended (8 s here)."""
    settings = FetchSettings(read_timeout=1.0, total_timeout=0.8, per_host=1)
    server.add_drip("/drip.xml", [b"<!-- drip -->\n"] * 40, 0.2)
    server.add("/next.xml", FEED)
    async with build_client(settings) as client:
        fetcher = Fetcher(client, settings)
        started = time.monotonic()
        drip = asyncio.create_task(fetcher.fetch(server.url("/drip.xml")))
        await asyncio.sleep(0)  # the drip task starts and takes the host's one slot
        queued = await fetcher.fetch(server.url("/next.xml"))
        waited = time.monotonic() - started
        with pytest.raises(FetchError) as caught:
            await drip
    assert caught.value.kind == "timeout" and queued.body == FEED
    assert 0.8 <= waited < 3.0


async def test_http_500_raises_with_status(server: FeedServer, fetcher: Fetcher) -> None:
    """A 500 gives FetchError(kind="http_500") with http_status and a readable message."""
    server.add("/err.xml", b"oops", status=500)
    with pytest.raises(FetchFailed) as caught:
        await fetcher.fetch(server.url("/err.xml"))
    assert caught.value.kind == "http_500"
    assert caught.value.http_status == 500
    assert caught.value.retry_after is None
    assert str(caught.value).startswith("HTTP 500 Internal Server Error")


async def test_429_retry_after_seconds(server: FeedServer) -> None:
    """A 429 with Retry-After in seconds gives retry_after = now + seconds."""
    now = datetime(2025, 8, 24, 7, 0, tzinfo=UTC)
    server.add("/rl.xml", b"", status=429, headers={"Retry-After": "120"})
    async with build_client(FetchSettings()) as client:
        with pytest.raises(FetchFailed) as caught:
            await Fetcher(client, FetchSettings(), clock=lambda: now).fetch(server.url("/rl.xml"))
    assert caught.value.kind == "http_429"
    assert caught.value.retry_after == now + timedelta(seconds=120)
    assert str(caught.value).startswith("HTTP 429 Too Many Requests, retry after 120 s")


async def test_503_retry_after_http_date(server: FeedServer) -> None:
    """A 503 with Retry-After as an HTTP-date gives that instant in aware UTC."""
    now = datetime(2025, 8, 24, 7, 0, tzinfo=UTC)
    later = now + timedelta(minutes=30)
    server.add("/down.xml", b"", status=503, headers={"Retry-After": http_date(later)})
    async with build_client(FetchSettings()) as client:
        with pytest.raises(FetchFailed) as caught:
            await Fetcher(client, FetchSettings(), clock=lambda: now).fetch(server.url("/down.xml"))
    assert caught.value.kind == "http_503"
    assert caught.value.retry_after == later
    assert "retry after 1800 s" in str(caught.value)


async def test_scripted_429_then_200(server: FeedServer, fetcher: Fetcher) -> None:
    """A scripted route answers 429 first and the feed on the next request."""
    server.script(
        "/a.xml", [Response(status=429, headers={"Retry-After": "1"}), Response(body=FEED)]
    )
    with pytest.raises(FetchFailed):
        await fetcher.fetch(server.url("/a.xml"))
    assert (await fetcher.fetch(server.url("/a.xml"))).body == FEED


async def test_body_over_cap_is_too_large_without_full_transfer(
    server: FeedServer, fetcher: Fetcher
) -> None:
    """A 1 GB body without Content-Length stops at the cap; the server never sends it all."""
    server.add_huge("/huge.xml", 1_000_000_000, declare_length=False)
    with pytest.raises(FetchFailed) as caught:
        await fetcher.fetch(server.url("/huge.xml"))
    assert caught.value.kind == "too_large"
    await asyncio.sleep(0.05)  # let the server notice the hang-up
    assert server.stats("/huge.xml").bytes_sent < 50_000_000


async def test_declared_length_over_cap_stops_before_body(
    server: FeedServer, fetcher: Fetcher
) -> None:
    """A Content-Length over the cap is refused before reading the body."""
    server.add_huge("/huge.xml", 1_000_000_000)
    with pytest.raises(FetchFailed) as caught:
        await fetcher.fetch(server.url("/huge.xml"))
    assert caught.value.kind == "too_large"
    assert "Content-Length 1000000000" in str(caught.value)


async def test_redirect_is_followed_and_final_url_kept(
    server: FeedServer, fetcher: Fetcher
) -> None:
    """A 301 is followed and final_url is where the feed was found."""
    server.add("/new.xml", FEED)
    server.add_redirect("/old.xml", "/new.xml")
    result = await fetcher.fetch(server.url("/old.xml"))
    assert result.url == server.url("/old.xml")
    assert result.final_url == server.url("/new.xml")
    assert result.body == FEED


async def test_redirect_loop_raises(server: FeedServer, fetcher: Fetcher) -> None:
    """Two paths redirecting to each other give FetchError(kind="redirect_loop")."""
    server.add_redirect("/a.xml", "/b.xml", status=302)
    server.add_redirect("/b.xml", "/a.xml", status=302)
    with pytest.raises(FetchError) as caught:
        await fetcher.fetch(server.url("/a.xml"))
    assert caught.value.kind == "redirect_loop"


async def test_connection_refused_is_network_error(fetcher: Fetcher) -> None:
    """Nobody listening gives FetchError(kind="network")."""
    with FeedServer() as srv:
        url = srv.url("/gone.xml")
    with pytest.raises(FetchError) as caught:
        await fetcher.fetch(url)
    assert caught.value.kind == "network"


async def test_per_host_limit_caps_concurrency(server: FeedServer, fetcher: Fetcher) -> None:
    """With per_host=2, six 0.2 s requests to one host take three rounds, not one."""
    for i in range(6):
        server.add(f"/f{i}.xml", FEED, delay=0.2)
    started = time.monotonic()
    await asyncio.gather(*(fetcher.fetch(server.url(f"/f{i}.xml")) for i in range(6)))
    elapsed = time.monotonic() - started
    assert 0.55 < elapsed < 1.5


async def test_different_hosts_run_in_parallel() -> None:
    """The per-host limit is per host: six hosts with one slow feed each finish together."""
    hosts = [f"127.0.0.{i}" for i in range(2, 8)]
    settings = FetchSettings(per_host=1)
    with FeedServer(hosts=hosts) as srv:
        srv.add("/a.xml", FEED, delay=0.3)
        async with build_client(settings) as client:
            fetcher = Fetcher(client, settings)
            started = time.monotonic()
            await asyncio.gather(*(fetcher.fetch(srv.url("/a.xml", i)) for i in range(6)))
            assert time.monotonic() - started < 0.9
        assert {r.host for r in srv.requests} == set(hosts)


def test_https_pools_verify_certificates() -> None:
    """Skipping the CA bundle for plain-http pools never turns off verification for https."""
    transport = PerOriginTransport(per_origin=2)
    tls = transport._verify("https")
    assert isinstance(tls, ssl.SSLContext)
    assert tls.verify_mode == ssl.CERT_REQUIRED and tls.check_hostname
    assert transport._verify("https") is tls  # one shared context
    assert transport._verify("http") is False


async def test_gzip_bomb_is_too_large(server: FeedServer, fetcher: Fetcher) -> None:
    """The cap counts decoded bytes, so a small gzip body that inflates past it is refused."""
    bomb = gzip.compress(b"<rss>" + b" " * 5_000_000)
    server.add("/bomb.xml", bomb, headers={"Content-Encoding": "gzip"})
    with pytest.raises(FetchFailed) as caught:
        await fetcher.fetch(server.url("/bomb.xml"))
    assert caught.value.kind == "too_large" and len(bomb) < 200_000


async def test_gzip_body_is_decoded(server: FeedServer, fetcher: Fetcher) -> None:
    """A gzip-encoded feed arrives decoded."""
    server.add("/gz.xml", gzip.compress(FEED), headers={"Content-Encoding": "gzip"})
    assert (await fetcher.fetch(server.url("/gz.xml"))).body == FEED


async def test_gzip_bomb_stops_at_the_cap_while_inflating(
    server: FeedServer, fetcher: Fetcher
) -> None:
    """A 67 MB bomb in one small gzip body is cut at the cap inside zlib, not a chunk later."""
    bomb = gzip.compress(b"<rss>" + b" " * 67_000_000, compresslevel=9)
    server.add("/bomb67.xml", bomb, headers={"Content-Encoding": "gzip"})
    with pytest.raises(FetchFailed) as caught:
        await fetcher.fetch(server.url("/bomb67.xml"))
    cap = TEST_SETTINGS.max_body_bytes
    assert caught.value.kind == "too_large"
    assert caught.value.decoded_bytes is not None
    assert cap < caught.value.decoded_bytes <= cap + 1  # never a byte more than asked for


async def test_deflate_raw_and_zlib_bodies_are_decoded(
    server: FeedServer, fetcher: Fetcher
) -> None:
    """``deflate`` is read zlib-wrapped (RFC 9110) and raw (what some servers send)."""
    raw = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    server.add("/raw.xml", raw.compress(FEED) + raw.flush(),
               headers={"Content-Encoding": "deflate"})
    server.add("/zlib.xml", zlib.compress(FEED), headers={"Content-Encoding": "deflate"})
    assert (await fetcher.fetch(server.url("/raw.xml"))).body == FEED
    assert (await fetcher.fetch(server.url("/zlib.xml"))).body == FEED


async def test_permanent_redirect_is_reported(server: FeedServer, fetcher: Fetcher) -> None:
    """301 and 308 chains report where the feed moved; a 302 anywhere reports no move."""
    server.add("/new.xml", FEED)
    server.add_redirect("/p301.xml", "/new.xml", status=301)
    server.add_redirect("/p308.xml", "/p301.xml", status=308)
    server.add_redirect("/t302.xml", "/p301.xml", status=302)
    assert (await fetcher.fetch(server.url("/p308.xml"))).moved_to == server.url("/new.xml")
    assert (await fetcher.fetch(server.url("/t302.xml"))).moved_to is None
    assert (await fetcher.fetch(server.url("/new.xml"))).moved_to is None


async def test_empty_200_is_flagged(server: FeedServer, fetcher: Fetcher) -> None:
    """An empty 200 is marked ``empty_body`` (a 304 is not), so the pipeline can report it."""
    server.add("/void.xml", b"")
    assert (await fetcher.fetch(server.url("/void.xml"))).empty_body
