"""Surface forms: the spellings of one lexicon entry that the automaton should recognise.

We never stem. Each entry is expanded, in this order: the written form (already in match-key
form); enclitics for common nouns and verbs (with ة→ت before a suffix, tanwin alef for nouns);
then proclitics (conjunctions, prepositions, the article, and the future prefix for
present-tense verbs). Multi-word entries take proclitics on their first word only. Every form
is returned as a match key, so matching never sees diacritics, hamza seats or alef variants.
"""

from __future__ import annotations

from typing import Literal

from tracker.text.normalize import match_key

WordClass = Literal["noun", "verb", "name", "phrase", "exact"]
WORD_CLASSES: tuple[str, ...] = ("noun", "verb", "name", "phrase", "exact")

_NOUN_PROCLITICS = ("", "و", "ف", "ب", "ل", "ك", "ال", "وال", "فال", "بال", "كال", "لل", "ولل",
                    "فلل", "وب", "فب", "ول", "فل", "وك", "وبال", "وكال")
_NAME_PROCLITICS = ("", "و", "ف", "ب", "ل", "ك", "وب", "ول", "فب", "فل", "وك")
PREPOSITIONAL = ("ب", "ل", "ك", "وب", "ول", "فب", "فل", "وك")
_VERB_PROCLITICS = ("", "و", "ف", "ل", "ول", "فل")
_FUTURE = ("س", "وس", "فس")
_NOUN_ENCLITICS = ("ها", "ه", "هم", "هما", "هن", "نا", "كم", "ي")
_VERB_ENCLITICS = ("ها", "ه", "هم", "هما", "نا")
_PRESENT_PREFIXES = ("ي", "ت", "ن")


def _with_enclitics(word: str, enclitics: tuple[str, ...], tanwin: bool) -> list[str]:
    """The word alone, with each enclitic (ة→ت before it) and, for nouns, tanwin alef."""
    stem = word[:-1] + "ت" if word.endswith("ه") else word
    forms = [word]
    forms.extend(stem + suffix for suffix in enclitics)
    if tanwin and not word.endswith(("ه", "ا", "ي", "ء")):
        forms.append(word + "ا")
    return forms


def attach(word: str, proclitics: tuple[str, ...]) -> list[str]:
    """Attach each proclitic, merging the article with a word that already carries one."""
    has_article = word.startswith("ال")
    out: list[str] = []
    for p in proclitics:
        if p.endswith("لل"):
            # ل + ال merge into لل: للكيانات, لليزر
            bare = word[2:] if has_article else word
            out.append(p + bare[1:] if bare.startswith("ل") else p + bare)
        elif "ال" in p and has_article:
            continue
        elif p.endswith("ل") and has_article:
            out.append(p + word[1:])  # ل + الصين → للصين
        else:
            out.append(p + word)
    return out


def expand(form: str, word_class: str) -> tuple[list[str], list[str]]:
    """All match-key spellings of ``form``: (plain forms, future-tense forms)."""
    key = match_key(form)
    if not key:
        return [], []
    words = key.split(" ")
    if word_class == "exact" or not any("\u0600" <= ch <= "\u06ff" for ch in words[0]):
        return [key], []
    head, tail = words[0], words[1:]
    future: list[str] = []
    if word_class == "noun":
        with_suffix = _with_enclitics(head, _NOUN_ENCLITICS, not tail)
        heads = attach(head, _NOUN_PROCLITICS)
        if not head.startswith("ال"):  # a suffixed noun takes no article
            heads += [h for w in with_suffix[1:] for h in attach(w, _NAME_PROCLITICS)]
    elif word_class == "verb":
        bases = _with_enclitics(head, _VERB_ENCLITICS, False) if not tail else [head]
        heads = [h for w in bases for h in attach(w, _VERB_PROCLITICS)]
        if head.startswith(_PRESENT_PREFIXES):
            future = [p + w for w in bases for p in _FUTURE]
    elif word_class == "name":
        heads = attach(head, _NAME_PROCLITICS)
    else:  # phrase: proclitics on the first word
        heads = attach(head, _NOUN_PROCLITICS)
    suffix = (" " + " ".join(tail)) if tail else ""
    plain = list(dict.fromkeys(h + suffix for h in heads))
    fut = list(dict.fromkeys(f + suffix for f in future))
    return plain, fut
