"""The desk's pages over a timeline three poll cycles built: every alert decision on the item
page, timeline filters by status and date range with paging, an event's outlets, evidence
and follow-ups, the feeds page's polls, errors and adopted redirects."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from email.utils import format_datetime

import httpx
import pytest
from sqlmodel import Session, select

from tests.conftest import Clock
from tests.pipeline.helpers import make_config, running
from tests.support.feedserver import FeedServer, Item, rss
from tracker.app import App, desk_app
from tracker.ops.asgi import AsgiServer
from tracker.store.subscribers import add_rule, subscribe, update_subscriber
from tracker.store.tables import EventSourceRow, ItemRow

# our own sentences: (title, summary)
PERMIT = ("واشنطن تمنح إنفيديا تراخيص لتصدير رقائق H20 إلى الصين",
          "منحت الإدارة الأمريكية إنفيديا تراخيص لتصدير رقائق H20 إلى الصين.")
SECOND = ("ضوء أخضر من واشنطن لمبيعات شرائح H20 من إنفيديا في الصين",
          "منحت وزارة التجارة الأمريكية إنفيديا تراخيص لبيع شرائح H20 للعملاء في الصين.")
DENIAL = ("كامبريكون تنفي بدء الإنتاج الضخم لشرائحها الجديدة",
          "نفت شركة كامبريكون تقارير تفيد بأنها بدأت الإنتاج الضخم لشرائح الذكاء الاصطناعي "
          "الجديدة.")
RECAP = ("إنفيديا تعود إلى السوق الصينية",
         "وكانت الإدارة الأمريكية قد سمحت في يوليو لإنفيديا باستئناف تصدير رقائق H20 إلى "
         "الصين.")
UNWATCHED = ("علي بابا تطور شريحة جديدة للاستدلال بالذكاء الاصطناعي",
             "كشفت علي بابا عن شريحة جديدة للاستدلال طورتها فرقها في هانغتشو.")
MUTED = ("ميتا إكس تبدأ الإنتاج الضخم لشريحتها الجديدة",
         "بدأت ميتا إكس الإنتاج الضخم لشريحة الذكاء الاصطناعي الجديدة في مصنعها في شنغهاي.")
PLAN = ("هواوي تخطط لبدء الإنتاج الضخم لمعالجات أسيند 910C",
        "تعتزم هواوي بدء الإنتاج الضخم لمعالجات أسيند 910C في مصانعها خلال الأشهر المقبلة.")
START = ("هواوي تبدأ فعليًا الإنتاج الضخم لمعالجات أسيند 910C",
         "بدأت هواوي الإنتاج الضخم لمعالجات أسيند 910C في مصانعها المحلية.")
MUTED_CHAT = "9001"


@dataclass
class Desk:
    url: str
    app: App
    feeds: FeedServer


def _item(clock: Clock, key: str, text: tuple[str, str], link: str | None = None) -> Item:
    return Item(title=text[0], description=text[1], link=link or f"/n/{key}", guid=key,
                pub_date=format_datetime(clock() - timedelta(minutes=20), usegmt=True))


@pytest.fixture
async def desk(sqlite_url: str, clock: Clock) -> AsyncIterator[Desk]:
    """Day 1 12:00 UTC: outlet A reports six items, a redirected feed moves, a broken feed
    fails; 14:00: outlet B reports the permit again (other words) and a copy of A's permit
    title; day 2: A reports Huawei's production starting after its plan. Watchlists for
    Nvidia and Huawei; one subscriber wants MetaX but is muted. Three events a page."""
    with FeedServer() as srv:
        a = [_item(clock, k, t) for k, t in (("permit", PERMIT), ("denial", DENIAL),
                                             ("recap", RECAP), ("unwatched", UNWATCHED),
                                             ("muted", MUTED), ("plan", PLAN))]
        srv.add("/a.xml", rss(a))
        srv.add("/b.xml", rss([]))
        srv.add("/moved.xml", rss([]))
        srv.add_redirect("/old.xml", "/moved.xml")
        srv.add("/broken.xml", b"down for maintenance", status=500, content_type="text/plain")
        cfg = make_config(
            sqlite_url,
            [{"url": srv.url("/a.xml"), "name": "وكالة أ"},
             {"url": srv.url("/b.xml"), "name": "وكالة ب"},
             {"url": srv.url("/old.xml"), "name": "منقول"},
             {"url": srv.url("/broken.xml"), "name": "معطل"}],
            [{"name": "nvidia-desk", "entities": ["nvidia"], "chats": ["console"]},
             {"name": "huawei-desk", "entities": ["huawei"], "chats": ["console"]}],
            web={"per_page": 3})
        async with running(cfg, clock) as (app, _out):
            assert subscribe(app.store, MUTED_CHAT, "ar", clock())
            assert add_rule(app.store, MUTED_CHAT, "entity", "metax")
            assert update_subscriber(app.store, MUTED_CHAT,
                                     muted_until=clock() + timedelta(days=30))
            await app.pipeline.run_cycle(all_feeds=True)
            clock.advance(hours=2)
            srv.set_body("/b.xml", rss([_item(clock, "second", SECOND),
                                        _item(clock, "copy", (PERMIT[0], ""), "/b/copy")]))
            await app.pipeline.run_cycle(all_feeds=True)
            clock.advance(days=1)
            srv.set_body("/a.xml", rss([*a, _item(clock, "start", START)]))
            await app.pipeline.run_cycle(all_feeds=True)
            asgi = desk_app(cfg, app.store, app.classifier, clock, host="127.0.0.1")
            async with AsgiServer(asgi, "127.0.0.1", 0) as server:
                yield Desk(f"http://127.0.0.1:{server.port}", app, srv)


def _item_id(desk: Desk, guid: str) -> int:
    with Session(desk.app.store.engine) as s:
        row = s.exec(select(ItemRow).where(ItemRow.guid == guid)).one()
        assert row.id is not None
        return row.id


def _event_of(desk: Desk, guid: str) -> int:
    item_id = _item_id(desk, guid)
    with Session(desk.app.store.engine) as s:
        ids = set(s.exec(select(EventSourceRow.event_id)
                         .where(EventSourceRow.item_id == item_id)).all())
    assert len(ids) == 1, (guid, ids)
    return ids.pop()


async def _get(desk: Desk, path: str, **params: str) -> str:
    async with httpx.AsyncClient(base_url=desk.url) as client:
        r = await client.get(path, params=params)
    assert r.status_code == 200, (path, r.status_code)
    return re.sub(r"<bdi[^>]*>|</bdi>", "", r.text)  # the isolates around Latin runs, dates


def _decisions(page: str) -> list[str]:
    return re.findall(r'class="decision">([^<]*)<', page)


def _event_ids(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'class="headline" href="/events/(\d+)', page)]


async def test_the_item_page_names_the_reason_for_every_alert_decision(desk: Desk) -> None:
    """Alerted, denied, recap, no watchlist, muted, joined an earlier report and duplicate:
    each item's page says which, in English and in Arabic."""
    permit = _item_id(desk, "permit")
    want = {
        "permit": "alerted: console",
        "denial": "no alert: the item denies the event",
        "recap": "no alert: the sentence recaps an older event",
        "unwatched": "no alert: no watchlist or subscriber asks for this type and entities",
        "muted": f"no alert: the subscribers who want it are muted ({MUTED_CHAT})",
        "second": f"no new alert: joined event #{_event_of(desk, 'permit')} first reported "
                  "by وكالة أ",
        "copy": f"dropped at ingest: a copy of item #{permit}",
        "start": "alerted: console",
    }
    for guid, reason in want.items():
        page = await _get(desk, f"/items/{_item_id(desk, guid)}", lang="en")
        assert set(_decisions(page)) == {reason}, (guid, _decisions(page))
    unwatched = await _get(desk, f"/items/{_item_id(desk, 'unwatched')}", lang="en")
    assert "not matched: nvidia-desk, huawei-desk" in unwatched
    arabic = await _get(desk, f"/items/{_item_id(desk, 'denial')}")
    assert _decisions(arabic) == ["لا تنبيه: الخبر ينفي الحدث"]


