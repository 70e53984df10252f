"""split_html: long Telegram HTML into parts that each parse and fit (property-tested)."""

from __future__ import annotations

import random

import pytest

from tests.support.botapi import HtmlRejected, parse_html
from tracker.telegram.split import split_html, utf16_len

WORDS = ["إنفيديا", "Nvidia", "H20", "&amp;", "&lt;b&gt;", "شريحة", "😀", "x" * 40, "&quot;"]


def _random_html(rnd: random.Random) -> str:
    paragraphs = []
    for _ in range(rnd.randint(1, 30)):
        words = []
        for _ in range(rnd.randint(1, 50)):
            w = rnd.choice(WORDS)
            r = rnd.random()
            if r < 0.1:
                w = f"<b>{w}</b>"
            elif r < 0.15:
                w = f'<a href="https://x.example/?a=1&amp;b=2">{w} {w}</a>'
            elif r < 0.18:
                w = f"<i>{w} <code>{w}</code></i>"
            words.append(w)
        paragraphs.append(" ".join(words))
    return rnd.choice(["\n\n", "\n", " "]).join(paragraphs)


@pytest.mark.parametrize("seed", range(12))
def test_parts_fit_parse_and_keep_the_visible_text(seed: int) -> None:
    """Every part fits the limit and parses, and the parts' texts join to the original's."""
    rnd = random.Random(seed)
    for _ in range(25):
        text = _random_html(rnd)
        limit = rnd.choice([80, 200, 700, 4096])
        parts = split_html(text, limit)
        for part in parts:
            assert utf16_len(part) <= limit
            parse_html(part)
        assert "".join(parse_html(p) for p in parts) == parse_html(text)


@pytest.mark.parametrize("seed", range(4))
def test_links_are_never_cut(seed: int) -> None:
    """A link shorter than a part stays whole: each part has as many <a> as </a>, and the
    number of links is unchanged."""
    rnd = random.Random(100 + seed)
    for _ in range(25):
        text = _random_html(rnd)
        parts = split_html(text, 300)
        assert sum(p.count("<a ") for p in parts) == text.count("<a ")
        assert all(p.count("<a ") == p.count("</a>") for p in parts)


def test_short_text_is_one_part_unchanged() -> None:
    """A text within the limit comes back as is."""
    assert split_html("<b>x</b> &amp; y", 4096) == ["<b>x</b> &amp; y"]


def test_paragraph_breaks_are_preferred() -> None:
    """With a paragraph break inside the limit, the part ends there, not at a space."""
    text = "أ" * 50 + "\n\n" + "ب " * 40
    parts = split_html(text, 100)
    assert parts[0] == "أ" * 50 + "\n\n"


def test_open_tags_are_closed_and_reopened() -> None:
    """Bold text cut across parts is closed at the end of one and reopened in the next."""
    text = "<b>" + "كلمة " * 60 + "</b>"
    parts = split_html(text, 120)
    assert len(parts) > 2
    assert all(p.startswith("<b>") and p.endswith("</b>") for p in parts)


def test_counts_utf16_units_like_telegram() -> None:
    """Emoji count twice, as Telegram counts them."""
    parts = split_html("😀" * 100, 50)
    assert all(utf16_len(p) <= 50 for p in parts) and len(parts) == 4


def test_stand_in_rejects_what_telegram_rejects() -> None:
    """The stand-in's HTML check refuses unknown tags, bad nesting, bare & and unknown
    entities, and accepts Telegram's own tags."""
    for bad in ("<script>x</script>", "<b><i>x</b></i>", "a & b", "&nbsp;", "<b>x",
                "<a>x</a>", '<span class="x">y</span>', "1 > 0"):
        with pytest.raises(HtmlRejected):
            parse_html(bad)
    good = ('<b>a</b><strong>b</strong><i>c</i><u>d</u><s>e</s><tg-spoiler>f</tg-spoiler>'
            '<span class="tg-spoiler">g</span><a href="https://x.example/?a=1&amp;b=2">h</a>'
            '<code>i</code><pre><code class="language-python">j</code></pre>'
            "<blockquote>k</blockquote> &lt;&gt;&amp;&quot;&#1604;")
    assert parse_html(good) == 'abcdefghijk <>&"ل'
