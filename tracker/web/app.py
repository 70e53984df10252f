"""The desk's routes: timeline, search, event, item, feeds, a label POST, /healthz, /metrics.

Every page renders a Jinja2 template with autoescaping on (feed strings are text, never
markup) and only ``http(s)`` links; Arabic (``dir=rtl``) by default, English with
``?lang=en``. Reads run in a worker thread so the daemon's event loop never waits on the
database. Filters are plain GET forms (keyboard and screen readers work, no script at all).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import jinja2
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from tracker.explain import explain_item
from tracker.export._html import bidi
from tracker.export._view import safe_url
from tracker.model import Article
from tracker.records import TimelineFilter
from tracker.text.search import parse_query
from tracker.web.data import DeskContext, DeskData
from tracker.web.security import CSRF_FIELD, Guard, csrf_refusal, csrf_token
from tracker.web.words import STATUSES, WORDS, role_label, status_label

_HERE = Path(__file__).parent
T = TypeVar("T")


def _lang(request: Request) -> str:
    return "en" if request.query_params.get("lang") == "en" else "ar"


def _date_param(value: str | None, tz: str, end: bool = False) -> datetime | None:
    """A ``YYYY-MM-DD`` form value as the start (or the end) of that day in ``tz``."""
    if not value:
        return None
    try:
        day = datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=ZoneInfo(tz))
    except ValueError:
        return None
    return (day + timedelta(days=1) if end else day).astimezone(UTC)


def _page(request: Request) -> int:
    try:
        return max(1, min(int(request.query_params.get("page", "1")), 100_000))
    except ValueError:
        return 1


def build_app(data: DeskData, ctx: DeskContext, *, desk: bool = True,
              extra_routes: Sequence[BaseRoute] = ()) -> Starlette:
    """The ASGI app: the desk's pages and ``extra_routes`` (the wiring passes ``/healthz``
    and ``/metrics``); ``desk=False`` serves only the extra routes."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(_HERE / "templates"),
                             autoescape=True, undefined=jinja2.StrictUndefined)
    zone = ZoneInfo(ctx.tz)

    def local(when: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
        return when.astimezone(zone).strftime(fmt) if when else "—"

    env.filters["local"] = local
    env.filters["safe_url"] = safe_url
    env.filters["bidi"] = bidi  # Latin runs (H20, 910C) isolated inside Arabic lines
    templates = Jinja2Templates(env=env)

    async def run(fn: Callable[[], T]) -> T:
        return await asyncio.to_thread(fn)

    def render(request: Request, name: str, status: int = 200, **values: Any) -> Response:
        lang = _lang(request)
        words = WORDS[lang]

        def link(path: str, **params: Any) -> str:
            q = {k: v for k, v in params.items() if v not in (None, "", [], ())}
            if lang == "en":
                q["lang"] = "en"
            return path + ("?" + urlencode(q, doseq=True) if q else "")

        values.update(
            lang=lang, dir="rtl" if lang == "ar" else "ltr", w=words, link=link,
            type_label=lambda t: ctx.labels.labels(t, lang) if t in types else t,
            entity_label=lambda e: ctx.labels.entity_label(e, lang),
            status_label=lambda s: status_label(s, lang), tz=ctx.tz,
            role_label=lambda r: role_label(r, lang),
            csrf=csrf_token(request), csrf_field=CSRF_FIELD, version=ctx.version,
            other_lang=link(request.url.path, **{k: v for k, v in request.query_params.items()
                                                 if k != "lang"}, **(
                {"lang": "en"} if lang == "ar" else {})),
        )
        if lang == "en":  # the switch back to Arabic drops lang=en
            values["other_lang"] = request.url.path + (
                "?" + urlencode([(k, v) for k, v in request.query_params.multi_items()
                                 if k != "lang"]) if len(request.query_params) > 1 else "")
        return templates.TemplateResponse(request, name, values, status_code=status)

    types = set(ctx.labels.event_types())

    async def timeline(request: Request) -> Response:
        qp = request.query_params
        entity_text = qp.get("entity", "").strip()
        entity = ctx.names.resolve(entity_text) if entity_text else None
        chosen_types = tuple(t for t in qp.getlist("type") if t in types)
        chosen_status = tuple(s for s in qp.getlist("status") if s in STATUSES)
        problems = []
        if entity_text and entity is None:
            problems.append(WORDS[_lang(request)]["unknown_entity"].format(name=entity_text))
        filters = TimelineFilter(entity=entity, types=chosen_types, statuses=chosen_status,
                                 since=_date_param(qp.get("since"), ctx.tz),
                                 until=_date_param(qp.get("until"), ctx.tz, end=True))
        page = _page(request)
        result = None if problems else await run(
            lambda: data.timeline_page(filters, page, ctx.per_page))
        return render(request, "timeline.html.j2", result=result, page=page,
                      problems=problems, entity_text=entity_text, entity=entity,
                      chosen_types=chosen_types, chosen_status=chosen_status,
                      types=ctx.labels.event_types(), statuses=STATUSES,
                      since=qp.get("since", ""), until=qp.get("until", ""),
                      query=[(k, v) for k, v in qp.multi_items() if k not in ("page", "lang")])

    async def search(request: Request) -> Response:
        text = request.query_params.get("q", "").strip()[:200]
        page = _page(request)
        query = parse_query(text, ctx.names) if text else None
        found: list[Any] = []
        more = False
        if query:
            def go() -> tuple[list[Any], bool]:
                data.refresh_search()
                return data.items(query, page, ctx.per_page)
            found, more = await run(go)
        return render(request, "search.html.j2", q=text, items=found, more=more, page=page,
                      searched=bool(query))

    async def event(request: Request) -> Response:
        detail = await run(lambda: data.event(request.path_params["event_id"]))
        if detail is None:
            return render(request, "missing.html.j2", 404)
        return render(request, "event.html.j2", d=detail, e=detail.event,
                      why=await run(lambda: _event_why(detail)))

    def _event_why(detail: Any) -> tuple[str, ...]:
        """The classifier's reasons for the first report, from its sentence (the current
        rules); its stored evidence when they no longer find the event there."""
        if not detail.sources:
            return tuple(detail.event.evidence)
        first = detail.sources[0]
        for found in ctx.labels.classify(Article(first.title, first.sentence, first.published)):
            if found.type == detail.event.type:
                return tuple(getattr(found, "why", ())) or found.evidence
        return tuple(first.evidence or detail.event.evidence)

    async def item(request: Request) -> Response:
        item_id = request.path_params["item_id"]

        def load() -> Any:
            detail = data.item(item_id)
            if detail is None:
                return None
            it = detail.item
            detected = ctx.labels.classify(Article(it.title, it.content or it.summary,
                                                   it.published or it.first_seen))
            return explain_item(detail, detected, ctx.watchlists, data.instant_subscribers(),
                                ctx.max_age, ctx.clock())
        why = await run(load)
        if why is None:
            return render(request, "missing.html.j2", 404)
        return render(request, "item.html.j2", why=why, it=why.detail.item,
                      reason_text=lambda r: r.text(_lang(request)),
                      types=ctx.labels.event_types(), saved=request.query_params.get("saved"))

    async def label(request: Request) -> Response:
        form = await request.form()
        refused = csrf_refusal(request, form.get(CSRF_FIELD))
        if refused is not None:
            return refused
        item_id = request.path_params["item_id"]
        chosen = [t for t in form.getlist("type") if isinstance(t, str) and t in types]
        if form.get("verdict") == "not_event":
            chosen = []
        elif not chosen:
            return PlainTextResponse("choose at least one event type, or 'not an event'\n", 400)
        if await run(lambda: data.item(item_id)) is None:
            return PlainTextResponse("no such item\n", 404)
        await run(lambda: data.record_label(item_id, chosen, ctx.clock()))
        suffix = "&lang=en" if _lang(request) == "en" else ""
        return RedirectResponse(f"/items/{item_id}?saved=1{suffix}", 303)

    async def feeds(request: Request) -> Response:
        return render(request, "feeds.html.j2", feeds=await run(data.feeds),
                      now=ctx.clock())

    routes: list[Any] = list(extra_routes)
    if desk:
        routes += [
            Route("/", timeline),
            Route("/search", search),
            Route("/events/{event_id:int}", event),
            Route("/items/{item_id:int}", item),
            Route("/items/{item_id:int}/label", label, methods=["POST"]),
            Route("/feeds", feeds),
            Mount("/static", app=StaticFiles(directory=_HERE / "static"), name="static"),
        ]
    app = Starlette(routes=routes)
    app.add_middleware(Guard, token=ctx.token)
    return app
