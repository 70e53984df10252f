"""The desk over real HTTP: pages, search by any spelling, escaping, CSRF, credentials."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import Clock
from tests.pipeline.helpers import make_config
from tests.web.conftest import (
    HOSTILE_TITLE,
    INJECTED_TITLE,
    PERMIT_TITLE,
    PLAIN_TITLE,
    Desk,
    first_id,
)
from tracker.app import desk_app, open_store
from tracker.errors import ConfigError
from tracker.ops.asgi import AsgiServer
from tracker.ops.health import HealthChecks, health_routes
from tracker.ops.metrics import Metrics
from tracker.ops.probes import sql_ping
from tracker.store.tables import ItemRow, LabelRow


def _without_isolates(page: str) -> str:
    """The page without the <bdi> isolates around Latin runs."""
    return page.replace('<bdi dir="ltr">', "").replace("</bdi>", "").replace("<bdi>", "")


async def _get(desk: Desk, path: str, **kw: object) -> httpx.Response:
    async with httpx.AsyncClient(base_url=desk.url) as client:
        return await client.get(path, **kw)  # type: ignore[arg-type]


async def test_every_page_answers_with_csp_and_rtl(desk: Desk) -> None:
    """Timeline, search, feeds, event and item pages answer 200, RTL, with a CSP that allows
    no script."""
    item_id = first_id(desk.app, ItemRow, title=PERMIT_TITLE)
    for path in ("/", "/search?q=H20", "/feeds", "/events/1", f"/items/{item_id}"):
        r = await _get(desk, path)
        assert r.status_code == 200, path
        assert 'dir="rtl"' in r.text
        assert "built-in method" not in r.text and "Undefined" not in r.text, path
        csp = r.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "script-src" not in csp
    en = await _get(desk, "/?lang=en")
    assert 'dir="ltr"' in en.text and "Timeline" in en.text
    feeds = await _get(desk, "/feeds?lang=en")
    assert "<th>Items</th>" in feeds.text and "healthy" in feeds.text


@pytest.mark.parametrize("query", ["إنفيديا", "انفيديا", "Nvidia", "NVIDIA"])
async def test_search_finds_the_item_by_any_spelling(desk: Desk, query: str) -> None:
    """إنفيديا, انفيديا and Nvidia find the item written إنفيديا; the rain item never."""
    r = await _get(desk, "/search", params={"q": query})
    assert r.status_code == 200
    assert "H20" in r.text and "تراخيص" in r.text
    assert "أمطار" not in r.text


async def test_feed_strings_are_text_never_markup(desk: Desk) -> None:
    """A <script> title, an attribute break-out and a javascript: link come out inert."""
    r = await _get(desk, "/search", params={"q": "إنفيديا"})
    text = _without_isolates(r.text)
    assert "<script>" not in r.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    hostile = first_id(desk.app, ItemRow, title=HOSTILE_TITLE)
    page = (await _get(desk, f"/items/{hostile}")).text
    assert "javascript:" not in page
    feeds = (await _get(desk, "/feeds")).text
    assert "منفذ <b>" not in feeds and "منفذ &lt;b&gt;" in feeds
    injected = first_id(desk.app, ItemRow, title=INJECTED_TITLE)
    page = (await _get(desk, f"/items/{injected}")).text
    assert "<img" not in page and "&#34;&gt;&lt;img src=x onerror" in _without_isolates(page)


async def test_item_page_says_why_it_did_or_did_not_alert(desk: Desk) -> None:
    """The permit alerted the console watchlist; the 5-day-old item was too old; the rain
    item has no event."""
    permit = first_id(desk.app, ItemRow, title=PERMIT_TITLE)
    page = (await _get(desk, f"/items/{permit}?lang=en")).text
    assert "alerted: console" in page and "nvidia-desk" in page
    old = first_id(desk.app, ItemRow, title=INJECTED_TITLE)
    page = (await _get(desk, f"/items/{old}?lang=en")).text
    assert "first seen 5.0 d after publication" in page
    rain = first_id(desk.app, ItemRow, title=PLAIN_TITLE)
    assert "no event found" in (await _get(desk, f"/items/{rain}?lang=en")).text


async def test_timeline_filters_by_arabic_or_latin_entity_name_and_pages(desk: Desk) -> None:
    """?entity=Nvidia and ?entity=إنفيديا give the same events; an unknown name says so."""
    latin = await _get(desk, "/", params={"entity": "Nvidia"})
    arabic = await _get(desk, "/", params={"entity": "إنفيديا"})
    assert "H20" in latin.text and "أسيند" not in latin.text
    assert latin.text.count('class="event"') == arabic.text.count('class="event"') >= 1
    unknown = await _get(desk, "/", params={"entity": "Intel-ish"})
    assert "Intel-ish" in unknown.text and 'role="alert"' in unknown.text
    typed = await _get(desk, "/", params={"type": "mass_production"})
    assert "أسيند" in typed.text and "H20" not in typed.text


async def test_label_post_needs_the_csrf_token(desk: Desk) -> None:
    """A POST without the CSRF token is refused; with the page's token it stores a label."""
    item_id = first_id(desk.app, ItemRow, title=PERMIT_TITLE)
    async with httpx.AsyncClient(base_url=desk.url) as client:
        bare = await client.post(f"/items/{item_id}/label", data={"verdict": "not_event"})
        assert bare.status_code == 403
        page = await client.get(f"/items/{item_id}")
        token = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        wrong = await client.post(f"/items/{item_id}/label",
                                  data={"verdict": "not_event", "csrf": token + "x"})
        assert wrong.status_code == 403
        ok = await client.post(f"/items/{item_id}/label",
                               data={"verdict": "not_event", "csrf": token})
        assert ok.status_code == 303
    from sqlmodel import Session, select

    with Session(desk.app.store.engine) as s:
        labels = s.exec(select(LabelRow)).all()
    assert [(lb.item_id, lb.types, lb.source) for lb in labels] == [(item_id, "[]", "web")]


