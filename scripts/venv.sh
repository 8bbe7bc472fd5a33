#!/usr/bin/env bash
# The project's own virtual environment (.venv), made and kept in step with a pinned lock file.
# Debian 12 and Homebrew Pythons refuse `pip install` outside a venv (PEP 668), so the README's
# commands never install into the system Python: they call this first, then run .venv/bin/python.
# Usage: scripts/venv.sh [requirements.txt | requirements-test.txt]   (PYTHON=... picks the interpreter)
set -euo pipefail
cd "$(dirname "$0")/.."
lock="${1:-requirements.txt}"
venv=".venv"

# The first Python 3.11+ found: $PYTHON if set, else python3, else a versioned name (macOS, pyenv).
find_python() {
  for candidate in ${PYTHON:-} python3 python3.13 python3.12 python3.11; do
    if command -v "$candidate" >/dev/null 2>&1 \
        && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1; then
      command -v "$candidate"
      return 0
    fi
  done
  return 1
}

# A venv whose interpreter is gone (Python upgraded or removed) is rebuilt, not patched.
if [ -d "$venv" ] && ! "$venv/bin/python" -c 'import sys' >/dev/null 2>&1; then
  echo "venv: $venv no longer runs; making it again"
  rm -rf "$venv"
fi

if [ ! -x "$venv/bin/python" ]; then
  if ! python="$(find_python)"; then
    echo "venv: Python 3.11 or newer is needed (set PYTHON=/path/to/python3.11 if it has another name)" >&2
    exit 1
  fi
  echo "venv: making $venv with $python ($("$python" -c 'import platform; print(platform.python_version())'))"
  if ! "$python" -m venv "$venv"; then
    rm -rf "$venv"
    echo "venv: '$python -m venv' failed. On Debian or Ubuntu install the venv module first:" >&2
    echo "venv:     sudo apt-get install python3-venv" >&2
    exit 1
  fi
fi

# Install only when the lock (or the package's metadata) changed since the last install.
stamp="$venv/.installed-$(basename "$lock")"
want="$("$venv/bin/python" - "$lock" setup.cfg <<'PY'
import hashlib, sys
digest = hashlib.sha256()
for path in sys.argv[1:]:
    with open(path, "rb") as fh:
        digest.update(fh.read())
print(digest.hexdigest())
PY
)"
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]; then
  echo "venv: installing $lock into $venv"
  "$venv/bin/python" -m pip install --disable-pip-version-check -q -r "$lock"
  # The checkout itself, editable and without dependencies: the lock already pinned them all.
  "$venv/bin/python" -m pip install --disable-pip-version-check -q --no-deps -e .
  echo "$want" > "$stamp"
fi
