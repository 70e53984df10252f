"""The subscriber and outbox statements, on SQLite and (with the marker) PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from tests.conftest import Clock, migrated_store
from tests.telegram.helpers import add_outlet, enqueue, make_event
from tracker.store.repo import Store
from tracker.store.subscribers import (
    Retry,
    Sent,
    add_rule,
    chat_langs,
    claim_outbox,
    deactivate,
    enqueue_updates,
    forget,
    get_subscriber,
    outbox_states,
    queue_broadcast,
    record_outcomes,
    remove_rule,
    subscribe,
    subscriber_counts,
)

LEASE = timedelta(minutes=2)


@pytest.fixture
def any_store(database_url: str) -> Iterator[Store]:
    yield from migrated_store(database_url)


def test_claims_lease_rows_once_and_load_each_event_once(any_store: Store, clock: Clock) -> None:
    """A claim leases due rows to one owner; a second owner gets the rest, never the same."""
    event_id = make_event(any_store, clock)
    enqueue(any_store, clock, event_id, [str(i) for i in range(30)])
    first = claim_outbox(any_store, "a", clock(), LEASE, 20)
    second = claim_outbox(any_store, "b", clock(), LEASE, 20)
    assert len(first) == 20 and len(second) == 10
    assert not {m.id for m in first} & {m.id for m in second}
    assert all(m.event is not None and m.event.id == event_id and len(m.sources) == 1
               for m in first)
    assert claim_outbox(any_store, "c", clock(), LEASE, 20) == []
    clock.advance(minutes=3)  # the leases expired: the rows are claimable again
    assert len(claim_outbox(any_store, "c", clock(), LEASE, 50)) == 30


def test_outcomes_are_recorded_in_one_batch(any_store: Store, clock: Clock) -> None:
    """Sent rows get their message id and mark the event alerted; retries are re-armed or
    failed."""
    event_id = make_event(any_store, clock)
    enqueue(any_store, clock, event_id, ["1", "2", "3"])
    a, b, c = claim_outbox(any_store, "o", clock(), LEASE, 10)
    record_outcomes(any_store, clock(), [Sent(a.id, "77", 1)],
                    [Retry(b.id, "flood", clock() + timedelta(seconds=5)),
                     Retry(c.id, "blocked", clock(), give_up=True)])
    assert outbox_states(any_store) == {"alert/sent": 1, "alert/pending": 1, "alert/failed": 1}
    assert any_store.recent_events()[0].alerted
    assert claim_outbox(any_store, "o", clock(), LEASE, 10) == []
    clock.advance(seconds=6)
    [again] = claim_outbox(any_store, "o", clock(), LEASE, 10)
    assert again.id == b.id and again.attempts == 1


def test_a_late_retry_never_requeues_a_row_another_process_sent(
        any_store: Store, clock: Clock) -> None:
    """Owner a's claim runs out, b claims and sends the row; a's late retry leaves it sent."""
    event_id = make_event(any_store, clock)
    enqueue(any_store, clock, event_id, ["1"])
    [row] = claim_outbox(any_store, "a", clock(), LEASE, 10)
    clock.advance(minutes=3)
    [same] = claim_outbox(any_store, "b", clock(), LEASE, 10)
    record_outcomes(any_store, clock(), [Sent(same.id, "5", 1)])
    record_outcomes(any_store, clock(), [], [Retry(row.id, "chat gate", clock())])
    assert outbox_states(any_store) == {"alert/sent": 1}
    clock.advance(minutes=3)
    assert claim_outbox(any_store, "c", clock(), LEASE, 10) == []


def test_updates_are_queued_for_sent_alerts_with_fewer_sources(
    any_store: Store, clock: Clock
) -> None:
    """Only sent alerts showing fewer sources than the event has get an update row."""
    event_id = make_event(any_store, clock)
    enqueue(any_store, clock, event_id, ["1", "2"])
    first, _ = claim_outbox(any_store, "o", clock(), LEASE, 10)
    record_outcomes(any_store, clock(), [Sent(first.id, "10", 1)])
    add_outlet(any_store, clock, event_id, "B", "https://b.example/1")
    with any_store.tx() as tx:
        assert enqueue_updates(tx, event_id, clock()) == 1
    [update] = [m for m in claim_outbox(any_store, "o", clock(), LEASE, 10) if m.kind == "update"]
    assert update.chat_id == "1" and update.message_id == "10" and len(update.sources) == 2


def test_subscribers_rules_deactivation_and_forgetting(any_store: Store, clock: Clock) -> None:
    """Subscribing, rules, deactivation (failing pending rows) and /stop all persist."""
    assert subscribe(any_store, "5", "en", clock())
    assert not subscribe(any_store, "5", "ar", clock())
    assert add_rule(any_store, "5", "entity", "nvidia")
    assert not add_rule(any_store, "5", "entity", "nvidia")
    assert add_rule(any_store, "5", "event", "export_permit")
    assert remove_rule(any_store, "5", "event", "export_permit")
    assert chat_langs(any_store, ["5", "6"]) == {"5": "en"}
    enqueue(any_store, clock, make_event(any_store, clock), ["5"])
    assert deactivate(any_store, "5", "blocked") == 1
    sub = get_subscriber(any_store, "5")
    assert sub is not None and not sub.active and sub.entities == {"nvidia"}
    assert subscriber_counts(any_store)["inactive"] == 1
    assert subscribe(any_store, "5", "en", clock())  # /start again reactivates
    assert queue_broadcast(any_store, "hello", clock()) == 1
    assert forget(any_store, "5")
    assert get_subscriber(any_store, "5") is None
    assert outbox_states(any_store) == {}
