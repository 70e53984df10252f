"""The desk in headless Chromium (Debian's /usr/bin/chromium driven by Playwright): every
page at phone and desk width without console errors or horizontal scrolling, search by a
variant spelling, filters by keyboard alone, hostile titles as text, CSRF on POST.

Screenshots are the test's artefacts: written to ``$TRACKER_DESK_SCREENSHOT_DIR`` or else
``test-artifacts/desk/`` at the repository root (git ignores it). Skips, saying why, where
Chromium or Playwright is missing.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.web.conftest import HOSTILE_TITLE, PERMIT_TITLE, Desk, first_id
from tracker.store.tables import ItemRow

CHROMIUM = Path("/usr/bin/chromium")
REPO = Path(__file__).resolve().parents[2]
SHOTS = Path(os.environ.get("TRACKER_DESK_SCREENSHOT_DIR") or REPO / "test-artifacts" / "desk")

playwright_api = pytest.importorskip("playwright.async_api",
                                     reason="needs the playwright package (test group)")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(),
                                reason="needs /usr/bin/chromium (apt-get install chromium)")


class Page:
    """A browser page that records console errors, page errors and dialogs."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.problems: list[str] = []
        page.on("console", lambda m: m.type == "error" and self.problems.append(m.text))
        page.on("pageerror", lambda e: self.problems.append(str(e)))
        page.on("dialog", lambda d: self.problems.append(f"dialog: {d.message}"))


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    async with playwright_api.async_playwright() as p:
        b = await p.chromium.launch(executable_path=str(CHROMIUM),
                                    args=["--no-sandbox", "--disable-gpu"])
        try:
            yield b
        finally:
            await b.close()


async def _page(browser: Any, width: int) -> Page:
    context = await browser.new_context(viewport={"width": width, "height": 900})
    return Page(await context.new_page())


@pytest.mark.parametrize("width", [390, 1280])
async def test_every_page_renders_clean_at_phone_and_desk_width(desk: Desk, browser: Any,
                                                               width: int) -> None:
    """Timeline, search, event, item and feeds pages load with no console error, right to
    left, no wider than the window; a screenshot of each is kept."""
    item_id = first_id(desk.app, ItemRow, title=PERMIT_TITLE)
    pages = {"timeline": "/", "search": "/search?q=Nvidia", "event": "/events/1",
             "item": f"/items/{item_id}", "feeds": "/feeds", "timeline-en": "/?lang=en"}
    p = await _page(browser, width)
    os.makedirs(SHOTS, exist_ok=True)
    for name, path in pages.items():
        response = await p.page.goto(desk.url + path)
        assert response is not None and response.status == 200, path
        direction = await p.page.evaluate("document.documentElement.dir")
        assert direction == ("ltr" if name.endswith("-en") else "rtl")
        overflow = await p.page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth")
        if name != "feeds":  # the feeds table scrolls inside its own box
            assert overflow <= 0, f"{path} is {overflow}px wider than {width}px"
        await p.page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
    assert p.problems == []


async def test_search_finds_an_item_by_a_variant_spelling(desk: Desk, browser: Any) -> None:
    """Typing Nvidia (Latin) and pressing Enter lists the item written إنفيديا."""
    p = await _page(browser, 390)
    await p.page.goto(desk.url + "/search")
    box = p.page.locator("input[name=q]")
    await box.focus()  # autofocus may land after the first key under load
    assert await p.page.evaluate("document.activeElement.name") == "q"
    await p.page.keyboard.type("Nvidia")
    await p.page.keyboard.press("Enter")
    await p.page.wait_for_url(lambda url: "q=Nvidia" in url)
    titles = await p.page.locator("ol.items li a").all_inner_texts()
    assert PERMIT_TITLE in titles
    assert p.problems == []


async def test_filters_work_by_keyboard_alone(desk: Desk, browser: Any) -> None:
    """Tab to the entity box, type an Arabic name, Tab to the type list, pick with the
    arrow keys, Enter: the timeline shows only matching events."""
    p = await _page(browser, 1280)
    await p.page.goto(desk.url + "/")
    for _ in range(12):
        await p.page.keyboard.press("Tab")
        if await p.page.evaluate("document.activeElement.name") == "entity":
            break
    else:
        pytest.fail("the entity filter is not reachable by Tab")
    await p.page.keyboard.type("إنفيديا")
    await p.page.keyboard.press("Tab")
    assert await p.page.evaluate("document.activeElement.name") == "type"
    await p.page.keyboard.press("ArrowDown")  # the first type: export_permit
    assert await p.page.evaluate("document.activeElement.value") == "export_permit"
    for _ in range(20):  # on through status and the date fields to the button
        await p.page.keyboard.press("Tab")
        if await p.page.evaluate("document.activeElement.type") == "submit":
            break
    else:
        pytest.fail("the apply button is not reachable by Tab")
    await p.page.keyboard.press("Enter")
    await p.page.wait_for_url(lambda url: "entity=" in url)
    headlines = await p.page.locator("a.headline").all_inner_texts()
    assert headlines == [PERMIT_TITLE]
    assert p.problems == []


async def test_a_script_title_renders_as_text(desk: Desk, browser: Any) -> None:
    """The <script> title shows as literal text, runs nothing, and its javascript: link is
    no link at all."""
    p = await _page(browser, 390)
    item_id = first_id(desk.app, ItemRow, title=HOSTILE_TITLE)
    await p.page.goto(desk.url + f"/items/{item_id}")
    assert await p.page.locator("h1").inner_text() == HOSTILE_TITLE
    assert await p.page.locator("h1 a").count() == 0
    assert await p.page.evaluate("document.scripts.length") == 0
    await p.page.goto(desk.url + "/search?q=" + "انفيديا")
    texts = await p.page.locator("ol.items li a").all_inner_texts()
    assert HOSTILE_TITLE in texts
    assert p.problems == []


async def test_a_post_without_the_csrf_token_is_refused(desk: Desk, browser: Any) -> None:
    """With the page's cookie but no form token the label POST is 403; the form's own
    button stores the label."""
    p = await _page(browser, 1280)
    item_id = first_id(desk.app, ItemRow, title=PERMIT_TITLE)
    await p.page.goto(desk.url + f"/items/{item_id}?lang=en")
    forged = await p.page.request.post(desk.url + f"/items/{item_id}/label",
                                       form={"verdict": "not_event"})
    assert forged.status == 403
    await p.page.get_by_role("button", name="Not an event").click()
    await p.page.wait_for_url(lambda url: "saved=1" in url)
    assert "Correction saved." in await p.page.locator("main").inner_text()
    assert p.problems == []
