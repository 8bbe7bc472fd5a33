"""requirements.txt (what the platform, CI and the README's commands install) is compiled from setup.cfg.

A dependency added to, removed from or re-bounded in setup.cfg without recompiling fails here; the
README's "Pinned dependencies" section says how to recompile (pip-tools' pip-compile).
"""
import configparser
import pathlib
import re

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = pathlib.Path(__file__).resolve().parent.parent
OURSELVES = "whatsapp-hubspot-widget (setup.cfg)"


def declared(extra: str | None = None) -> dict[str, Requirement]:
    """setup.cfg's install_requires (or one extra's list), by canonical name."""
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    raw = config["options.extras_require"][extra] if extra else config["options"]["install_requires"]
    requirements = [Requirement(line.strip()) for line in raw.splitlines() if line.strip()]
    return {canonicalize_name(r.name): r for r in requirements}


def parse_lock(text: str) -> tuple[dict[str, Version], set[str]]:
    """The pins (name -> version) of a pip-compile file, and the names it says setup.cfg asked for directly."""
    pins, direct, current = {}, set(), None
    for line in text.splitlines():
        match = re.fullmatch(r"([A-Za-z0-9._-]+)==([^\s;\\]+).*", line)
        if match:
            current = canonicalize_name(match.group(1))
            pins[current] = Version(match.group(2))
        elif current and line.strip().lstrip("#").strip() in (f"via {OURSELVES}", OURSELVES):
            direct.add(current)
        elif not line.startswith(" "):
            current = None
    return pins, direct


def lock(name: str):
    return parse_lock((ROOT / name).read_text())


def mismatches(wanted: dict[str, Requirement], pins: dict[str, Version], direct: set[str]) -> list[str]:
    """Every way the lock disagrees with what setup.cfg asks for."""
    problems = [f"{name} is in setup.cfg but not pinned" for name in sorted(set(wanted) - set(pins))]
    problems += [f"{name}=={pins[name]} does not satisfy setup.cfg's {wanted[name]}"
                 for name in sorted(set(wanted) & set(pins)) if pins[name] not in wanted[name].specifier]
    problems += [f"{name} is pinned as a direct requirement but setup.cfg no longer asks for it"
                 for name in sorted(direct - set(wanted))]
    return problems


def test_requirements_txt_pins_exactly_what_setup_cfg_asks_for():
    pins, direct = lock("requirements.txt")
    assert mismatches(declared(), pins, direct) == []


def test_requirements_test_txt_pins_the_app_and_the_test_extra():
    pins, direct = lock("requirements-test.txt")
    assert mismatches({**declared(), **declared("test")}, pins, direct) == []


def test_the_test_lock_runs_the_same_versions_as_the_deploy_lock():
    deploy, _ = lock("requirements.txt")
    test, _ = lock("requirements-test.txt")
    assert {name: (version, test.get(name)) for name, version in deploy.items() if test.get(name) != version} == {}


def test_every_pin_is_exact():
    for name in ("requirements.txt", "requirements-test.txt"):
        for line in (ROOT / name).read_text().splitlines():
            if line and not line.startswith((" ", "#", "-")):
                assert re.fullmatch(r"[A-Za-z0-9._-]+==\S+", line), f"{name}: {line}"


@pytest.mark.parametrize("change, expected", [
    ("add", "redis-om is in setup.cfg but not pinned"),
    ("bound", "flask==3.1.3 does not satisfy setup.cfg's flask>=4"),
    ("remove", "peewee is pinned as a direct requirement but setup.cfg no longer asks for it"),
])
def test_the_check_catches_a_setup_cfg_change_without_a_recompile(change, expected):
    wanted = declared()
    pins, direct = parse_lock("flask==3.1.3\n    # via " + OURSELVES + "\npeewee==4.5.3\n    # via " + OURSELVES + "\n")
    wanted = {name: wanted[name] for name in ("flask", "peewee")}
    if change == "add":
        wanted["redis-om"] = Requirement("redis-om>=1")
    elif change == "bound":
        wanted["flask"] = Requirement("flask>=4")
    else:
        del wanted["peewee"]
    assert mismatches(wanted, pins, direct) == [expected]
