"""`npm test` runs scripts/run_tests.py: under any truthy CI, a skipped, deselected or unrun test fails the run."""
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
RUNNER = ROOT / "scripts" / "run_tests.py"
SUITE = '''
import pytest

def test_one():
    assert True

def test_two():
    assert True

@pytest.mark.skipif({skip}, reason="skipped on purpose")
def test_three():
    assert True
'''


def run_suite(tmp_path, ci, *args, skip=False, addopts=None):
    """Run the runner on a tiny suite of its own (own rootdir, own ini), as `npm test` runs it."""
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_tiny.py").write_text(SUITE.format(skip=skip))
    env = {key: value for key, value in os.environ.items() if key not in ("CI", "PYTEST_ADDOPTS")}
    if ci is not None:
        env["CI"] = ci
    if addopts:
        env["PYTEST_ADDOPTS"] = addopts
    return subprocess.run([sys.executable, str(RUNNER), "-p", "no:cacheprovider", "-c", str(tmp_path / "pytest.ini"),
                           "--rootdir", str(tmp_path), str(tmp_path), *args],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("ci", ["1", "True", "yes"])
def test_a_skip_fails_the_run_under_any_truthy_ci(tmp_path, ci):
    result = run_suite(tmp_path, ci, skip=True)
    assert result.returncode == 1, result.stdout
    assert "CI: incomplete run: 1 test(s) skipped" in result.stdout
    assert "test_three" in result.stdout


def test_a_deselection_fails_the_run_under_ci(tmp_path):
    result = run_suite(tmp_path, "true", "-k", "not test_two")
    assert result.returncode == 1, result.stdout
    assert "CI: incomplete run: 1 test(s) deselected" in result.stdout


def test_a_run_stopped_early_fails_under_ci(tmp_path):
    (tmp_path / "test_early.py").write_text("def test_a_failure():\n    assert False\n")
    result = run_suite(tmp_path, "true", "-x")
    assert result.returncode == 1
    assert "CI: incomplete run:" in result.stdout and "collected test(s) ran" in result.stdout


def test_pytest_addopts_is_refused_under_ci(tmp_path):
    result = run_suite(tmp_path, "yes", addopts="-k test_one")
    assert result.returncode == 2
    assert "PYTEST_ADDOPTS" in result.stderr


def test_a_complete_run_passes_under_ci(tmp_path):
    result = run_suite(tmp_path, "1")
    assert result.returncode == 0, result.stdout
    assert "3 passed" in result.stdout and "incomplete" not in result.stdout


@pytest.mark.parametrize("ci", [None, "false"])
def test_outside_ci_a_skip_is_only_a_skip(tmp_path, ci):
    result = run_suite(tmp_path, ci, skip=True)
    assert result.returncode == 0, result.stdout
    assert "2 passed, 1 skipped" in result.stdout


def test_the_suite_sees_ci_as_true_whatever_its_spelling(tmp_path):
    (tmp_path / "test_env.py").write_text("import os\n\ndef test_env():\n    assert os.environ['CI'] == 'true'\n")
    assert run_suite(tmp_path, "True").returncode == 0
