"""Near-duplicate detection: rewrites of one story find each other, other stories do not."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

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
    assert all(len(b) <= 8 for b in index.buckets())


REFERENCE = Path(__file__).resolve().parent / "data" / "perf" / "neardup.jsonl"


def _reference() -> tuple[dict[str, list[int]], list[dict[str, Any]]]:
    head, *rows = REFERENCE.read_text(encoding="utf-8").splitlines()
    return json.loads(head)["bandings"], [json.loads(r) for r in rows]


def test_signatures_equal_the_ones_datasketch_computed() -> None:
    """Every text's 64 MinHash values equal those recorded from the datasketch-based index."""
    _, rows = _reference()
    index = NearDuplicates()
    for row in rows:
        assert [int(v) for v in index._signature(row["text"])] == row["signature"], row["text"]


def test_near_duplicate_links_equal_the_recorded_ones() -> None:
    """Adding the reference texts in order proposes exactly the recorded matches, in order."""
    _, rows = _reference()
    index = NearDuplicates()
    found = [index.match_and_add(i + 1, row["text"], T0 + timedelta(minutes=i))
             for i, row in enumerate(rows)]
    assert found == [row["links"] for row in rows]
    assert sum(map(len, found)) > 1000  # the reference exercises the index, not just misses


def test_banding_equals_datasketchs_optimiser() -> None:
    """Bands and rows for each threshold and permutation count are the ones datasketch chose."""
    bandings, _ = _reference()
    for key, (bands, rows) in bandings.items():
        threshold, num_perm = key.split("/")
        index = NearDuplicates(threshold=float(threshold), num_perm=int(num_perm))
        assert (index.bands, index.rows) == (bands, rows), key


def test_hashing_many_texts_together_gives_each_texts_own_signature() -> None:
    """Signatures computed in one pass over many texts equal those computed one by one."""
    _, rows = _reference()
    index = NearDuplicates()
    texts = [row["text"] for row in rows]
    together = index._signatures(texts, chunk=2000)
    assert [s.tolist() for s in together] == [row["signature"] for row in rows]
    index.add_many((i + 1, t, T0) for i, t in enumerate(texts))
    assert len(index) == len(texts) and index.last_id == len(texts)
    assert index.similar(texts[4]) == [5, 4]


def test_shingle_hashes_computed_together_are_zlibs_crc32_of_each_shingle() -> None:
    """The batched CRC-32 (numpy, all shingles of many texts at once) equals zlib.crc32 of
    every shingle's UTF-8 bytes, for texts of 1- to 4-byte characters, short texts (fewer
    characters than a shingle), empty texts and batches that split a run of texts."""
    import random
    import zlib

    from tracker import neardup

    rng = random.Random(7)
    alphabet = "ab z9إنفيديا هواوي رقائق ١٢٣ é漢字😀\u0640"
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 700)))
             for _ in range(300)] + ["", "a", "ab", "abc", "😀", "إن"]
    for batch in (1, 7, 32):
        together = list(neardup._hashes_in_batches(texts, batch))
        assert len(together) == len(texts)
        for text, hashes in zip(texts, together, strict=True):
            expected = [zlib.crc32(s) for s in neardup.shingle_list(text)]
            assert hashes.tolist() == expected
