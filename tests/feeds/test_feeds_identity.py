"""Entry keys: stable across fetches, by GUID, canonical URL or content hash."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.support.feedserver import Item, rss
from tracker.feeds.identity import canonical_url, entry_key, is_random_guid
from tracker.feeds.parse import parse_feed

NOW = datetime(2025, 9, 1, tzinfo=UTC)
BASE = "https://News.Example/rss"


def _keys(items: list[Item]) -> list[str]:
    feed = parse_feed(rss(items), content_type=None, final_url=BASE, now=NOW)
    return [e.key for e in feed.entries]


def test_same_feed_twice_gives_same_keys() -> None:
    """Parsing the same body twice yields identical keys, whatever the identity rule."""
    items = [Item("أ", guid="post-1"), Item("ب", link="/b"), Item("ج", description="نص")]
    assert _keys(items) == _keys(items)
    assert [k.split(":")[0] for k in _keys(items)] == ["guid", "url", "hash"]


def test_guidless_items_are_keyed_by_canonical_url() -> None:
    """Without a GUID the key is the canonical link, tracking parameters and fragment dropped."""
    keys = _keys([
        Item("أ", link="HTTPS://News.Example:443/a/1?id=7&utm_source=tw&utm_medium=x#top"),
        Item("ب", link="https://news.example/a/2?fbclid=abc&id=7&gclid=z"),
    ])  # fmt: skip
    assert keys == ["url:https://news.example/a/1?id=7", "url:https://news.example/a/2?id=7"]


def test_canonical_url_encodes_arabic_paths_once() -> None:
    """An Arabic path and its percent-encoded form have the same canonical URL."""
    raw = "https://news.example/أخبار/إنفيديا"
    encoded = "https://news.example/%d8%a3%d8%ae%d8%a8%d8%a7%d8%b1/%D8%A5%D9%86%D9%81%D9%8A%D8%AF%D9%8A%D8%A7"
    assert canonical_url(raw) == canonical_url(encoded)


def test_linkless_guidless_items_are_keyed_by_hash() -> None:
    """Without GUID and link the key hashes the match keys of title and summary."""
    first = _keys([Item("إنفيديا تستأنف", description="<b>نص</b>")])[0]
    same_text = _keys([Item("انفيديا  تستأنف", description="نص")])[0]  # same match key
    other = _keys([Item("إنفيديا تتوقف", description="نص")])[0]
    assert first.startswith("hash:") and first == same_text and first != other


def test_guid_equal_to_link_is_a_url_key() -> None:
    """A GUID that is the item's link is keyed as the canonical URL."""
    link = "https://news.example/a/1?utm_campaign=x"
    assert _keys([Item("أ", link=link, guid=link)]) == ["url:https://news.example/a/1"]


def test_stable_guid_wins_over_link() -> None:
    """A GUID that looks stable keys the item even when a link exists."""
    assert _keys([Item("أ", link="/a/1", guid="post-12345")]) == ["guid:post-12345"]


def test_random_looking_guid_loses_to_link() -> None:
    """A UUID-like GUID (regenerated on every fetch by some CMSs) gives way to the link."""
    guid = "3f2b8c1e-9d4a-4b7e-8f21-0c6d5e4a3b2c"
    assert _keys([Item("أ", link="/a/1", guid=guid, guid_is_permalink=False)]) == [
        "url:https://news.example/a/1"
    ]


def test_shared_link_is_not_an_identity() -> None:
    """Items that all link to one page keep their GUIDs (even random ones) or fall to hashes."""
    keys = _keys([
        Item("أ", link="/", guid="3f2b8c1e9d4a4b7e8f210c6d5e4a3b2c"),
        Item("ب", link="/"),
    ])  # fmt: skip
    assert keys[0] == "guid:3f2b8c1e9d4a4b7e8f210c6d5e4a3b2c"
    assert keys[1].startswith("hash:")


def test_random_guid_detection() -> None:
    """UUIDs and long hex digests look random; slugs, numbers and URLs do not."""
    assert is_random_guid("3F2B8C1E-9D4A-4B7E-8F21-0C6D5E4A3B2C")
    assert is_random_guid("{3f2b8c1e-9d4a-4b7e-8f21-0c6d5e4a3b2c}")
    assert is_random_guid("d41d8cd98f00b204e9800998ecf8427e")
    assert not is_random_guid("post-12345")
    assert not is_random_guid("https://news.example/?p=123")
    assert not is_random_guid("1234567")


def test_entry_key_without_anything_hashes_empty_text() -> None:
    """An entry with nothing at all still gets a deterministic hash key."""
    assert entry_key(None, None, "", "", link_is_shared=False) == entry_key(
        "  ", None, "", "", link_is_shared=False
    )
