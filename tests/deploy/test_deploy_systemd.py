"""deploy/tracker.service: hardened, Type=notify, and accepted by systemd-analyze."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.deploy.deploy_files import DEPLOY, tool, unit_directives

UNIT = DEPLOY / "tracker.service"
SHIPPED_EXEC = "/opt/tracker/.venv/bin/tracker run --config /etc/tracker/tracker.toml"
INSTALL = "apt-get install -y systemd"


def _local_copy(tmp_path: Path) -> Path:
    """The unit with ExecStart pointed at this interpreter (`python -m tracker run …`), since
    systemd-analyze verify insists that the program exists; everything else is unchanged."""
    text = UNIT.read_text(encoding="utf-8")
    assert f"ExecStart={SHIPPED_EXEC}\n" in text
    local = tmp_path / "tracker.service"
    local.write_text(text.replace(f"ExecStart={SHIPPED_EXEC}",
                                  f"ExecStart={sys.executable} -m tracker run "
                                  "--config /etc/tracker/tracker.toml"), encoding="utf-8")
    return local


def test_unit_declares_the_service_contract() -> None:
    """The unit is Type=notify with the watchdog, reload by SIGHUP, the env file and state dir."""
    d = unit_directives(UNIT.read_text(encoding="utf-8"))
    expected = {
        "Service.Type": ["notify"], "Service.User": ["tracker"],
        "Service.ExecStart": [SHIPPED_EXEC], "Service.ExecReload": ["/bin/kill -HUP $MAINPID"],
        "Service.Restart": ["on-failure"], "Service.WatchdogSec": ["60"],
        "Service.EnvironmentFile": ["/etc/tracker/tracker.env"],
        "Service.ReadWritePaths": ["/var/lib/tracker"],
        "Service.WorkingDirectory": ["/var/lib/tracker"],
        "Install.WantedBy": ["multi-user.target"],
    }
    for key, value in expected.items():
        assert d.get(key) == value, key
    assert "Service.TimeoutStopSec" in d


def test_unit_is_hardened() -> None:
    """The sandboxing directives the operator relies on are all present."""
    d = unit_directives(UNIT.read_text(encoding="utf-8"))
    for key, value in {
        "ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes",
        "NoNewPrivileges": "yes", "CapabilityBoundingSet": "",
        "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
    }.items():
        assert d.get(f"Service.{key}") == [value], key
    assert "@system-service" in d["Service.SystemCallFilter"]


def test_systemd_analyze_verify_accepts_the_unit(tmp_path: Path) -> None:
    """`systemd-analyze verify` passes with no warning about the unit (ExecStart rewritten to
    this venv's interpreter in a temp copy, because verify checks that the program exists)."""
    exe = tool("systemd-analyze", INSTALL)
    local = _local_copy(tmp_path)
    done = subprocess.run([exe, "verify", str(local)], capture_output=True, text=True,
                          timeout=60, check=False)
    about_us = [line for line in (done.stdout + done.stderr).splitlines()
                if "tracker.service" in line or "Unknown" in line or "ignoring" in line]
    assert done.returncode == 0, done.stderr
    assert about_us == []


def test_systemd_analyze_verify_catches_a_typo(tmp_path: Path) -> None:
    """The verify test would notice a mistake: a misspelt key produces a warning."""
    exe = tool("systemd-analyze", INSTALL)
    local = _local_copy(tmp_path)
    local.write_text(local.read_text(encoding="utf-8").replace("ProtectHome=", "ProtectHom="),
                     encoding="utf-8")
    done = subprocess.run([exe, "verify", str(local)], capture_output=True, text=True,
                          timeout=60, check=False)
    assert "Unknown key" in done.stderr


def test_security_exposure_is_low(tmp_path: Path) -> None:
    """`systemd-analyze security --offline` rates the unit's exposure below 2.0 ("OK")."""
    exe = tool("systemd-analyze", INSTALL)
    local = _local_copy(tmp_path)
    done = subprocess.run([exe, "security", "--offline=true", "--no-pager", str(local)],
                          capture_output=True, text=True, timeout=60, check=False)
    match = re.search(r"Overall exposure level for \S+: ([\d.]+)", done.stdout)
    assert match, done.stdout[-500:] + done.stderr
    assert float(match.group(1)) < 2.0


def test_sysusers_file_creates_the_service_user() -> None:
    """deploy/tracker.sysusers.conf declares the `tracker` system user with its home."""
    lines = [ln.split() for ln in (DEPLOY / "tracker.sysusers.conf").read_text().splitlines()
             if ln.strip() and not ln.startswith("#")]
    assert lines[0][:2] == ["u", "tracker"] and "/var/lib/tracker" in lines[0]
