"""`flask doctor` checks the call invite's template (issue 15) only when TWILIO_CALL_INVITE_CONTENT_SID is set:
it must exist, carry a VOICE_CALL ("Call us") action, and be approved by WhatsApp."""
import pytest

from tests.doctor.conftest import approval_body, content_body, doctor, fail_lines, twilio_error

INVITE_SID = "HX" + "c" * 32
INVITE_URL = f"https://content.twilio.com/v1/Content/{INVITE_SID}"


@pytest.fixture
def invite_template(app, http_mock):
    app.config["TWILIO_CALL_INVITE_CONTENT_SID"] = INVITE_SID

    def answer(body, status=200, approval="approved"):
        http_mock.add("GET", INVITE_URL, json=body, status=status)
        http_mock.add("GET", f"{INVITE_URL}/ApprovalRequests", json=approval_body(status=approval))
    return answer


def test_without_the_setting_nothing_about_invites_is_checked(app, live_cloud):
    result = doctor(app)
    assert result.exit_code == 0 and "Call invite" not in result.output


def test_an_approved_voice_call_template_passes(app, live_cloud, invite_template):
    invite_template(content_body(actions=[{"type": "VOICE_CALL", "title": "Call us"}]))
    result = doctor(app)
    assert result.exit_code == 0, result.output
    assert f"ok    Call invite template: {INVITE_SID}" in result.output
    assert "ok    Call invite approval: WhatsApp approved the template" in result.output


@pytest.mark.parametrize("body, status, approval, expected", [
    (content_body(), 200, "approved", f"FAIL  Call invite template: {INVITE_SID} has no VOICE_CALL action"),
    (twilio_error(404, 20404, "The requested resource was not found"), 404, "approved",
     f"FAIL  Call invite template: {INVITE_SID} does not exist"),
    (content_body(actions=[{"type": "VOICE_CALL", "title": "Call us"}]), 200, "rejected",
     "FAIL  Call invite approval: WhatsApp rejected the template"),
])
def test_a_wrong_or_unapproved_invite_template_fails_with_its_fix(app, live_cloud, invite_template, body, status,
                                                                  approval, expected):
    invite_template(body, status, approval)
    result = doctor(app)
    assert result.exit_code == 1
    assert any(line.startswith(expected) for line in fail_lines(result.output)), result.output
