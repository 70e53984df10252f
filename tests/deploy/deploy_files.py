"""Helpers for the deploy/ file tests: where the files are, and finding the tools."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def tool(name: str, install: str) -> str:
    """The path of a command-line tool (PATH or this venv's bin), or a skip saying how to get it."""
    found = shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))
    if found is None:
        pytest.skip(f"{name} is not installed here ({install})")
    return found


def unit_directives(text: str) -> dict[str, list[str]]:
    """``Section.Key`` → every value, in order (unit files repeat keys, so no configparser)."""
    out: dict[str, list[str]] = {}
    section = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            continue
        key, _, value = line.partition("=")
        out.setdefault(f"{section}.{key.strip()}", []).append(value.strip())
    return out
