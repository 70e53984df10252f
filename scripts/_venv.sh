# Shared by scripts/run and scripts/test: make .venv with tracker and its dependencies,
# reinstalling only when pyproject.toml changed. Needs Python 3.11+ and the package index.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
py="${PYTHON:-python3}"
"$py" - <<'PY' || { echo "tracker needs Python 3.11 or newer (set PYTHON=...)" >&2; exit 2; }
import sys
sys.exit(0 if sys.version_info >= (3, 11) else 1)
PY
if [ ! -x .venv/bin/python ]; then
  echo "» creating .venv" >&2
  "$py" -m venv .venv
fi
want="$(sha256sum pyproject.toml | cut -d' ' -f1)-${1:-run}"
if [ "$(cat .venv/.tracker-installed 2>/dev/null)" != "$want" ]; then
  echo "» installing tracker and its dependencies into .venv" >&2
  .venv/bin/python -m pip install --quiet --upgrade "pip>=25.1"
  if [ "${1:-run}" = test ]; then
    .venv/bin/python -m pip install --quiet -e . --group dev
  else
    .venv/bin/python -m pip install --quiet -e .
  fi
  echo "$want" > .venv/.tracker-installed
fi
