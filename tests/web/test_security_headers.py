"""Headers for a page HubSpot frames cross-site: CSP (scripts only from us, frame-ancestors as
configured), nosniff, a referrer policy, and no X-Frame-Options (it would forbid HubSpot's iframe)."""
import re

import pytest


def csp_directives(response) -> dict:
    policy = response.headers["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in (p.strip() for p in policy.split(";")) if part}


@pytest.mark.parametrize("path", ["/widget", "/api/auth/me", "/api/no-such-thing", "/no-such-page", "/healthz"])
def test_every_response_carries_the_security_headers(client, path):
    response = client.get(path)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "X-Frame-Options" not in response.headers
    assert csp_directives(response)["frame-ancestors"] == ["https://*.hubspot.com"]


def test_scripts_only_from_our_own_origin(client):
    directives = csp_directives(client.get("/widget"))
    assert directives["script-src"] == ["'self'"]
    assert directives["default-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["base-uri"] == ["'self'"]


def test_the_widget_page_has_no_inline_or_foreign_scripts(client):
    html = client.get("/widget").get_data(as_text=True)
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, flags=re.DOTALL)
    assert scripts, "the widget page loads its scripts"
    for attributes, body in scripts:
        source = re.search(r'src="([^"]+)"', attributes)
        assert source and source.group(1).startswith("/static/"), attributes
        assert not body.strip()
    assert not re.search(r"\son[a-z]+\s*=", html), "no inline event handlers"


@pytest.mark.parametrize("configured,expected", [
    ("https://app.hubspot.com https://app-eu1.hubspot.com", ["https://app.hubspot.com", "https://app-eu1.hubspot.com"]),
    ("https://app.hubspot.com, https://app-eu1.hubspot.com", ["https://app.hubspot.com", "https://app-eu1.hubspot.com"]),
])
def test_frame_ancestors_come_from_the_setting(make_app, configured, expected):
    client = make_app(FRAME_ANCESTORS=configured).test_client()
    assert csp_directives(client.get("/widget"))["frame-ancestors"] == expected


def test_demo_mode_also_lets_the_local_simulator_frame_the_widget(make_app):
    client = make_app(WIDGET_MODE="demo").test_client()
    ancestors = csp_directives(client.get("/widget"))["frame-ancestors"]
    assert ancestors == ["https://*.hubspot.com", "'self'", "http://127.0.0.1:*", "http://localhost:*"]


def test_live_mode_does_not_let_localhost_frame_the_widget(client):
    ancestors = csp_directives(client.get("/widget"))["frame-ancestors"]
    assert not any("localhost" in source or "127.0.0.1" in source or source == "'self'" for source in ancestors)


def test_api_answers_are_never_cached(client, auth_headers):
    assert client.get("/api/auth/me", headers=auth_headers).headers["Cache-Control"] == "no-store"
    assert client.get("/api/auth/me").headers["Cache-Control"] == "no-store"
