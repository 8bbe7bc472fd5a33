"""The import rules of docs/architecture.md, checked on the source: a change that breaks them fails here.

Layers, from the bottom: core (and the pure permission rules) -> base (config, extensions, models, db)
-> adapters (Twilio, HubSpot's client, the realtime hub) -> feature services -> the web layer (routes,
webhooks, the socket, CLI, create_app) -> demo. A module imports only from its own layer or below,
and never in a circle.
"""
import ast
import json
import os
import pathlib
import subprocess
import sys

import pytest

import widget_app

PACKAGE = pathlib.Path(widget_app.__file__).parent
CORE, BASE, ADAPTER, SERVICE, WEB, DEMO, APP = range(7)
LAYER_NAMES = ["core", "base", "adapter", "service", "web", "demo", "app"]
BASE_MODULES = {"config", "extensions", "models", "db"}
ADAPTERS = {"twilio.client", "twilio.signatures", "twilio.tokens", "twilio.twiml", "twilio.permission_reply",
            "hubspot.client", "hubspot.portals", "hubspot.signatures", "hubspot.contacts", "hubspot.urls",
            "hubspot.extension",
            "realtime.hub", "realtime.events"}
WEB_MODULES = {"routes", "webhooks", "cli", "history", "socket", "worker"}
WEB_BY_NAME = {"admin.session"}  # the admin console's sign-in cookie and CSRF guard (HTTP in and out)


def layer(module: str) -> int:
    name = module.removeprefix("widget_app").lstrip(".")
    head, _, tail = name.partition(".")
    if name in ("", "__main__"):
        return APP  # create_app and `python -m widget_app`: the map of everything, the demo plug-in included
    if head == "demo":
        return DEMO
    if head == "core" or name == "permissions.rules":
        return CORE
    if name in BASE_MODULES:
        return BASE
    if name in ADAPTERS:
        return ADAPTER
    if head == "web" or tail.rsplit(".", 1)[-1] in WEB_MODULES or name in WEB_BY_NAME:
        return WEB
    return SERVICE


def module_files() -> dict[str, pathlib.Path]:
    files = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        files[name] = path
    return files


MODULES = module_files()


def imports_of(path: pathlib.Path) -> list[tuple[str, int, bool]]:
    """(imported widget_app module, line, at module level?) for every import in a file."""
    tree = ast.parse(path.read_text())
    top_level = {id(node) for node in tree.body}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            raise AssertionError(f"{path}:{node.lineno}: use absolute imports (from widget_app....)")
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("widget_app"):
            for alias in node.names:
                target = f"{node.module}.{alias.name}"
                found.append((target if target in MODULES else node.module, node.lineno, id(node) in top_level))
        elif isinstance(node, ast.Import):
            found += [(a.name, node.lineno, id(node) in top_level) for a in node.names if a.name.startswith("widget_app")]
    return found


def import_graph() -> dict[str, set[str]]:
    return {name: {target for target, _, _ in imports_of(path)} for name, path in MODULES.items()}


