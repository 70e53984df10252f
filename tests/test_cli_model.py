"""The classifier's commands as an analyst runs them: label, train --with-feedback, eval."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from tests.support.configs import write_config
from tests.support.feedserver import FeedServer, Item, rss
from tests.test_cli import REPO, _tracker

CASES = REPO / "tests" / "data" / "cases"
TITLE = "إنفيديا تحصل على موافقة لبيع رقائق H20 في الصين"
TEXT = "قالت الشركة إنها تلقت موافقة من وزارة التجارة الأمريكية على استئناف شحنات الرقائق."


def _types(cfg: Path) -> list[str]:
    line = json.dumps({"id": "x", "title": TITLE, "text": TEXT}, ensure_ascii=False) + "\n"
    proc = _tracker("classify", "--jsonl", "--config", str(cfg), cwd=cfg.parent, stdin=line)
    assert proc.returncode == 0, proc.stderr
    return [ev["type"] for ev in json.loads(proc.stdout)["events"]]


@pytest.mark.timeout(300)  # it trains two models from our cases
def test_a_label_changes_the_decision_after_training_with_feedback(tmp_path: Path) -> None:
    """An item the model calls a permit, labelled "no event" by an analyst, is no event for a
    model trained with the feedback, and still a permit for one trained without it."""
    now = datetime.now(UTC) - timedelta(hours=1)
    item = Item(title=TITLE, link="/n/1", guid="n1", description=TEXT,
                pub_date=format_datetime(now, usegmt=True))
    with FeedServer() as srv:
        srv.add("/f.xml", rss([item]), content_type="application/rss+xml")
        cfg = write_config(tmp_path, {"outlet": srv.url("/f.xml")}, model="plain.bin")
        trained = _tracker("train", str(CASES), "--cv", "0", "-o", str(tmp_path / "plain.bin"),
                           "--config", str(cfg), cwd=tmp_path)
        assert trained.returncode == 0, trained.stderr
        assert "export_permit" in _types(cfg)
        polled = _tracker("poll", "--once", "--config", str(cfg), cwd=tmp_path)
        assert polled.returncode == 0, polled.stderr

    bad = _tracker("label", "1", "--types", "export_permt", "--config", str(cfg), cwd=tmp_path)
    assert bad.returncode == 2 and "export_permit" in bad.stderr  # names the valid types
    missing = _tracker("label", "99", "--none", "--config", str(cfg), cwd=tmp_path)
    assert missing.returncode == 1 and "no stored item" in missing.stderr
    labelled = _tracker("label", srv.url("/n/1"), "--none", "--config", str(cfg), cwd=tmp_path)
    assert labelled.returncode == 0, labelled.stderr
    assert "no event" in labelled.stdout

    scored = _tracker("eval", "--feedback", "--config", str(cfg), cwd=tmp_path)
    assert scored.returncode == 0, scored.stderr
    assert "2 corrections" in scored.stdout and "export_permit" in scored.stdout

    retrained = _tracker("train", str(CASES), "--with-feedback", "--cv", "0",
                         "-o", str(tmp_path / "fed.bin"), "--config", str(cfg), cwd=tmp_path)
    assert retrained.returncode == 0, retrained.stderr
    fed = write_config(tmp_path, {"outlet": "http://127.0.0.1:9/unused.xml"}, model="fed.bin")
    assert "export_permit" not in _types(fed)


def test_eval_cv_prints_the_model_beside_the_rules(tmp_path: Path) -> None:
    """`tracker eval FILE --cv 3` trains per fold and prints both columns; a bad K is refused."""
    cfg = REPO / "config" / "tracker.toml"
    proc = _tracker("eval", str(CASES / "export_permit.jsonl"), str(CASES / "none.jsonl"),
                    "--cv", "3", "--config", str(cfg), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "grouped 3-fold" in proc.stdout and "rules P" in proc.stdout
    assert "fold 3/3" in proc.stdout
    bad = _tracker("eval", str(CASES / "none.jsonl"), "--cv", "1", "--config", str(cfg),
                   cwd=tmp_path)
    assert bad.returncode == 2 and "--cv" in bad.stderr
