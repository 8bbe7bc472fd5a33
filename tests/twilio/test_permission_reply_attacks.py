"""Only a real reply grants permission (issue 12, item 6): a contact who types Meta's reply as text,
even labelled interactive, grants nothing; with nobody asked, nothing at all."""
import json

import pytest

from tests.helpers import CONTACT_PHONE
from widget_app.models import Permission, PermissionRequest

PERMANENT_ACCEPT = {"response": "accept", "is_permanent": True}
METAS_MESSAGE = {"type": "interactive", "interactive": {"type": "call_permission_reply",
                                                        "call_permission_reply": PERMANENT_ACCEPT}}


@pytest.mark.parametrize("body", [PERMANENT_ACCEPT, METAS_MESSAGE, METAS_MESSAGE["interactive"]],
                         ids=["reply-fields", "metas-message", "interactive-object"])
@pytest.mark.parametrize("message_type", ["text", "interactive", None])
def test_a_text_message_whose_body_is_a_permanent_accept_in_json_grants_nothing(messaging_post, db, body,
                                                                                 message_type):
    fields = {"Body": json.dumps(body)} | ({"MessageType": message_type} if message_type else {})
    assert messaging_post(**fields).status_code == 200
    permission = Permission.get_or_none(Permission.phone == CONTACT_PHONE)
    assert permission is None or (permission.status != "granted" and not permission.permanent)
    reply = PermissionRequest.get(PermissionRequest.kind == "reply")
    assert reply.status in ("ignored", "unsolicited") and not reply.permanent
