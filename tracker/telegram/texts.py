"""What the bot says, in Arabic and English. Pure data and one lookup function.

Every string is Telegram HTML: placeholders are filled with already escaped values by the
caller (:func:`say` escapes nothing itself, so callers pass ``html.escape``-d text).
"""

from __future__ import annotations

LANGS = ("ar", "en")

_TEXTS: dict[str, dict[str, str]] = {
    "bot_description": {
        "ar": "يتابع هذا البوت أخبار سباق رقائق الذكاء الاصطناعي بين الولايات المتحدة والصين "
              "في المواقع العربية: تصاريح التصدير وقيوده، توجيهات الشراء، إطلاق الرقائق "
              "والإنتاج الضخم. اختر الشركات وأنواع الأحداث التي تهمك، وتصلك التنبيهات فوراً "
              "أو في ملخص يومي أو أسبوعي.",
        "en": "This bot follows the US–China AI-chip race in Arabic tech news: export permits "
              "and bans, purchase guidance, chip launches, mass production. Pick the "
              "companies and event types you care about and get alerts at once, or a daily "
              "or weekly digest.",
    },
    "bot_short_description": {
        "ar": "تنبيهات سباق رقائق الذكاء الاصطناعي من الأخبار العربية",
        "en": "AI-chip race alerts from Arabic tech news",
    },
    "welcome": {
        "ar": "أهلاً بك في متتبّع سباق رقائق الذكاء الاصطناعي 👋\n"
              "اختر ما تريد متابعته بالأمر /watch، وسنرسل لك التنبيهات فور وقوع الأحداث.\n"
              "المساعدة: /help",
        "en": "Welcome to the AI-chip race tracker 👋\n"
              "Pick what to follow with /watch and alerts will arrive as events happen.\n"
              "Help: /help",
    },
    "welcome_back": {
        "ar": "أنت مشترك بالفعل. المساعدة: /help",
        "en": "You are already subscribed. Help: /help",
    },
    "help": {
        "ar": "<b>الأوامر</b>\n"
              "/watch — متابعة شركة أو منتج أو نوع حدث\n"
              "/unwatch — إلغاء المتابعة\n"
              "/list — ما تتابعه\n"
              "/mode instant|daily|weekly — تنبيه فوري أو ملخص يومي أو أسبوعي\n"
              "/mute 2h — إيقاف التنبيهات مؤقتاً (/mute off للإلغاء)\n"
              "/quiet on|off — تنبيهات الشائعات والخطط بلا صوت\n"
              "/timeline [جهة] — آخر الأحداث\n"
              "/lang ar|en — لغة الواجهة\n"
              "/stop — إلغاء الاشتراك وحذف بياناتك",
        "en": "<b>Commands</b>\n"
              "/watch — follow a company, product or event type\n"
              "/unwatch — stop following\n"
              "/list — what you follow\n"
              "/mode instant|daily|weekly — instant alerts, daily or weekly digest\n"
              "/mute 2h — pause alerts (/mute off to resume)\n"
              "/quiet on|off — rumoured and planned alerts without a sound\n"
              "/timeline [entity] — latest events\n"
              "/lang ar|en — interface language\n"
              "/stop — unsubscribe and delete your data",
    },
    "not_subscribed": {"ar": "لست مشتركاً بعد. ابدأ بالأمر /start",
                       "en": "You are not subscribed yet. Send /start"},
    "watch_pick": {"ar": "ماذا تريد أن تتابع؟", "en": "What do you want to follow?"},
    "unwatch_pick": {"ar": "اختر ما تريد إلغاء متابعته:", "en": "Pick what to stop following:"},
    "pick_entities": {"ar": "الشركات والمنتجات", "en": "Companies and products"},
    "pick_events": {"ar": "أنواع الأحداث", "en": "Event types"},
    "watch_added": {"ar": "✅ تتم الآن متابعة: {label}", "en": "✅ Now following: {label}"},
    "watch_exists": {"ar": "أنت تتابع {label} بالفعل", "en": "You already follow {label}"},
    "unwatch_done": {"ar": "❎ أُلغيت متابعة: {label}", "en": "❎ Stopped following: {label}"},
    "unwatch_missing": {"ar": "أنت لا تتابع {label}", "en": "You do not follow {label}"},
    "unknown_item": {"ar": "لم أتعرّف على «{text}». جرّب /watch واختر من القائمة.",
                     "en": "I do not know “{text}”. Try /watch and pick from the list."},
    "nothing_watched": {"ar": "لا تتابع شيئاً بعد. استخدم /watch",
                        "en": "You follow nothing yet. Use /watch"},
    "list_mode": {"ar": "الوضع: {mode}", "en": "Mode: {mode}"},
    "muted_until": {"ar": "\nمكتوم حتى {until}", "en": "\nMuted until {until}"},
    "mode_set": {"ar": "تم ضبط الوضع: {mode}", "en": "Mode set: {mode}"},
    "mode_usage": {"ar": "الاستخدام: /mode instant أو daily أو weekly",
                   "en": "Usage: /mode instant, daily or weekly"},
    "mode_instant": {"ar": "تنبيه فوري", "en": "instant alerts"},
    "mode_daily": {"ar": "ملخص يومي", "en": "daily digest"},
    "mode_weekly": {"ar": "ملخص أسبوعي", "en": "weekly digest"},
    "mute_set": {"ar": "🔕 التنبيهات متوقفة حتى {until}", "en": "🔕 Alerts paused until {until}"},
    "mute_off": {"ar": "🔔 عادت التنبيهات", "en": "🔔 Alerts resumed"},
    "mute_usage": {"ar": "الاستخدام: /mute 2h أو /mute 1d أو /mute off",
                   "en": "Usage: /mute 2h, /mute 1d or /mute off"},
    "lang_set": {"ar": "اللغة: العربية", "en": "Language: English"},
    "lang_usage": {"ar": "الاستخدام: /lang ar أو /lang en", "en": "Usage: /lang ar or /lang en"},
    "timeline_header": {"ar": "<b>آخر الأحداث{about}</b>", "en": "<b>Latest events{about}</b>"},
    "timeline_about": {"ar": " — {label}", "en": " — {label}"},
    "timeline_empty": {"ar": "لا أحداث بعد.", "en": "No events yet."},
    "stopped": {"ar": "تم إلغاء اشتراكك وحذف بياناتك. للعودة: /start",
                "en": "You are unsubscribed and your data is deleted. To come back: /start"},
    "evidence_button": {"ar": "🔎 الدليل", "en": "🔎 Evidence"},
    "evidence_title": {"ar": "<b>الدليل</b>", "en": "<b>Evidence</b>"},
    "evidence_gone": {"ar": "لم يعد هذا الحدث موجوداً.", "en": "This event is gone."},
    "not_admin": {"ar": "هذا الأمر للمشرفين فقط.", "en": "This command is for operators only."},
    "broadcast_usage": {"ar": "الاستخدام: /broadcast نص الرسالة",
                        "en": "Usage: /broadcast message text"},
    "broadcast_done": {"ar": "وُضعت الرسالة في طابور الإرسال إلى {n} مشتركاً.",
                       "en": "Queued for {n} subscribers."},
    "digest_daily": {"ar": "<b>ملخص اليوم</b>", "en": "<b>Daily digest</b>"},
    "digest_weekly": {"ar": "<b>ملخص الأسبوع</b>", "en": "<b>Weekly digest</b>"},
    "digest_empty": {"ar": "لا أحداث جديدة فيما تتابعه.",
                     "en": "Nothing new in what you follow."},
    "digest_outlets": {"ar": "({n} مصادر)", "en": "({n} outlets)"},
    "any_event": {"ar": "أي حدث", "en": "any event"},
    "any_entity": {"ar": "أي جهة", "en": "any company"},
    "rule_line": {"ar": "{entity} — {event}", "en": "{entity} — {event}"},
    "rules_header": {"ar": "<b>قواعد المتابعة</b> (يكفي أن تتحقق واحدة منها):",
                     "en": "<b>Your watch rules</b> (any one of them is enough):"},
    "pick_pairs": {"ar": "جهة مع نوع حدث", "en": "A company with an event type"},
    "pick_pair_entity": {"ar": "اختر الجهة:", "en": "Pick the company:"},
    "pick_pair_event": {"ar": "{entity} — اختر نوع الحدث:",
                        "en": "{entity} — pick the event type:"},
    "back": {"ar": "↩ رجوع", "en": "↩ Back"},
    "done": {"ar": "✔ تم", "en": "✔ Done"},
    "mode_pick": {"ar": "كيف تريد أن تصلك التنبيهات؟", "en": "How do you want alerts?"},
    "lang_pick": {"ar": "اختر لغة الواجهة:", "en": "Pick the interface language:"},
    "mute_pick": {"ar": "إيقاف التنبيهات مؤقتاً لمدة:", "en": "Pause alerts for:"},
    "mute_too_long": {"ar": "أطول مدة للإيقاف المؤقت {days} يوماً. مثال: /mute 30d",
                      "en": "Alerts can be paused for at most {days} days. Example: /mute 30d"},
    "unknown_command": {"ar": "لا أعرف الأمر {command}. الأوامر المتاحة: /help",
                        "en": "I do not know the command {command}. The commands: /help"},
    "plain_text": {"ar": "أفهم الأوامر فقط. ابدأ بـ /watch لاختيار ما تتابعه، أو /help.",
                   "en": "I understand commands only. Try /watch to pick what to follow, "
                         "or /help."},
    "stop_confirm": {"ar": "سيُلغى اشتراكك وتُحذف قواعد متابعتك وكل ما ينتظر الإرسال إليك. "
                           "هل أنت متأكد؟",
                     "en": "This unsubscribes you and deletes your watch rules and every "
                           "message waiting for you. Are you sure?"},
    "stop_yes": {"ar": "نعم، احذف بياناتي", "en": "Yes, delete my data"},
    "stop_no": {"ar": "لا، تراجع", "en": "No, keep them"},
    "stop_kept": {"ar": "لم يتغيّر شيء، ما زلت مشتركاً.",
                  "en": "Nothing changed; you are still subscribed."},
    "quiet_usage": {"ar": "الاستخدام: /quiet on (تنبيهات الشائعات والخطط بلا صوت) أو /quiet off",
                    "en": "Usage: /quiet on (rumoured and planned alerts without a sound) or "
                          "/quiet off"},
    "quiet_on": {"ar": "🔕 تنبيهات الشائعات والخطط تصل الآن بلا صوت.",
                 "en": "🔕 Rumoured and planned alerts now arrive without a sound."},
    "quiet_off": {"ar": "🔔 كل التنبيهات تصل بصوت.", "en": "🔔 Every alert arrives with a sound."},
    "quiet_state_on": {"ar": "\nالشائعات والخطط: بلا صوت", "en": "\nRumoured and planned: silent"},
    "deep_link_added": {"ar": "✅ تتم الآن متابعة: {label}", "en": "✅ Now following: {label}"},
    "matched_rule": {"ar": "طابق قاعدتك: {rule}", "en": "Matched your rule: {rule}"},
    "timeline_outlets": {"ar": "({n} مصادر)", "en": "({n} outlets)"},
    "fb_ok": {"ar": "👍", "en": "👍"},
    "fb_no": {"ar": "👎 ليس حدثًا", "en": "👎 Not an event"},
    "fb_type": {"ar": "نوع آخر…", "en": "Another type…"},
    "fb_thanks": {"ar": "شكراً، سُجّل تقييمك.", "en": "Thanks, your verdict is recorded."},
    "fb_pick_type": {"ar": "اختر النوع الصحيح", "en": "Pick the right type"},
    "fb_gone": {"ar": "لم يعد هذا الحدث موجوداً.", "en": "This event is gone."},
    "mute_1h": {"ar": "ساعة", "en": "1 hour"},
    "mute_8h": {"ar": "8 ساعات", "en": "8 hours"},
    "mute_1d": {"ar": "يوم", "en": "1 day"},
    "mute_1w": {"ar": "أسبوع", "en": "1 week"},
    "mute_cancel": {"ar": "إلغاء الإيقاف", "en": "Resume now"},
}


def say(key: str, lang: str, **values: object) -> str:
    """The text ``key`` in ``lang`` (Arabic when ``lang`` is unknown), placeholders filled."""
    entry = _TEXTS[key]
    text = entry.get(lang, entry["ar"])
    return text.format(**values) if values else text


def join(items: list[str], lang: str) -> str:
    """A list in running text: the Arabic comma in Arabic, ", " in English."""
    return ("، " if lang == "ar" else ", ").join(items)


def pick_lang(code: str | None) -> str:
    """Interface language from a Telegram ``language_code``: English for ``en*``, else Arabic."""
    return "en" if code and code.lower().startswith("en") else "ar"