async def test_timeline_filters_by_status_and_date_range(desk: Desk) -> None:
    """?status= keeps the events of that status; since/until are days in the scheduler zone
    (day 2 holds only the production start)."""
    denied = _event_ids(await _get(desk, "/", status="denied"))
    assert denied == [_event_of(desk, "denial")]
    planned = _event_ids(await _get(desk, "/", status="planned"))
    assert planned == [_event_of(desk, "plan")]
    start = _event_of(desk, "start")
    assert _event_ids(await _get(desk, "/", since="2025-08-30")) == [start]
    day1 = []
    for page in (1, 2, 3):
        day1 += _event_ids(await _get(desk, "/", until="2025-08-29", page=str(page)))
    assert start not in day1 and _event_of(desk, "plan") in day1
    assert _event_ids(await _get(desk, "/", since="2025-08-31")) == []
    mixed = await _get(desk, "/", status="denied", since="2025-08-30")
    assert _event_ids(mixed) == [] and "No events match" not in mixed  # Arabic by default
    assert "لا أحداث تطابق هذه المرشحات." in mixed


async def test_timeline_pages_newest_first_without_gaps_or_repeats(desk: Desk) -> None:
    """Three events a page: each page links the next until the last, the pages together hold
    every event once, newest first."""
    seen: list[int] = []
    page = 1
    while True:
        text = await _get(desk, "/", page=str(page), lang="en")
        ids = _event_ids(text)
        assert 0 < len(ids) <= 3
        seen += ids
        assert (page > 1) == ('rel="prev"' in text)
        if 'rel="next"' not in text:
            break
        assert f"page={page + 1}" in text
        page += 1
    assert page >= 2 and len(seen) == len(set(seen))
    with Session(desk.app.store.engine) as s:
        every = set(s.exec(select(EventSourceRow.event_id)).all())
    assert set(seen) == every
    assert seen.index(_event_of(desk, "start")) == 0  # day 2's event comes first
    beyond = await _get(desk, "/", page=str(page + 1), lang="en")
    assert _event_ids(beyond) == [] and "No events match" in beyond


