"""What every command shares: the --config option, loading, the clock, checked values and
output files. Each problem is a one-line error: usage and config problems exit 2, a command
that cannot do its work exits 1 (see :func:`tracker.cli.main`)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from tracker.config import Config, load_config, resolve_path
from tracker.errors import TrackerError

STATUSES = ("reported", "confirmed", "denied", "planned", "rumoured")
LANGS = ("ar", "en")

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="config file (default: $TRACKER_CONFIG or "
                 "config/tracker.toml)", show_default=False),
]

HELP_OPTIONS = {"help_option_names": ["-h", "--help"]}  # -h as well as --help



class OutputError(TrackerError):
    """An output file cannot be written (exit 2: the path given is wrong)."""


def err() -> Console:
    return Console(stderr=True, soft_wrap=True)  # a one-line message stays one line


def load(path: Path | None) -> Config:
    return load_config(resolve_path(path, os.environ))


def utc_now() -> datetime:
    return datetime.now(UTC)


def one_of(value: str, choices: Iterable[str], option: str, what: str) -> str:
    """``value`` if it is one of ``choices``; else a usage error listing them."""
    known = tuple(choices)
    if value not in known:
        raise typer.BadParameter(f"unknown {what} {value!r}; choose from {', '.join(known)}",
                                 param_hint=option)
    return value


def write_output(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path``; a missing folder or an unwritable path is one line."""
    if not path.parent.is_dir():
        raise OutputError(f"cannot write {path}: the folder {path.parent} does not exist")
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from exc
