"""Writes ``tests/data/perf/neardup.jsonl``: signatures, bandings and near-duplicate links as
the datasketch-based index computed them, so the numpy index can be checked against them.

Run once with the code whose decisions are the reference (it was run before datasketch left):
``.venv/bin/python -m tests.support.neardup_fixture``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.bench_poll import PARAGRAPHS, make_feed  # bench_poll's own (not shared) sentences

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "perf" / "neardup.jsonl"
T0 = datetime(2025, 8, 29, tzinfo=UTC)

# Our own sentences: rewrites of one story, unrelated news, edge cases of the match key.
OWN = [
    "",
    "a",
    "H20",
    "واشنطن تمنح إنفيديا تراخيص لتصدير رقائق H20 إلى الصين بعد توقف دام أشهر",
    "الإدارة الأمريكية تمنح انفيديا تراخيص تصدير رقائق H20 للصين",
    "مباراة كرة القدم بين الفريقين انتهت بالتعادل في الدوري المحلي",
    "هواوي تبدأ الإنتاج الضخم لرقائق أسيند 910C في مصانعها",
    "لـNvidia وإتش20 — ١٢٣ ٤٥٦ «اقتباس» ؟",
    "Huawei ships the Ascend 910C in May, sources say",
    "Huawei's 910C plan for 2026 as reported by two outlets",
]


def bench_texts(feeds: int = 8, items: int = 20) -> list[str]:
    """Title + summary of bench_poll's first items, as the pipeline hashes them."""
    import feedparser

    out = []
    for f in range(feeds):
        parsed = feedparser.parse(make_feed(f, items))
        out += [f"{e.title} {e.get('summary', '')}" for e in parsed.entries]
    return out


def main() -> None:
    from tracker.neardup import NearDuplicates

    texts = OWN + PARAGRAPHS + bench_texts()
    index = NearDuplicates()
    signatures = [[int(v) for v in index._signature(t)] for t in texts]
    links = []
    for i, text in enumerate(texts):
        links.append(index.match_and_add(i + 1, text, T0 + timedelta(minutes=i)))
    bandings = {}
    for threshold in (0.1, 0.15, 0.3, 0.5, 0.8):
        for num_perm in (16, 32, 64, 128):
            n = NearDuplicates(threshold=threshold, num_perm=num_perm)
            bandings[f"{threshold}/{num_perm}"] = [n.bands, n.rows]
    lines = [json.dumps({"bandings": bandings})]
    lines += [json.dumps({"text": t, "signature": s, "links": found}, ensure_ascii=False)
              for t, s, found in zip(texts, signatures, links, strict=True)]
    FIXTURE.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {FIXTURE}: {len(texts)} texts, {sum(map(len, links))} links")


if __name__ == "__main__":
    main()
