"""The desk's words in Arabic and English."""

from __future__ import annotations

STATUSES = ("reported", "confirmed", "denied", "planned", "rumoured")
_STATUS_AR = {"reported": "مُبلَّغ عنه", "confirmed": "مؤكَّد", "denied": "منفي",
              "planned": "مخطَّط", "rumoured": "غير مؤكَّد"}

WORDS: dict[str, dict[str, str]] = {
    "ar": {
        "title": "مكتب المتابعة", "timeline": "الخط الزمني", "search": "بحث",
        "feeds": "المصادر", "entity": "الجهة", "type": "النوع", "status": "الحالة",
        "since": "من", "until": "إلى", "apply": "تطبيق", "any": "الكل",
        "date": "التاريخ", "headline": "العنوان", "sources": "المصادر",
        "next": "التالي", "previous": "السابق", "page": "صفحة",
        "no_events": "لا أحداث تطابق هذه المرشحات.", "no_items": "لا أخبار تطابق البحث.",
        "unknown_entity": "جهة غير معروفة: {name}", "search_hint": "ابحث في الأخبار المخزنة",
        "first_seen": "أول رصد", "published": "النشر", "outlet": "الوسيلة",
        "evidence": "الدليل", "history": "سجل الحالة", "follow_ups": "متابعات",
        "follow_up_of": "متابعة للحدث", "why": "لماذا", "alerts": "التنبيهات",
        "none": "لا شيء", "broke_first": "أول من نشره", "events_found": "الأحداث المرصودة",
        "watchlists": "قوائم المتابعة المطابقة", "missed": "غير المطابقة",
        "decision": "القرار", "label": "تصحيح التصنيف", "not_event": "ليس حدثًا",
        "save": "حفظ", "saved": "حُفظ التصحيح.", "feed": "المصدر", "last_poll": "آخر جلب",
        "next_poll": "الجلب التالي", "error": "الخطأ", "redirect": "أعيد التوجيه إلى",
        "items": "الأخبار", "failures": "إخفاقات متتالية", "missing": "غير موجود",
        "current_rules": "ما تجده القواعد الحالية", "labels": "تصحيحات المحللين",
        "entities": "الجهات", "sentence": "الجملة", "recap": "استعادة", "event": "الحدث",
        "removed": "محذوف", "never": "لم يُجلب بعد", "ok": "سليم", "dates_in": "التواريخ بتوقيت",
        "open": "فتح", "health_healthy": "سليم", "health_failing": "متعثر",
        "health_stale": "راكد (لا جديد منذ مدة)",
    },
    "en": {
        "title": "Tracker desk", "timeline": "Timeline", "search": "Search",
        "feeds": "Feeds", "entity": "Entity", "type": "Type", "status": "Status",
        "since": "From", "until": "To", "apply": "Apply", "any": "Any",
        "date": "Date", "headline": "Headline", "sources": "Sources",
        "next": "Next", "previous": "Previous", "page": "Page",
        "no_events": "No events match these filters.", "no_items": "No items match.",
        "unknown_entity": "Unknown entity: {name}", "search_hint": "Search stored items",
        "first_seen": "First seen", "published": "Published", "outlet": "Outlet",
        "evidence": "Evidence", "history": "Status history", "follow_ups": "Follow-ups",
        "follow_up_of": "Follow-up of", "why": "Why", "alerts": "Alerts",
        "none": "none", "broke_first": "broke it first", "events_found": "Events found",
        "watchlists": "Watchlists matched", "missed": "not matched",
        "decision": "Decision", "label": "Correct the label", "not_event": "Not an event",
        "save": "Save", "saved": "Correction saved.", "feed": "Feed", "last_poll": "Last poll",
        "next_poll": "Next poll", "error": "Error", "redirect": "Redirected to",
        "items": "Items", "failures": "Failures in a row", "missing": "Not found",
        "current_rules": "Current rules find", "labels": "Analysts' labels",
        "entities": "Entities", "sentence": "Sentence", "recap": "recap", "event": "Event",
        "removed": "removed", "never": "never polled", "ok": "ok", "dates_in": "Dates in",
        "open": "open", "health_healthy": "healthy", "health_failing": "failing",
        "health_stale": "stale (nothing new for a while)",
    },
}


_ROLES = {
    "ar": {"actor": "الفاعل", "target": "المستهدف", "product": "المنتج", "mention": "ذُكر"},
    "en": {"actor": "actor", "target": "target", "product": "product", "mention": "mentioned"},
}


def role_label(role: str, lang: str) -> str:
    return _ROLES["ar" if lang == "ar" else "en"].get(role, role)


def status_label(status: str, lang: str) -> str:
    return _STATUS_AR.get(status, status) if lang == "ar" else status
