"""What a check concludes: right, worth a look, or broken, with the fix a self-hoster can apply."""
from dataclasses import dataclass

OK, WARN, FAIL = "ok", "warn", "FAIL"


@dataclass(frozen=True)
class Finding:
    """One line of the report: the status, what was checked and what we saw, and for a problem its fix."""
    status: str
    subject: str
    detail: str
    fix: str = ""

    def lines(self) -> list[str]:
        """The finding as the terminal shows it; the fix on its own indented line."""
        out = [f"{self.status:<4}  {self.subject}: {self.detail}"]
        if self.fix and self.status != OK:
            out.append(f"      fix: {self.fix}")
        return out


def ok(subject, detail):
    """A check that passed."""
    return Finding(OK, subject, detail)


def warn(subject, detail, fix):
    """Works, but not as it should in production; does not fail the run."""
    return Finding(WARN, subject, detail, fix)


def fail(subject, detail, fix):
    """Broken: calls will not ring, permissions will not arrive or calls will not be logged."""
    return Finding(FAIL, subject, detail, fix)