def layer_violations(graph: dict[str, set[str]]) -> list[str]:
    """Every import that points up a layer."""
    return [f"{source} ({LAYER_NAMES[layer(source)]}) imports {target} ({LAYER_NAMES[layer(target)]})"
            for source, targets in sorted(graph.items()) for target in sorted(targets)
            if layer(target) > layer(source)]


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Import circles (each found once, from its first module in sorted order)."""
    found, state = [], {}

    def visit(node, stack):
        state[node] = "open"
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == "open":
                found.append(stack[stack.index(target):] + [target])
            elif target not in state:
                visit(target, stack)
        stack.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [])
    return found


def test_imports_point_down_the_layers():
    assert layer_violations(import_graph()) == []


def test_the_layer_check_catches_a_service_importing_a_route():
    graph = import_graph()
    graph["widget_app.calls.outbound"] = graph["widget_app.calls.outbound"] | {"widget_app.calls.routes"}
    assert layer_violations(graph) == ["widget_app.calls.outbound (service) imports widget_app.calls.routes (web)"]


def test_there_are_no_import_circles():
    assert cycles(import_graph()) == []


def test_the_circle_check_catches_a_circle():
    graph = import_graph()
    graph["widget_app.hubspot.client"] = graph["widget_app.hubspot.client"] | {"widget_app.hubspot.portals"}
    assert ["widget_app.hubspot.client", "widget_app.hubspot.portals", "widget_app.hubspot.client"] in cycles(graph)


def test_function_level_imports_say_why():
    unexplained = []
    for path in MODULES.values():
        lines = path.read_text().splitlines()
        for target, line, top in imports_of(path):
            if not top and "#" not in lines[line - 1] and not lines[line - 2].strip().startswith("#"):
                unexplained.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports {target}")
    assert unexplained == []


def test_core_and_the_permission_rules_know_neither_flask_nor_the_database():
    pure = [name for name in MODULES if layer(name) == CORE]
    assert "widget_app.permissions.rules" in pure and "widget_app.core.clock" in pure
    for name in pure:
        tree = ast.parse(MODULES[name].read_text())
        imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
        imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        assert not {m for m in imported if m.split(".")[0] in ("flask", "peewee", "playhouse", "werkzeug")}, name
        assert all(layer(m) == CORE for m in imported if m.startswith("widget_app")), name


def test_only_create_app_imports_the_demo():
    importers = {source for source, targets in import_graph().items()
                 if any(layer(target) == DEMO for target in targets) and layer(source) != DEMO}
    assert importers == {"widget_app"}  # create_app, in demo mode only (test_a_live_app_never_loads_the_demo)


def test_twilios_wire_format_stays_in_the_twilio_package():
    for name, path in MODULES.items():
        if name.startswith(("widget_app.twilio", "widget_app.demo")):
            continue
        source = path.read_text()
        assert "twilio.twiml" not in source and "VoiceResponse" not in source, name
        # the install page's sign-in form; the admin console's own forms (first-party pages, CSRF-checked)
        if name not in ("widget_app.hubspot.routes", "widget_app.admin.routes", "widget_app.admin.session"):
            assert "request.form" not in source, f"{name} reads a webhook form: only twilio/ and hubspot/ routes may"


def test_services_raise_domain_errors_and_every_code_has_a_status():
    from widget_app.web.errors import STATUS_BY_CODE
    codes = set()
    for name, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "DomainError" and node.args \
                    and isinstance(node.args[0], ast.Constant):
                codes.add(node.args[0].value)
            if layer(name) < WEB and isinstance(node, ast.Call) and getattr(node.func, "id", None) == "HttpError":
                raise AssertionError(f"{name} speaks HTTP: raise DomainError and map its code in web/errors.py")
    assert codes - set(STATUS_BY_CODE) == set()


LIVE_ENV = {"WIDGET_MODE": "live", "SECRET_KEY": "s" * 32, "PUBLIC_BASE_URL": "https://widget.example.com",
            "TWILIO_ACCOUNT_SID": "AC" + "1" * 32, "TWILIO_AUTH_TOKEN": "t" * 32, "TWILIO_API_KEY_SID": "SK" + "1" * 32,
            "TWILIO_API_KEY_SECRET": "k" * 32, "TWILIO_TWIML_APP_SID": "AP" + "1" * 32,
            "TWILIO_WHATSAPP_NUMBER": "+15551234567", "TWILIO_PERMISSION_CONTENT_SID": "HX" + "1" * 32,
            "HUBSPOT_ACCESS_TOKEN": "pat-test"}


@pytest.mark.parametrize("mode", ["live", "demo"])
def test_a_live_app_never_loads_the_demo(tmp_path, mode):
    """Built in a fresh interpreter, so nothing another test imported counts."""
    env = {**os.environ, **(LIVE_ENV if mode == "live" else {"WIDGET_MODE": "demo"}),
           "DATABASE_URL": f"sqlite:///{tmp_path}/live.db"}
    script = ("import json, sys; from widget_app import create_app; app = create_app({'INSTANCE_PATH': sys.argv[1]});"
              "print(json.dumps({'demo': sorted(m for m in sys.modules if m.startswith('widget_app.demo')),"
              "'dev_routes': sorted(r.rule for r in app.url_map.iter_rules() if r.rule.startswith('/dev'))}))")
    result = subprocess.run([sys.executable, "-c", script, str(tmp_path)], env=env, capture_output=True, text=True,
                            cwd=tmp_path, check=True)
    found = json.loads(result.stdout.strip().splitlines()[-1])
    if mode == "live":
        assert found == {"demo": [], "dev_routes": []}
    else:
        assert "widget_app.demo" in found["demo"] and "/dev/hubspot" in found["dev_routes"]


def test_no_test_module_imports_another_test_module():
    """Shared steps live in a package's helpers.py (or conftest.py for fixtures), so a test module can move or
    be deleted without breaking another; importing a fixture from a test module also hides it from pytest's view."""
    tests = pathlib.Path(__file__).parent
    found = []
    for path in sorted(tests.rglob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([node.module or ""] if isinstance(node, ast.ImportFrom)
                     else [alias.name for alias in node.names] if isinstance(node, ast.Import) else [])
            found += [f"{path.relative_to(tests)}:{node.lineno}: {name}" for name in names
                      if name.startswith("tests.") and name.rsplit(".", 1)[-1].startswith("test_")]
    assert found == []
