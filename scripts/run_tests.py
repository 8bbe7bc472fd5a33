"""The README's test command: pytest over the whole suite; under CI, a run that skipped or left out a test fails.

A green CI must mean every test ran. Under any truthy ``CI`` (1, true, True, yes, on) this refuses
``PYTEST_ADDOPTS`` (it can deselect silently), and fails the run when pytest deselected or skipped a
test, or ran fewer tests than it collected (``-x``, an interrupted run). ``CI`` is normalised to
``true`` for the suite, whose fixtures fail instead of skipping when a browser or a server is missing.
Extra arguments go to pytest as they are: `npm test -- -k permissions` works outside CI.
"""
import os
import sys

import pytest

TRUTHY = {"1", "true", "yes", "on", "y"}


def in_ci(environ=os.environ) -> bool:
    """Whether a CI system runs us: CI set to any truthy spelling, not only 'true'."""
    return environ.get("CI", "").strip().lower() in TRUTHY


class CompletenessGuard:
    """A pytest plugin that counts collected, deselected, skipped and run tests, and fails an incomplete run."""

    def __init__(self):
        """Start with nothing seen."""
        self.collected, self.deselected, self.ran = 0, 0, 0
        self.skipped: list[str] = []
        self.problems: list[str] = []

    def pytest_deselected(self, items):
        """`-k`, `-m` or a plugin left these out."""
        self.deselected += len(items)

    def pytest_collection_finish(self, session):
        """What is left to run once collection and deselection are done."""
        self.collected = len(session.items)

    def pytest_runtest_logreport(self, report):
        """A skip in any phase counts (a fixture may skip in setup); a test ran when its call phase did."""
        if report.skipped and not hasattr(report, "wasxfail"):
            self.skipped.append(report.nodeid)
        if report.when == "call":
            self.ran += 1

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session, exitstatus):
        """Turn an incomplete run into a failure (exit 1), whatever pytest itself concluded."""
        if self.deselected:
            self.problems.append(f"{self.deselected} test(s) deselected")
        if self.skipped:
            self.problems.append(f"{len(self.skipped)} test(s) skipped: " + ", ".join(self.skipped[:20]))
        if self.ran != self.collected:
            self.problems.append(f"{self.ran} of {self.collected} collected test(s) ran")
        if self.collected == 0:
            self.problems.append("no test collected")
        if self.problems and session.exitstatus == 0:
            session.exitstatus = 1

    def pytest_terminal_summary(self, terminalreporter):
        """Say why a run that pytest calls green is red under CI."""
        for problem in self.problems:
            terminalreporter.write_line(f"CI: incomplete run: {problem}", red=True, bold=True)


def main(argv: list[str]) -> int:
    """Run pytest with ``argv``; under CI with the completeness guard."""
    if not in_ci():
        return int(pytest.main(argv))
    if os.environ.get("PYTEST_ADDOPTS"):
        print("CI: PYTEST_ADDOPTS is set; under CI the whole suite runs as committed. Unset it.", file=sys.stderr)
        return 2
    os.environ["CI"] = "true"  # the suite's fixtures read exactly 'true'
    return int(pytest.main(argv, plugins=[CompletenessGuard()]))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
