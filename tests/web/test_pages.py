"""The pages: the widget HubSpot frames (its SDK bundle, its screens, nothing inline or foreign),
the HubSpot simulator (demo only), and `python -m widget_app`'s first-run agent."""
import re

import pytest

from widget_app.hubspot.engagements import CALL_OUTCOMES

SCREENS = ["loading", "login", "keypad", "permission", "pending", "denied", "dialing", "incoming",
           "calling", "ended", "history"]


def test_the_widget_page_references_the_sdk_bundle_and_it_answers_javascript(client):
    html = client.get("/widget").get_data(as_text=True)
    src = re.search(r'<script [^>]*src="([^"]*calling-extensions-sdk-[0-9A-Z]{8}\.js)"', html).group(1)
    with client.get(src) as bundle:
        assert bundle.status_code == 200
        assert bundle.mimetype in ("text/javascript", "application/javascript")
        assert b"IFrameManager" in bundle.get_data()


def test_the_widget_page_has_every_screen_and_starts_on_loading(client):
    html = client.get("/widget").get_data(as_text=True)
    for screen in SCREENS:
        tag = re.search(rf'<section id="screen-{screen}"[^>]*>', html).group(0)
        assert ("hidden" in tag) == (screen != "loading"), tag
        assert f'id="h-{screen}" tabindex="-1"' in html, f"{screen} has a focusable heading"


def test_the_wrap_up_offers_hubspots_six_default_outcomes(client):
    html = client.get("/widget").get_data(as_text=True)
    assert len(CALL_OUTCOMES) == 6
    for outcome in CALL_OUTCOMES:
        suggest = outcome.get("suggest") or ""
        assert f'<option value="{outcome["id"]}" data-suggest="{suggest}">{outcome["label"]}</option>' in html
    assert "f240bbac-87c9-4f6e-bf70-924b57d47db7" in html  # Connected


def test_the_widget_page_is_labelled_for_screen_readers(client):
    html = client.get("/widget").get_data(as_text=True)
    assert 'role="status" aria-live="polite"' in html
    assert 'role="alert"' in html
    for field in ("login-email", "login-password", "number", "notes", "outcome", "from-number"):
        assert f'<label for="{field}">' in html, field


def test_the_widget_tells_its_script_the_mode_and_where_the_voice_sdk_is(client, make_app):
    assert 'data-mode="live"' in client.get("/widget").get_data(as_text=True)
    demo = make_app(WIDGET_MODE="demo").test_client().get("/widget").get_data(as_text=True)
    assert 'data-mode="demo"' in demo
    voice = re.search(r'data-voice-sdk="([^"]+)"', demo).group(1)
    assert re.fullmatch(r"/static/dist/twilio\.min-[0-9A-Z]{8}\.js", voice)
    assert f'src="{voice}"' not in demo, "the Voice SDK is injected after INITIALIZED, not loaded up front"


def test_the_widget_can_be_framed_by_hubspot_and_carries_no_x_frame_options(client):
    response = client.get("/widget")
    assert "frame-ancestors https://*.hubspot.com" in response.headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in response.headers


@pytest.mark.parametrize("path", ["/dev/hubspot", "/dev/hubspot/window"])
def test_the_simulator_does_not_exist_in_live_mode(client, path):
    assert client.get(path).status_code == 404


@pytest.mark.parametrize("path", ["/dev/hubspot", "/dev/hubspot/window"])
def test_the_simulator_may_frame_the_widget_from_the_other_loopback_origin(make_app, path):
    response = make_app(WIDGET_MODE="demo").test_client().get(path)
    assert response.status_code == 200
    policy = response.headers["Content-Security-Policy"]
    frame_src = re.search(r"frame-src ([^;]+)", policy).group(1).split()
    assert {"http://127.0.0.1:*", "http://localhost:*"} <= set(frame_src)
    assert "script-src 'self'" in policy
    html = response.get_data(as_text=True)
    assert "vendor/calling-extensions-sdk.js" in html and "js/simulator.js" in html


def test_the_simulator_page_has_the_contact_section_for_later_actions(make_app):
    html = make_app(WIDGET_MODE="demo").test_client().get("/dev/hubspot").get_data(as_text=True)
    assert 'id="contact-actions"' in html
    for button in ("send-dial", "send-engagement", "send-engagement-failed", "send-visibility",
                   "send-end-call", "send-caller-id", "auto-engagement"):
        assert f'id="{button}"' in html


def test_first_run_creates_the_demo_agent_only_on_an_empty_database(make_app, db):
    from werkzeug.security import check_password_hash

    from widget_app.__main__ import first_run_agent
    from widget_app.models import Agent

    make_app(WIDGET_MODE="demo")
    agent = first_run_agent()
    assert agent.email == "demo@example.com" and check_password_hash(agent.password_hash, "demo")
    assert first_run_agent().id == agent.id
    assert Agent.select().count() == 1


def test_first_run_leaves_an_existing_team_alone(make_agent):
    from widget_app.__main__ import first_run_agent
    from widget_app.models import Agent

    make_agent(email="ana@example.com")
    assert first_run_agent() is None
    assert [a.email for a in Agent.select()] == ["ana@example.com"]
