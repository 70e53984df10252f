"""Lists in running text use the reader's comma: ", " in English, "، " in Arabic."""

from __future__ import annotations

from datetime import UTC, datetime

from tracker.alerts.render import alert_html, alert_text
from tracker.model import EntityRef, TimelineEvent
from tracker.telegram.texts import join

NAMES = {"nvidia": ("إنفيديا", "Nvidia"), "huawei": ("هواوي", "Huawei")}


class Labels:
    def labels(self, type_id: str, lang: str) -> str:
        return type_id

    def entity_label(self, entity_id: str, lang: str) -> str:
        ar, en = NAMES[entity_id]
        return en if lang == "en" else ar


def _event() -> TimelineEvent:
    when = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
    entities = (EntityRef("nvidia", "company", "actor"), EntityRef("huawei", "company", "actor"))
    return TimelineEvent(1, "export_permit", "h", entities, None, when, "reported", when, "o",
                         1, False, ())


def test_english_alerts_list_entities_with_the_english_comma() -> None:
    """An English alert says "Nvidia, Huawei" and holds no Arabic comma at all."""
    for text in (alert_html(_event(), (), Labels(), "en"),
                 alert_text(_event(), (), Labels(), "en")):
        assert "Nvidia, Huawei" in text and "،" not in text


def test_arabic_alerts_keep_the_arabic_comma() -> None:
    """An Arabic alert separates the same names with "، "."""
    assert "إنفيديا، هواوي" in alert_html(_event(), (), Labels(), "ar")
    assert "إنفيديا، هواوي" in alert_text(_event(), (), Labels(), "ar")


def test_the_bots_running_lists_follow_the_language() -> None:
    """The bot's own lists (evidence phrases, names) join by language."""
    assert join(["a", "b", "c"], "en") == "a, b, c"
    assert join(["أ", "ب"], "ar") == "أ، ب"