async def test_event_page_shows_outlets_first_seen_evidence_and_follow_ups(desk: Desk) -> None:
    """The permit lists outlet A (who broke it, 15:00 Riyadh; its recap too) before outlet B
    (17:00), each source with its evidence; the plan links its follow-up, which links back."""
    permit = _event_of(desk, "permit")
    page = await _get(desk, f"/events/{permit}", lang="en")
    sources = page.split('<ol class="sources">', 1)[1].split("</ol>", 1)[0]
    a, b = sources.index("وكالة أ"), sources.index("وكالة ب")
    assert a < sources.index("broke it first") < b
    assert sources.count("broke it first") == 1
    assert "First seen 2025-08-29 15:00" in sources[a:b]
    assert "First seen 2025-08-29 17:00" in sources[b:]
    assert sources.count("<li>") == 3  # A's permit, A's recap of it, B's report
    assert sources.count("Evidence:") == 3 and "<mark>تراخيص</mark>" in sources[a:b]
    assert f'href="/items/{_item_id(desk, "recap")}?lang=en"' in sources[a:b]
    assert "Status history" in page and re.search(r"<li>reported · 2025-08-29 15:00", page)
    plan, start = _event_of(desk, "plan"), _event_of(desk, "start")
    plan_page = await _get(desk, f"/events/{plan}", lang="en")
    assert "<h2>Follow-ups</h2>" in plan_page
    assert f'href="/events/{start}?lang=en"' in plan_page.split("<h2>Follow-ups</h2>", 1)[1]
    start_page = await _get(desk, f"/events/{start}", lang="en")
    assert "<dt>Follow-up of</dt>" in start_page
    assert f'href="/events/{plan}?lang=en"' in start_page
    assert "<h2>Follow-ups</h2>" not in start_page


async def test_feeds_page_shows_polls_errors_and_adopted_redirects(desk: Desk) -> None:
    """Each feed's last and next poll (scheduler zone), items, failures and error; the
    redirected feed names where it moved."""
    page = await _get(desk, "/feeds", lang="en")
    rows = {name: row for row in page.split("<tr")[2:]
            for name in ("وكالة أ", "وكالة ب", "منقول", "معطل") if f">{name}<" in row}
    assert len(rows) == 4
    a = rows["وكالة أ"]
    assert 'data-label="Status">healthy<' in a
    assert 'data-label="Last poll">2025-08-30 17:00<' in a  # 14:00 UTC, day 2, in Riyadh
    after = re.search(r'data-label="Next poll">(\d{4}-\d\d-\d\d \d\d:\d\d)<', a)
    assert after is not None and after.group(1) > "2025-08-30 17:00"
    assert 'data-label="Items">7<' in a and 'data-label="Failures in a row">0<' in a
    broken = rows["معطل"]
    assert 'data-label="Status">failing<div class="meta">3 consecutive failed polls' in broken
    assert 'class="failing"' in broken and 'data-label="Failures in a row">3<' in broken
    assert "500" in broken.split('data-label="Error">', 1)[1]
    moved = rows["منقول"]
    assert desk.feeds.url("/moved.xml") in moved.split('data-label="Redirected to">', 1)[1]
    assert 'data-label="Redirected to">—' in rows["وكالة ب"]


async def test_label_buttons_store_chosen_types_or_not_an_event(desk: Desk) -> None:
    """The label form with its token: chosen types are stored and shown on the item page;
    no type and no 'not an event' is refused (400); an unknown type counts as none."""
    item_id = _item_id(desk, "unwatched")
    async with httpx.AsyncClient(base_url=desk.url) as client:
        page = await client.get(f"/items/{item_id}", params={"lang": "en"})
        token = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        url = f"/items/{item_id}/label?lang=en"
        chosen = await client.post(url, data={"csrf": token, "verdict": "label",
                                              "type": ["chip_launch", "mass_production"]})
        assert chosen.status_code == 303 and chosen.headers["location"].endswith("saved=1&lang=en")
        empty = await client.post(url, data={"csrf": token, "verdict": "label",
                                             "type": "no_such_type"})
        assert empty.status_code == 400
    shown = await _get(desk, f"/items/{item_id}", lang="en", saved="1")
    assert "Correction saved." in shown
    labels = shown.split("Analysts&#39; labels: ", 1)[1].split("</p>", 1)[0]
    assert "chip_launch, mass_production" in labels and "no_such_type" not in shown
