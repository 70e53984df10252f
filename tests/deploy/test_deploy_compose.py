"""deploy/compose.yaml: PostgreSQL 16 with a healthcheck and a volume, two tracker replicas
sharing it, and the config it mounts. Validated by dclint (the Compose JSON schema plus best
practices) and by shape; there is no Docker engine here to run `docker compose config`."""

from __future__ import annotations

import os
import re
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest

from tests.deploy.deploy_files import DEPLOY, tool
from tracker.config import SETTINGS, parse_config

yaml = pytest.importorskip("yaml", reason="PyYAML is needed to read compose.yaml "
                           "(pip install pyyaml)")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_top_level_shape(compose: dict[str, Any]) -> None:
    """The file has only known top-level keys, the two services and the named volume."""
    assert set(compose) <= {"name", "services", "volumes", "networks", "configs", "secrets"} | {
        k for k in compose if k.startswith("x-")}
    assert set(compose["services"]) == {"postgres", "tracker"}
    assert "pgdata" in compose["volumes"]


def test_postgres_16_with_healthcheck_and_volume(compose: dict[str, Any]) -> None:
    """PostgreSQL 16 keeps its data in a named volume and reports ready via pg_isready."""
    pg = compose["services"]["postgres"]
    assert re.match(r"postgres:16(\b|-)", pg["image"])
    assert "pgdata:/var/lib/postgresql/data" in pg["volumes"]
    test = pg["healthcheck"]["test"]
    assert test[0] in ("CMD", "CMD-SHELL") and "pg_isready" in " ".join(test)
    for key in ("interval", "timeout", "retries"):
        assert key in pg["healthcheck"]
    assert {"POSTGRES_USER", "POSTGRES_DB", "POSTGRES_PASSWORD"} <= set(pg["environment"])


def test_two_tracker_replicas_share_postgres(compose: dict[str, Any]) -> None:
    """Two tracker replicas get the PostgreSQL URL, wait for a healthy database and mount the
    config read-only."""
    tr = compose["services"]["tracker"]
    assert tr["deploy"]["replicas"] == 2
    url = tr["environment"]["TRACKER_DATABASE_URL"]
    assert url.startswith("postgresql+psycopg://") and "@postgres:5432/" in url
    assert tr["depends_on"]["postgres"]["condition"] == "service_healthy"
    mounts = [v.split(":") for v in tr["volumes"]]
    config = [m for m in mounts if m[1] == "/etc/tracker/tracker.toml"]
    assert config and config[0][2] == "ro" and (DEPLOY / config[0][0]).is_file()
    build = tr["build"]
    assert (DEPLOY / build["context"] / build["dockerfile"]).resolve() == DEPLOY / "Dockerfile"
    assert "ports" not in tr, "two replicas cannot publish the same host port"


def test_password_is_required_not_defaulted(compose: dict[str, Any]) -> None:
    """The database password comes from the environment and compose refuses to start without it."""
    pg = compose["services"]["postgres"]
    assert pg["environment"]["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD:?")


def test_mounted_config_is_a_valid_tracker_config(tmp_path: Path) -> None:
    """compose.tracker.toml loads with tracker's own validation (its [health] section is
    checked once tracker declares that section)."""
    raw = tomllib.loads((DEPLOY / "compose.tracker.toml").read_text(encoding="utf-8"))
    assert raw["health"]["host"] == "0.0.0.0"
    if "health" not in {s.section for s in SETTINGS}:
        raw.pop("health")
    config = parse_config(raw, tmp_path / "tracker.toml",
                          {"TRACKER_DATABASE_URL": "postgresql+psycopg://t@postgres/t"})
    assert config.feeds and config.database_url.startswith("postgresql")


def test_env_example_names_only_variables_tracker_or_compose_reads() -> None:
    """tracker.env.example documents the database URL, the bot token, the config path and the
    compose database password, and nothing else."""
    text = (DEPLOY / "tracker.env.example").read_text(encoding="utf-8")
    names = set(re.findall(r"^#?([A-Z][A-Z0-9_]+)=", text, flags=re.M))
    assert names == {"TRACKER_DATABASE_URL", "TRACKER_TELEGRAM_TOKEN", "TRACKER_CONFIG",
                     "POSTGRES_PASSWORD"}


def test_dclint_validates_against_the_compose_schema() -> None:
    """dclint (npm) finds no schema error and no warning in compose.yaml ($DCLINT may name
    the binary)."""
    exe = os.environ.get("DCLINT") or tool("dclint", "npm install -g dclint@3.1.0")
    done = subprocess.run([exe, "--max-warnings", "0", "--color", "false",
                           str(DEPLOY / "compose.yaml")],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
