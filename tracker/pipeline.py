"""The one module that connects the edges: fetch → parse → store → classify → merge → outbox.

For one feed, in order:
1. fetch conditionally (a 304, or a 200 with an empty body, costs no parse);
2. parse in a worker thread (feedparser is synchronous and CPU-bound);
3. in ONE transaction: insert the entries not seen before, classify each new distinct item,
   place its events on the timeline, queue an outbox row per (event, chat) for fresh news,
   and record the fetch state; a crash anywhere rolls all of it back, so the next poll
   redoes the work and no alert is lost;
4. a failure at any step is recorded on the feed (reason, backoff, lease released) and never
   stops the cycle — a database error while ingesting included (the failure is written in a
   fresh transaction; if even that fails, the lease is released);
5. what the operator must hear, told once through ``_check_health`` or a notice of its own:
   - a permanent redirect (every hop 301/308): the target is recorded on the feed
     (``moved_to``) and fetched from then on; the config URL stays the feed's identity;
   - 410 Gone: the feed is retired (no longer polled) with one notice;
   - 429 (or 503) with Retry-After: the feed waits until then; it does not count as a failed
     poll, so a busy server never makes a feed "failing";
   - a 200 with an empty body is a failed poll (``empty_body``): a feed that answers nothing
     for days is failing, not healthy.
Time comes from ``clock``; nothing here reads the wall clock itself.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from tracker.alerts.match import (
    alertable,
    is_fresh,
    match_subscribers,
    match_watchlists,
    subscriber_rules,
)
from tracker.errors import FeedError, StoreError
from tracker.feeds.fetch import Fetcher, FetchResult, FetchState
from tracker.feeds.parse import ParseLimits
from tracker.feeds.poll import fetch_and_parse
from tracker.feeds.schedule import next_poll_at
from tracker.model import Article, DetectedEvent, ParsedFeed, TimelineEvent, Watchlist
from tracker.neardup import TEXT_CHARS, NearDuplicates
from tracker.ops.feedhealth import FeedState, Health, HealthPolicy, adaptive_interval, assess
from tracker.ops.feedhealth import transition as health_transition
from tracker.placing import LegacyPlacer, Placer, lock_keys
from tracker.store.candidates import windows_of
from tracker.store.repo import (
    FeedView,
    QuietFetch,
    Store,
    StoredItem,
    Subscription,
    Tx,
)
from tracker.store.subscribers import enqueue_updates
from tracker.timeline import Mention, collapse, event_time, main_entities, window
from tracker.timeline.identity import FOLLOWS

log = logging.getLogger(__name__)
_FOLLOW_SPAN = timedelta(days=60)  # how far back a follow-up looks for the event it follows
QUIET_BATCH = 200  # not-modified fetches written together (and at the end of a cycle)


class Classifier(Protocol):
    def classify(self, article: Article) -> tuple[DetectedEvent, ...]: ...


@dataclass
class FeedReport:
    """What one poll of one feed did."""

    feed_id: int
    name: str
    url: str
    status: str = "ok"  # ok | not_modified | error | throttled | gone
    new_items: int = 0
    duplicates: int = 0
    events: int = 0
    alerts: int = 0
    error: str | None = None
    error_kind: str | None = None
    event_types: list[str] = field(default_factory=list)
    warning: str | None = None  # a problem the feed survived (decoding, caps, dates)
    moved_to: str | None = None  # a permanent redirect adopted by this poll


@dataclass
class CycleReport:
    feeds: list[FeedReport] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return sum(1 for f in self.feeds if f.status == "error")

    def total(self, attr: str) -> int:
        return sum(int(getattr(f, attr)) for f in self.feeds)


@dataclass(frozen=True)
class PipelineSettings:
    max_age: timedelta = timedelta(hours=48)
    max_concurrent_feeds: int = 50
    claim_batch: int = 10  # feeds leased per claim (see ``run_cycle``)
    lease: timedelta = timedelta(minutes=10)
    min_interval: timedelta = timedelta(minutes=2)
    max_interval: timedelta = timedelta(hours=6)
    health: HealthPolicy = field(default_factory=HealthPolicy)
    admins: tuple[str, ...] = ()  # chats told when a feed starts failing or recovers
    parse_limits: ParseLimits = field(default_factory=ParseLimits)
    identity: bool = True  # False: the placement rules before event identity (a baseline)


class Pipeline:
    """Polls feeds and turns their new items into timeline events and queued alerts."""

    def __init__(
        self,
        store: Store,
        engine: Classifier,
        fetchers: Callable[[str], Fetcher],
        watchlists: Sequence[Watchlist],
        clock: Callable[[], datetime],
        settings: PipelineSettings,
        owner: str,
        rng: random.Random | None = None,
        serialise_writes: bool = True,
    ) -> None:
        self.store = store
        self.engine = engine
        self.fetcher_for = fetchers
        self.watchlists = tuple(watchlists)
        self.clock = clock
        self.settings = settings
        self.owner = owner
        self.rng = rng or random.Random()
        self._write_lock = asyncio.Lock() if serialise_writes else None
        self.near = NearDuplicates()
        self._pub_cache: dict[int, tuple[datetime, ...]] = {}
        self._quiet: list[QuietFetch] = []  # not-modified fetches not yet written

    # --- cycles -------------------------------------------------------------------------
    async def run_cycle(
        self, *, all_feeds: bool = False, on_feed_done: Callable[[FeedReport], Any] | None = None,
        honour_retry_after: bool = False,
    ) -> CycleReport:
        """Poll the feeds that are due at the cycle's start (every active feed with
        ``all_feeds``, except, with ``honour_retry_after``, those whose server asked us to
        wait).

        Feeds are leased ``claim_batch`` at a time, and claimed again only as polling slots
        (``max_concurrent_feeds``) free up, so a process never holds more feeds than it is
        about to poll: processes sharing a database share a cycle's feeds instead of the
        first one leasing them all. Each feed is polled at most once per cycle.
        """
        report = CycleReport()
        start = self.clock()
        slots, batch = self.settings.max_concurrent_feeds, self.settings.claim_batch
        seen: set[int] = set()
        after_id = 0  # with all_feeds, claims walk the feeds by id
        running: set[asyncio.Task[None]] = set()
        more = True

        async def one(feed: FeedView) -> None:
            r = await self.poll_feed(feed, quiet_batch=True)
            report.feeds.append(r)
            if on_feed_done is not None:
                on_feed_done(r)

        while True:
            free = slots - len(running)
            if more and free > 0 and (free >= min(batch, slots) or not running):
                want = min(free, batch)
                feeds = await asyncio.to_thread(
                    self.store.claim_due_feeds, self.owner, self.clock(), self.settings.lease,
                    want, None, all_feeds, honour_retry_after, start,
                    after_id if all_feeds else None)
                more = bool(feeds)  # fewer than asked: another process may have won some
                for feed in feeds:
                    if feed.id in seen:  # only if its poll could not even be recorded
                        more = False
                        await asyncio.to_thread(self.store.release_feed, feed.id, self.owner)
                        continue
                    seen.add(feed.id)
                    after_id = max(after_id, feed.id)
                    running.add(asyncio.create_task(one(feed)))
                continue
            if not running:
                break
            done, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
            running -= done
            for task in done:
                task.result()  # poll_feed never raises; a bug here must not pass silently
            if len(self._quiet) >= QUIET_BATCH:
                await self._locked(self._record_quiet)
        if self._quiet:
            await self._locked(self._record_quiet)
        report.feeds.sort(key=lambda r: r.feed_id)
        return report

    async def poll_feed(self, feed: FeedView, quiet_batch: bool = False) -> FeedReport:
        """Fetch, parse and ingest one feed; a failure is recorded, never raised. With
        ``quiet_batch``, a not-modified answer that changes nothing but the fetch state is
        queued for :meth:`_record_quiet` (the cycle writes them together)."""
        report = FeedReport(feed_id=feed.id, name=feed.name, url=feed.url)
        url = feed.fetch_url
        try:
            polled = await fetch_and_parse(
                self.fetcher_for(url), url, FetchState(feed.etag, feed.last_modified),
                now=self.clock(), feed_timezone=feed.timezone,
                limits=self.settings.parse_limits)
            if polled.fetch.empty_body:
                raise FeedError("empty_body", f"HTTP {polled.fetch.http_status} with an empty "
                                              f"body: {polled.fetch.final_url}")
            report.warning = polled.feed.warning if polled.feed else None
            if quiet_batch and polled.feed is None and self._queue_quiet(feed, polled.fetch):
                report.status = "not_modified"
                return report
            await self._locked(self._ingest, feed, polled.fetch, polled.feed, report)
        except FeedError as exc:
            await self._fail(feed, exc, report, exc.kind)
        except StoreError as exc:
            log.error("store_error", extra={"feed_url": feed.url, "error": str(exc)})
            await self._fail(feed, FeedError("store", str(exc)), report, "store")
        except Exception as exc:  # a bug in one feed's handling must not stop the cycle
            log.exception("feed_crashed", extra={"feed_url": feed.url})
            await self._fail(feed, FeedError("internal", repr(exc)), report, "internal")
        return report

    async def _fail(self, feed: FeedView, exc: FeedError, report: FeedReport, kind: str) -> None:
        """Record a failed poll; never raises (the lease is released whatever happens)."""
        report.status, report.error, report.error_kind = "error", str(exc), kind
        http_status = getattr(exc, "http_status", None)
        if http_status == 410:
            report.status = "gone"
        elif http_status == 429 or (http_status == 503 and getattr(exc, "retry_after", None)):
            report.status = "throttled"
        try:
            await self._locked(self._record_failure, feed, exc)
        except Exception:  # the database itself is failing: at least free the feed
            log.exception("failure_not_recorded", extra={"feed_url": feed.url})
            try:
                await asyncio.to_thread(self.store.release_feed, feed.id, self.owner)
            except Exception:
                log.exception("lease_not_released", extra={"feed_url": feed.url})

    async def _locked(self, fn: Callable[..., None], *args: Any) -> None:
        if self._write_lock is None:
            await asyncio.to_thread(fn, *args)
            return
        async with self._write_lock:
            await asyncio.to_thread(fn, *args)

    def _record_failure(self, feed: FeedView, exc: FeedError) -> None:
        now = self.clock()
        retry_after = getattr(exc, "retry_after", None)
        http_status = getattr(exc, "http_status", None)
        if http_status == 410:
            self._retire(feed, now, str(exc))
            return
        # A busy server (429, or 503 with Retry-After) is not a broken feed: wait, don't count.
        counts = not (http_status == 429 or (http_status == 503 and retry_after is not None))
        failures_after = feed.consecutive_failures + (1 if counts else 0)
        nxt = next_poll_at(now, feed.interval, failures_after, retry_after, None,
                           self.rng.random())
        with self.store.tx() as tx:  # the failure first, on its own: it must not be lost
            failures = tx.record_failure(feed.id, now=now, next_poll_at=nxt, kind=exc.kind,
                                         message=str(exc), retry_after=retry_after,
                                         counts=counts)
        try:
            with self.store.tx() as tx:
                self._check_health(tx, feed, now, FeedState(
                    consecutive_failures=failures, last_success_at=feed.last_success_at,
                    last_new_item_at=feed.last_new_item_at,
                    pub_times=tx.recent_pub_times(feed.id), watched_since=feed.created_at),
                    detail=str(exc))
        except StoreError as health_exc:  # the notice waits for the next failure
            log.error("health_not_checked", extra={"feed_url": feed.url,
                                                   "error": str(health_exc)})
        log.warning("feed_failed", extra={"feed_url": feed.url, "error_kind": exc.kind,
                                           "error": str(exc), "next_poll_at": nxt.isoformat()})

    def _retire(self, feed: FeedView, now: datetime, detail: str) -> None:
        """410 Gone: stop polling the feed and tell the operator, once (the row says so)."""
        with self.store.tx() as tx:
            tx.retire(feed.id, now, detail)
            text = (f"feed gone: {feed.name} <{feed.fetch_url}> answered 410 Gone and is no "
                    f"longer polled; remove it from the config or change its URL")
            for chat in self.settings.admins:
                tx.enqueue_notice(chat, text, now)
        log.warning("feed_retired", extra={"feed_url": feed.url, "error": detail})

    # --- ingest (one transaction) --------------------------------------------------------
    def _check_health(self, tx: Tx, feed: FeedView, now: datetime, state: FeedState,
                      detail: str = "") -> None:
        """Tell the operator once when a feed starts failing or goes stale, once when it
        recovers; the last verdict told is kept on the feed row, so restarts and other
        processes do not repeat it."""
        verdict = assess(state, now, self.settings.health)
        previous = Health(feed.health) if feed.health else None
        notice = health_transition(previous, verdict.health)
        if verdict.health == previous:
            return
        tx.set_health(feed.id, verdict.health.value, "; ".join(verdict.reasons))
        if notice is None:
            return
        reasons = "; ".join(verdict.reasons) or "polling normally again"
        text = f"feed {notice.value.replace('_', ' ')}: {feed.name} <{feed.url}> — {reasons}"
        if detail and notice.value == "became_failing":
            text += f" (last error: {detail[:300]})"
        log.warning("feed_health", extra={"feed_url": feed.url, "transition": notice.value,
                                          "reasons": reasons})
        for chat in self.settings.admins:
            tx.enqueue_notice(chat, text, now)

    def _ingest(
        self, feed: FeedView, result: FetchResult, parsed: ParsedFeed | None, report: FeedReport
    ) -> None:
        now = self.clock()
        with self.store.tx() as tx:
            if parsed is None:
                report.status = "not_modified"
                items: list[StoredItem] = []
            else:
                self._refresh_near(tx, now)
                items, report.duplicates = tx.insert_items(feed.id, feed.name, parsed.entries,
                                                           now)
            report.new_items = len(items)
            if items:
                self._timeline(tx, feed, items, now, report)
            pub_times = self._pub_times(tx, feed.id, changed=bool(items))
            interval = adaptive_interval(pub_times, self.settings.min_interval,
                                         self.settings.max_interval, feed.interval, now=now)
            nxt = next_poll_at(now, interval, 0, None, result.max_age_seconds,
                               self.rng.random())
            tx.record_fetch(feed.id, now=now, next_poll_at=nxt, etag=result.etag,
                            last_modified=result.last_modified, final_url=result.final_url,
                            new_items=len(items), warning=parsed.warning if parsed else None)
            if result.moved_to and result.moved_to != feed.moved_to:
                self._moved(tx, feed, result.moved_to, now, report)
            self._check_health(tx, feed, now, FeedState(
                consecutive_failures=0, last_success_at=now,
                last_new_item_at=now if items else feed.last_new_item_at,
                pub_times=pub_times, watched_since=feed.created_at))

    def _queue_quiet(self, feed: FeedView, result: FetchResult) -> bool:
        """Queue the fetch state of a not-modified answer, if that is all it changes: no
        move to adopt, the feed's rhythm known, and its health verdict the one told."""
        if (result.moved_to and result.moved_to != feed.moved_to) \
                or feed.id not in self._pub_cache:
            return False
        now = self.clock()
        pub_times = self._pub_cache[feed.id]
        verdict = assess(FeedState(
            consecutive_failures=0, last_success_at=now, last_new_item_at=feed.last_new_item_at,
            pub_times=pub_times, watched_since=feed.created_at), now, self.settings.health)
        if verdict.health != (Health(feed.health) if feed.health else None):
            return False
        interval = adaptive_interval(pub_times, self.settings.min_interval,
                                     self.settings.max_interval, feed.interval, now=now)
        self._quiet.append(QuietFetch(
            feed.id, now, next_poll_at(now, interval, 0, None, result.max_age_seconds,
                                       self.rng.random()),
            result.etag, result.last_modified, result.final_url))
        return True

    def _record_quiet(self) -> None:
        """Write the queued not-modified fetches in one transaction (plain UPDATEs); if that
        fails, free their leases so the feeds are simply polled again."""
        quiet, self._quiet = self._quiet, []
        if not quiet:
            return
        try:
            with self.store.tx() as tx:
                tx.record_fetches(quiet)
        except StoreError as exc:
            log.error("not_modified_not_recorded", extra={"feeds": len(quiet),
                                                          "error": str(exc)})
            for q in quiet:
                try:
                    self.store.release_feed(q.feed_id, self.owner)
                except StoreError:
                    log.exception("lease_not_released", extra={"feed_id": q.feed_id})

    def _moved(self, tx: Tx, feed: FeedView, target: str, now: datetime,
               report: FeedReport) -> None:
        """A permanent redirect: fetch ``target`` from now on and tell the operator once
        (the next poll fetches ``target`` directly, so the move is not seen again)."""
        tx.record_move(feed.id, target)
        report.moved_to = target
        text = (f"feed moved permanently: {feed.name} <{feed.fetch_url}> → <{target}>; "
                f"tracker now fetches the new address (update the config to match)")
        log.warning("feed_moved", extra={"feed_url": feed.url, "moved_to": target})
        for chat in self.settings.admins:
            tx.enqueue_notice(chat, text, now)

    def _timeline(self, tx: Tx, feed: FeedView, items: Sequence[StoredItem], now: datetime,
                  report: FeedReport) -> None:
        """Classify the new items, place their events and queue alerts: one batch write.

        With event identity, one item's mentions of one event (its title and its summary)
        are collapsed first; on PostgreSQL the placement then holds a transaction-level
        advisory lock per event key (type + main entity) before it reads the candidates, so
        two processes placing reports of one event see each other's event.
        """
        found = [(item, self.engine.classify(Article(
            title=item.title, text=item.content or item.summary,
            published=item.published or now))) for item in items]
        found = [(item, events) for item, events in found if events]
        if not found:
            return
        identity = self.settings.identity
        mentions: dict[int, list[Mention]] = {}
        if identity:
            collapsed = [(item, collapse(events, item.published, item.first_seen, item.title))
                         for item, events in found]
            found = [(item, tuple(ev for ev, _ in pairs)) for item, pairs in collapsed]
            mentions = {item.id: [m for _, m in pairs] for item, pairs in collapsed}
            tx.lock_event_keys(lock_keys(ev for _, events in found for ev in events))
        candidates = self._candidates(tx, found, now)
        placer: Placer | LegacyPlacer = (Placer(candidates, _FOLLOW_SPAN) if identity
                                         else LegacyPlacer(candidates))
        near = {item.id: self.near.match_and_add(item.id, f"{item.title} {item.summary}",
                                                 item.first_seen) for item, _ in found}
        stored = tx.events_of_items({i for ids in near.values() for i in ids})
        first_fetch = feed.fetch_count == 0
        subscribers: list[Subscription] | None = None
        for item, events in found:
            linked = [ev for i in near[item.id]
                      for ev in stored.get(i, placer.by_item.get(i, []))]
            fresh = is_fresh(item.published, now, self.settings.max_age, first_fetch)
            for n, ev in enumerate(events):
                ref = (placer.place(item, ev, linked, mentions[item.id][n])
                       if isinstance(placer, Placer) else placer.place(item, ev, linked))
                if ref is None:  # background that joined nothing: not on the timeline
                    continue
                report.events += 1
                report.event_types.append(ev.type)
                if not (fresh and alertable(ev)) or ev.background:
                    continue
                if subscribers is None:
                    subscribers = [s for s in tx.subscriptions() if s.mode == "instant"]
                placer.batch.alerts.extend(self._recipients(ref, ev, subscribers, now))
        written = tx.write_timeline(placer.batch, now)
        report.alerts += written.alerts
        for event_id in placer.joined_alerted:
            enqueue_updates(tx, event_id, now)  # alerted events edit their message instead

    def _candidates(self, tx: Tx, found: Sequence[tuple[StoredItem, Sequence[DetectedEvent]]],
                    now: datetime) -> list[TimelineEvent]:
        """Timeline events any of these events could join or follow up: one window per
        type, from each event's own time span (see :mod:`tracker.store.candidates`)."""
        wanted = []
        follow_span = _FOLLOW_SPAN if self.settings.identity else timedelta(0)
        for item, events in found:
            for ev in events:
                when = event_time(ev, item.published, item.first_seen)
                span = window(ev) * 2
                types = (ev.type, *(FOLLOWS.get(ev.type, ()) if self.settings.identity else ()))
                wanted.append((types, when - max(span, follow_span), when + span,
                               main_entities(ev.entities)))
        return tx.candidates(windows_of(wanted))

    def _recipients(self, ref: int, ev: DetectedEvent, subscribers: Sequence[Subscription],
                    now: datetime) -> list[tuple[int, str, str | None]]:
        out: list[tuple[int, str, str | None]] = [
            (ref, chat, wl) for chat, wl in match_watchlists(ev, self.watchlists)]
        subs = [(s.chat_id, subscriber_rules(s.events, s.entities, s.pairs), s.muted_until)
                for s in subscribers]
        out += [(ref, chat, None) for chat in match_subscribers(ev, subs, now)]
        return out

    def _pub_times(self, tx: Tx, feed_id: int, changed: bool) -> tuple[datetime, ...]:
        """The feed's recent publication times; read again only when it has new items
        (a feed answering 304 has the same rhythm as last time)."""
        if changed or feed_id not in self._pub_cache:
            self._pub_cache[feed_id] = tx.recent_pub_times(feed_id)
        return self._pub_cache[feed_id]

    def _refresh_near(self, tx: Tx, now: datetime) -> None:
        """Bring the near-duplicate index up to date with items stored by any process."""
        self.near.expire(now)
        self.near.add_many(tx.items_after(self.near.last_id, now - self.near.window,
                                           TEXT_CHARS))