async def test_healthz_and_metrics_are_served_by_the_desk(desk: Desk) -> None:
    """/healthz answers JSON and /metrics the Prometheus exposition."""
    r = await _get(desk, "/healthz")
    assert r.status_code == 200 and r.json()["status"] == "ok"
    assert r.headers["content-type"] == "application/json"
    m = await _get(desk, "/metrics")
    assert m.status_code == 200
    assert 'tracker_fetch_errors_total{kind="timeout"} 1.0' in m.text


async def test_non_loopback_bind_without_credentials_refuses_to_start(
    sqlite_url: str, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """0.0.0.0 without a token is a config error; with one, pages ask for it (Bearer or
    basic auth) while /healthz stays open to probes."""
    from tracker.app import load_classifier

    cfg = make_config(sqlite_url, [])
    store = open_store(cfg)
    engine = load_classifier(cfg)
    monkeypatch.delenv("TRACKER_WEB_TOKEN", raising=False)
    with pytest.raises(ConfigError) as info:
        desk_app(cfg, store, engine, clock, host="0.0.0.0")
    assert "TRACKER_WEB_TOKEN" in str(info.value)
    monkeypatch.setenv("TRACKER_WEB_TOKEN", "s3cret-token")
    checks = HealthChecks(sql_ping(store.engine), lambda: True, lambda: None, "t")
    app = desk_app(cfg, store, engine, clock, host="0.0.0.0",
                   routes=health_routes(Metrics(), checks))
    async with AsgiServer(app, "127.0.0.1", 0) as server, httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{server.port}") as client:
        denied = await client.get("/")
        assert denied.status_code == 401 and "basic" in denied.headers["www-authenticate"].lower()
        assert (await client.get("/", headers={"authorization": "Bearer wrong"})).status_code \
            == 401
        assert (await client.get("/", headers={"authorization": "Bearer s3cret-token"})
                ).status_code == 200
        assert (await client.get("/feeds", auth=("analyst", "s3cret-token"))).status_code == 200
        assert (await client.get("/healthz")).status_code == 200
    store.engine.dispose()


async def test_the_daemon_operations_serve_the_desk_with_health(desk: Desk) -> None:
    """Operations given the desk's app factory serve pages, /healthz and /metrics on one
    port, as `tracker run` does."""
    from tracker.app import desk_app
    from tracker.ops.runtime import Operations, OpsSettings

    async def ok() -> bool:
        return True

    ops = Operations(OpsSettings(health_port=0), Metrics(), "0.1.0", env={})
    await ops.start(check_database=ok, scheduler_running=lambda: True,
                    last_cycle_at=lambda: None,
                    app=lambda routes: desk_app(desk.config, desk.app.store,
                                                desk.app.classifier, desk.clock,
                                                routes=routes))
    try:
        assert ops.server is not None
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{ops.server.port}") as client:
            assert (await client.get("/feeds")).status_code == 200
            assert (await client.get("/healthz")).json()["scheduler"] == "running"
            assert (await client.get("/metrics")).status_code == 200
    finally:
        await ops.stop()


async def test_event_page_shows_sources_first_seen_and_why(desk: Desk) -> None:
    """The event page names the outlet that broke it, its first-seen time in the scheduler
    zone, the status history and the classifier's reasons."""
    r = await _get(desk, "/events/1", params={"lang": "en"})
    assert r.status_code == 200
    page = _without_isolates(r.text)
    assert "broke it first" in page and "منفذ &lt;b&gt;" in page
    assert "2025-08-29 15:00" in page  # 12:00 UTC first seen, shown in Asia/Riyadh
    assert "<dt>Why</dt>" in page and "<mark>" in page
    assert "Status history" in page
    assert (await _get(desk, "/events/999")).status_code == 404


async def test_a_foreign_host_name_is_refused_without_credentials(desk: Desk) -> None:
    """A request naming another host (DNS rebinding onto the loopback desk) gets 403;
    localhost and 127.0.0.1 are served."""
    assert (await _get(desk, "/", headers={"host": "evil.example:80"})).status_code == 403
    assert (await _get(desk, "/", headers={"host": "localhost"})).status_code == 200
    assert (await _get(desk, "/healthz", headers={"host": "evil.example"})).status_code == 200


async def test_every_post_route_refuses_a_missing_token_or_a_foreign_origin(desk: Desk) -> None:
    """Each POST route of the app (with the client's CSRF cookie) refuses a form without the
    token, and a form with it sent from another origin; nothing is stored."""
    import re

    from starlette.routing import Route

    app = desk_app(desk.config, desk.app.store, desk.app.classifier, desk.clock,
                   host="127.0.0.1")
    posts = [r.path for r in app.routes if isinstance(r, Route) and "POST" in (r.methods or ())]
    assert posts  # the label form at least
    item_id = first_id(desk.app, ItemRow, title=PERMIT_TITLE)
    async with httpx.AsyncClient(base_url=desk.url) as client:
        page = await client.get(f"/items/{item_id}")
        token = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        for path in posts:
            url = re.sub(r"\{[^}]+\}", str(item_id), path)
            bare = await client.post(url, data={"verdict": "not_event"})
            assert bare.status_code == 403, path
            foreign = await client.post(url, data={"verdict": "not_event", "csrf": token},
                                        headers={"origin": "http://evil.example"})
            assert foreign.status_code == 403 and "cross-origin" in foreign.text, path
    from sqlmodel import Session, select

    with Session(desk.app.store.engine) as s:
        assert s.exec(select(LabelRow)).all() == []
