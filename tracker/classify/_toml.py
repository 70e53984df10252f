"""Reading a TOML config file into a dict, with errors that name the file."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from tracker.errors import ConfigError


def read_toml(path: Path) -> dict[str, Any]:
    """Parse ``path``; a missing, unreadable or malformed file raises ConfigError."""
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(str(path), "", "file not found") from None
    except OSError as exc:
        raise ConfigError(str(path), "", f"cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), "", f"invalid TOML: {exc}") from None


def str_list(value: object, file: str, key: str) -> list[str]:
    """``value`` as a list of non-empty strings (absent means empty)."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ConfigError(file, key, "must be a list of non-empty strings")
    return list(value)


def text(value: object, file: str, key: str, default: str | None = None) -> str:
    """``value`` as a non-empty string, or ``default`` when absent (None means required)."""
    if value is None:
        if default is None:
            raise ConfigError(file, key, "is required")
        return default
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(file, key, "must be a non-empty string")
    return value
