"""scripts/venv.sh, which the README's commands run first: it finds a Python 3.11+, makes .venv, or says what to install.

Run on a copy of the script in a temporary checkout, with PATH holding only the fake Pythons a test
puts there, so the machine's own Pythons do not count. (Installing from the lock needs the package
index: CI proves that part with `.ci/smoke-start`, the README's `npm start` from a clean clone.)
"""
import os
import pathlib
import shutil
import subprocess

ROOT = pathlib.Path(__file__).resolve().parent.parent


def checkout(tmp_path, **pythons):
    """A checkout with the script, a lock and setup.cfg, and a bin/ of fake interpreters (name -> shell body)."""
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "venv.sh", tmp_path / "scripts" / "venv.sh")
    (tmp_path / "requirements.txt").write_text("")
    (tmp_path / "setup.cfg").write_text("[metadata]\nname = x\n")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("dirname", "basename", "cat", "rm"):
        os.symlink(shutil.which(tool), bin_dir / tool)
    for name, body in pythons.items():
        path = bin_dir / name.replace("_", ".")
        path.write_text("#!/bin/sh\n" + body + "\n")
        path.chmod(0o755)
    return tmp_path


def run(repo, **env):
    return subprocess.run([shutil.which("bash"), str(repo / "scripts" / "venv.sh")], cwd=repo, capture_output=True, text=True,
                          env={"PATH": str(repo / "bin"), "HOME": str(repo), **env}, timeout=60)


def test_a_python_older_than_3_11_is_refused_with_what_to_do(tmp_path):
    repo = checkout(tmp_path, python3="exit 1")  # fails the script's version check, as Python 3.9 does
    result = run(repo)
    assert result.returncode == 1
    assert "Python 3.11 or newer is needed (set PYTHON=" in result.stderr
    assert not (repo / ".venv").exists()


def test_the_python_named_in_PYTHON_comes_first(tmp_path):
    repo = checkout(tmp_path, python3='case "$*" in *"-m venv"*) echo "made by python3" >&2; exit 1;; esac',
                    mypython='case "$*" in *"-m venv"*) echo "made by mypython" >&2; exit 1;; esac')
    result = run(repo, PYTHON="mypython")
    assert "made by mypython" in result.stderr and "made by python3" not in result.stderr


def test_a_versioned_python_is_found_when_python3_is_too_old(tmp_path):
    repo = checkout(tmp_path, python3="exit 1", python3_12='case "$*" in *"-m venv"*) echo "made by 3.12" >&2; exit 1;; esac')
    assert "made by 3.12" in run(repo).stderr


def test_without_the_venv_module_it_says_to_install_python3_venv_and_leaves_nothing_behind(tmp_path):
    # Debian's python3 without python3-venv: `-m venv` makes a half directory, then fails (ensurepip missing).
    repo = checkout(tmp_path, python3='case "$*" in *"-m venv"*) mkdir -p .venv/bin; exit 1;; esac')
    result = run(repo)
    assert result.returncode == 1
    assert "apt-get install python3-venv" in result.stderr
    assert not (repo / ".venv").exists()
