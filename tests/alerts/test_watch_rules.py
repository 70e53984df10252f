"""Watch rules are lines of their own, and any one of them is enough (pure matching)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tracker.alerts.match import match_subscribers, matched_rule, subscriber_rules
from tracker.explain import _reason
from tracker.model import DetectedEvent, EntityRef, TimelineEvent
from tracker.records import ItemEvent

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def _event(type_: str, *entities: str) -> DetectedEvent:
    return DetectedEvent(type=type_, confidence=0.9,
                         entities=tuple(EntityRef(e, "company", "actor") for e in entities),
                         event_date=None, status="reported", recap=False, evidence=())


def test_an_entity_and_a_type_followed_apart_each_match_on_their_own() -> None:
    """Following Huawei and «export permits» is two rules: a Huawei results event matches
    the first, an Nvidia permit the second; nothing needs both (the reported bug)."""
    rules = subscriber_rules(frozenset({"export_permit"}), frozenset({"huawei"}))
    assert matched_rule("results", ["huawei"], rules) == ("huawei", None)
    assert matched_rule("export_permit", ["nvidia"], rules) == (None, "export_permit")
    assert matched_rule("results", ["nvidia"], rules) is None


def test_a_combined_rule_needs_both_and_the_most_specific_rule_is_named() -> None:
    """«Nvidia — export permits» needs the entity and the type; where several rules hold,
    the one named is the entity rule before the any-company one."""
    pair = subscriber_rules(frozenset(), frozenset(), frozenset({("nvidia", "export_permit")}))
    assert matched_rule("export_permit", ["nvidia"], pair) == ("nvidia", "export_permit")
    assert matched_rule("export_permit", ["huawei"], pair) is None
    assert matched_rule("chip_launch", ["nvidia"], pair) is None
    both = subscriber_rules(frozenset({"export_permit"}), frozenset({"nvidia"}))
    assert matched_rule("export_permit", ["nvidia"], both) == ("nvidia", None)


def test_subscribers_with_no_rules_or_a_running_mute_get_nothing() -> None:
    """No rules watch nothing; a mute holds until it ends."""
    rules = subscriber_rules(frozenset(), frozenset({"huawei"}))
    subs = [("1", frozenset(), None), ("2", rules, NOW + timedelta(hours=1)),
            ("3", rules, NOW - timedelta(minutes=1)), ("4", rules, None)]
    assert match_subscribers(_event("results", "huawei"), subs, NOW) == ["3", "4"]


def test_explain_names_a_muted_subscriber_whose_combined_rule_wanted_the_event() -> None:
    """The desk's "why no alert" reads the same rules the pipeline matches, combined ones
    included: a muted «Nvidia — export permits» subscriber is why a permit went unsent."""
    ev = _event("export_permit", "nvidia")
    timeline = TimelineEvent(1, "export_permit", "h", ev.entities, None, NOW, "reported", NOW,
                             "o", 1, False, ())
    found = ItemEvent(timeline, "reported", False, "s", True, ())
    pair = subscriber_rules(frozenset(), frozenset(), frozenset({("nvidia", "export_permit")}))
    reason = _reason(found, NOW, NOW, False, ev, False, [("77", pair, NOW + timedelta(days=1))],
                     timedelta(days=2), NOW)
    assert reason.code == "muted" and ("chats", "77") in reason.args
