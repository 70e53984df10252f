"""The loopback FeedServer itself: the conditional-request rules other suites rely on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from tests.support.feedserver import FeedServer, Item, Response, http_date, rss, truncated

MODIFIED = datetime(2025, 8, 24, 7, 30, tzinfo=UTC)


def _get(srv: FeedServer, path: str, **headers: str) -> httpx.Response:
    return httpx.get(srv.url(path), headers={k.replace("_", "-"): v for k, v in headers.items()})


def test_if_none_match_wins_over_if_modified_since(server: FeedServer) -> None:
    """A non-matching If-None-Match gives 200 even when If-Modified-Since alone would give 304."""
    server.add("/a.xml", b"<rss/>", etag='"v2"', last_modified=MODIFIED)
    since = http_date(MODIFIED + timedelta(hours=1))
    assert _get(server, "/a.xml", if_none_match='"v1"', if_modified_since=since).status_code == 200
    assert _get(server, "/a.xml", if_modified_since=since).status_code == 304


def test_weak_and_listed_etags_match(server: FeedServer) -> None:
    """If-None-Match matches weakly, in a list, and with "*"."""
    server.add("/a.xml", b"<rss/>", etag='W/"v1"')
    assert _get(server, "/a.xml", if_none_match='"v0", "v1"').status_code == 304
    assert _get(server, "/a.xml", if_none_match="*").status_code == 304


def test_304_has_validators_and_no_body(server: FeedServer) -> None:
    """A 304 repeats the ETag and Last-Modified and carries no body."""
    server.add("/a.xml", b"<rss/>", etag='"v1"', last_modified=MODIFIED)
    response = _get(server, "/a.xml", if_none_match='"v1"')
    assert response.status_code == 304 and response.content == b""
    assert response.headers["etag"] == '"v1"'
    assert response.headers["last-modified"] == http_date(MODIFIED)


def test_script_repeats_its_last_response(server: FeedServer) -> None:
    """A script answers in order and then keeps giving its last response."""
    server.script("/a.xml", [Response(status=503), Response(status=200, body=b"<rss/>")])
    assert [_get(server, "/a.xml").status_code for _ in range(3)] == [503, 200, 200]
    assert server.stats("/a.xml").hits == 3


def test_unknown_path_is_404_and_logged(server: FeedServer) -> None:
    """Unknown paths answer 404, and every request is logged with lower-case header names."""
    assert _get(server, "/nope", x_probe="1").status_code == 404
    assert server.requests_for("/nope")[0].headers["x-probe"] == "1"


def test_rss_builder_can_lie_about_its_encoding() -> None:
    """rss() writes the bytes in one encoding and can declare another (or none)."""
    body = rss([Item("خبر")], encoding="cp1256", declared="utf-8")
    assert body.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    assert "خبر".encode("cp1256") in body
    assert rss([], declared=None).startswith(b'<?xml version="1.0"?>')
    assert rss([], bom=True).startswith(b"\xef\xbb\xbf")
    assert len(truncated(body)) < len(body)
