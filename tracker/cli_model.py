"""The commands about the classifier's judgement: ``train``, ``eval`` and ``label``.

``tracker train FILES… [--extra FILES…] [--with-feedback] [-o FILE]`` learns the type model
from labelled JSON lines (a folder means every ``*.jsonl`` in it), prints grouped
cross-validation beside the rule engine and a learning curve, and writes the artefact
(default: the one shipped in the package). ``FILES`` are real pages, scored in
cross-validation by page; ``--extra`` files (our own sentences) and the analysts' corrections
are training data only, never scored, so the figures stay about unseen real text.

``tracker eval FILE`` scores the configured classifier on a labelled file; ``--cv K`` scores
a model trained fold by fold on the file's other pages instead; ``--feedback`` scores it on
the corrections stored in the database. ``tracker label ITEM --types a,b | --none`` stores a
correction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from tracker.cli import app
from tracker.cli_common import ConfigOption
from tracker.cli_common import load as _config
from tracker.errors import ConfigError

FilesArg = Annotated[list[Path], typer.Argument(
    help="labelled JSON lines (shared/data/README schema); a folder: its *.jsonl files")]


def _expand(paths: Sequence[Path]) -> list[Path]:
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            found = sorted(p.glob("*.jsonl"))
            if not found:
                raise ConfigError(str(p), "folder", "holds no *.jsonl file")
            out += found
        elif not p.is_file():
            raise ConfigError(str(p), "file", "no such file")
        else:
            out.append(p)
    return out


def _feedback_records(cfg: Any) -> list[Any]:
    from tracker.classify.train import feedback_records
    from tracker.readside import open_store

    store = open_store(cfg)
    try:
        views = store.labels()
    finally:
        store.engine.dispose()
    newest: dict[tuple[int, str | None], Any] = {}
    for v in views:  # oldest first: a later correction of the same text wins
        newest[v.item_id, v.sentence] = v
    return [r for v in newest.values()
            for r in feedback_records(v.item_id, v.sentence, v.title, v.text, v.types,
                                      v.published.isoformat() if v.published else None)]


@app.command()
def train(
    files: FilesArg,
    extra: Annotated[list[Path] | None, typer.Option(
        "--extra", help="training-only files or folders (our own sentences), never scored")
    ] = None,
    with_feedback: Annotated[bool, typer.Option(
        "--with-feedback", help="add the analysts' corrections stored in the database")] = False,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="artefact to write (default: the one shipped in the package)")
    ] = None,
    seed: Annotated[int, typer.Option(help="seed of the folds and the solver")] = 0,
    cv: Annotated[int, typer.Option(help="folds of the grouped cross-validation (0: none)")
                  ] = 5,
    curve: Annotated[bool, typer.Option(help="print the learning curve (25/50/75/100 %)")
                     ] = True,
    config: ConfigOption = None,
) -> None:
    """Learn the type model from labelled files and write the artefact."""
    from tracker.app import load_classifier
    from tracker.classify.learned import shipped_path
    from tracker.classify.train import (
        cross_validate,
        fit,
        learning_curve,
        read_records,
        render_curve,
        render_cv,
    )

    cfg = _config(config)
    engine = load_classifier(cfg, with_model=False)
    scored = read_records(_expand(files))
    extras = read_records(_expand(extra or []))
    if with_feedback:
        extras += _feedback_records(cfg)
    out = Console(highlight=False)
    out.print(f"{len(scored)} scored records ({len({r.group for r in scored})} pages), "
              f"{len(extras)} training-only records")
    if cv:
        out.print(render_cv(cross_validate(engine, scored, cv, seed, extras)))
        if curve:
            out.print(render_curve(learning_curve(engine, scored, cv, seed, extras)))
    model = fit(engine, [*scored, *extras], seed,
                meta={"files": [p.name for p in _expand(files)],
                      "extra_records": len(extras), "feedback": with_feedback})
    target = output or shipped_path()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(model.to_bytes())
    except OSError as exc:
        raise ConfigError(str(target), "--output", f"cannot write: {exc}") from exc
    out.print(f"wrote {target} ({target.stat().st_size / 1e6:.1f} MB, "
              f"{len(model.types)} types, seed {seed})")


@app.command("eval")
def evaluate_cmd(
    files: Annotated[list[Path] | None, typer.Argument(
        help="labelled JSON lines (see shared/data/README)")] = None,
    cv: Annotated[int, typer.Option(
        "--cv", help="grouped K-fold by page: train on the other pages, score each fold")] = 0,
    extra: Annotated[list[Path] | None, typer.Option(
        "--extra", help="with --cv: training-only files added to every fold")] = None,
    feedback: Annotated[bool, typer.Option(
        "--feedback", help="score on the analysts' corrections in the database")] = False,
    seed: Annotated[int, typer.Option(help="seed of the folds")] = 0,
    config: ConfigOption = None,
) -> None:
    """Score the classifier on labelled files: per-type precision, recall, F1, every error."""
    from tracker.app import load_classifier
    from tracker.classify.evaluate import evaluate, render_evaluation
    from tracker.classify.train import cross_validate, read_records, render_cv

    cfg = _config(config)
    engine = load_classifier(cfg)
    out = Console(highlight=False)
    if not files and not feedback:
        raise typer.BadParameter("give a labelled file, or --feedback")
    if feedback:
        records = _feedback_records(cfg)
        if not records:
            out.print("no corrections stored yet (tracker label, or the buttons under alerts)")
        else:
            out.print(f"{len(records)} corrections")
            out.print(render_evaluation(evaluate(engine, [r.as_dict() for r in records])),
                      markup=False)
    if not files:
        return
    records = read_records(_expand(files))
    if cv:
        extras = read_records(_expand(extra or []))
        out.print(render_cv(cross_validate(engine.with_model(None), records, cv, seed, extras,
                                           progress=out.print)))
        return
    out.print(render_evaluation(evaluate(engine, [r.as_dict() for r in records])),
              markup=False)


@app.command()
def label(
    item: Annotated[str, typer.Argument(help="a stored item: its id or its link")],
    types: Annotated[str | None, typer.Option(
        "--types", help="the event types it carries, comma-separated")] = None,
    none: Annotated[bool, typer.Option("--none", help="it carries no event")] = False,
    config: ConfigOption = None,
) -> None:
    """Record an analyst's correction of an item (training data for --with-feedback)."""
    from tracker.readside import load_labels, open_store
    from tracker.store.labels import find_item

    if none == (types is not None):
        raise typer.BadParameter("give exactly one of --types t1,t2 or --none")
    cfg = _config(config)
    known = load_labels(cfg).event_types()
    chosen = [] if none else [t.strip() for t in (types or "").split(",") if t.strip()]
    unknown = [t for t in chosen if t not in known]
    if unknown or (not none and not chosen):
        raise typer.BadParameter(f"unknown event type(s) {', '.join(unknown) or '(none given)'}"
                                 f"; valid: {', '.join(known)}", param_hint="--types")
    store = open_store(cfg)
    try:
        item_id = find_item(store, item)
        label_id = store.record_item_label(item_id, chosen, source="cli", chat_id=None,
                                           now=datetime.now(UTC))
    finally:
        store.engine.dispose()
    said = ", ".join(chosen) if chosen else "no event"
    Console(highlight=False).print(f"label {label_id}: item {item_id} carries {said}",
                                   markup=False)
