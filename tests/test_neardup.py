"""Near-duplicate detection: rewrites of one story find each other, other stories do not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tracker.neardup import NearDuplicates

T0 = datetime(2025, 8, 29, tzinfo=UTC)


def test_a_rewrite_of_a_story_is_found_and_an_unrelated_story_is_not() -> None:
    """Two outlets' versions of one story match; a different story does not."""
    index = NearDuplicates()
    index.add(1, "واشنطن تمنح إنفيديا تراخيص لتصدير رقائق H20 إلى الصين بعد توقف دام أشهر", T0)
    index.add(2, "مباراة كرة القدم بين الفريقين انتهت بالتعادل في الدوري المحلي", T0)
    found = index.similar("الإدارة الأمريكية تمنح انفيديا تراخيص تصدير رقائق H20 للصين")
    assert found == [1]


def test_items_leave_the_window() -> None:
    """After the rolling window, an item is no longer proposed."""
    index = NearDuplicates(window=timedelta(days=3))
    text = "هواوي تبدأ الإنتاج الضخم لرقائق أسيند 910C في مصانعها"
    index.add(1, text, T0)
    assert index.similar(text) == [1]
    index.expire(T0 + timedelta(days=4))
    assert index.similar(text) == [] and len(index) == 0


def test_a_query_costs_a_bounded_number_of_scores() -> None:
    """Thousands of near-identical items never make a query score more than the buckets hold."""
    index = NearDuplicates(bucket_size=8)
    for i in range(3000):
        index.add(i, f"تقرير عن رقائق الذكاء الاصطناعي في الصين رقم {i}", T0)
    found = index.similar("تقرير عن رقائق الذكاء الاصطناعي في الصين رقم 2999")
    assert 0 < len(found) <= 10 and 2999 in found
    assert all(len(b) <= 8 for band in index._buckets for b in band.values())
