"""Demo mode: Twilio's Messages API (our permission requests) and the contact's answer to them.

Only Twilio's side is played: ``messages.create`` is answered like api.twilio.com (201, a Message
resource) and followed by the signed ``sent`` and ``delivered`` status callbacks; the simulator's
"contact accepts / declines" buttons post the signed messaging webhook exactly as Twilio documents it
(reference §2.2: Body and ButtonText VOICE_CALL_REQUEST, ButtonPayload ACCEPTED or REJECTED).
From our webhooks inward everything is the live code path.
"""
from email.utils import format_datetime
from urllib.parse import urlparse

from flask import current_app

from widget_app.core.clock import utcnow
from widget_app.core.errors import DomainError
from widget_app.core.phone import twilio_e164
from widget_app.demo.blueprint import demo_blueprint
from widget_app.demo.hubspot_cloud import DEMO_CONTACT_PHONE
from widget_app.demo.twilio_cloud import API_VERSION, demo_route, new_sid, post_webhook
from widget_app.permissions.ledger import permission_json
from widget_app.web.jsonbody import json_body

bp = demo_blueprint("demo_messaging", __name__)
ANSWERS = {"accept": "ACCEPTED", "decline": "REJECTED"}  # Twilio's ButtonPayload for the contact's answer


def _twilio_error(status: int, code: int, message: str):
    return status, {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}",
                    "status": status}


@demo_route("POST", r"/Accounts/(?P<account>AC\w+)/Messages\.json$")
def create_message(app, match, form):
    """POST …/Messages.json: validate like Twilio, answer 201 queued, then report sent and delivered."""
    sender = f"whatsapp:{app.config['TWILIO_WHATSAPP_NUMBER']}"
    to, sid, now = form.get("To", ""), new_sid("SM"), format_datetime(utcnow())
    if not to.startswith("whatsapp:+") or not to[len("whatsapp:+"):].isdigit():
        return _twilio_error(400, 21211, f"Invalid 'To' Phone Number: {to}")
    if form.get("From") != sender:
        return _twilio_error(400, 63007, "Twilio could not find a Channel with the specified From address")
    if not form.get("ContentSid", "").startswith("HX") and not form.get("Body"):
        return _twilio_error(400, 21619, "A text message body, media URL or content SID is required")
    base = f"/{API_VERSION}/Accounts/{match.group('account')}/Messages/{sid}"
    message = {"account_sid": match.group("account"), "api_version": API_VERSION, "body": form.get("Body", ""),
               "date_created": now, "date_sent": None, "date_updated": now, "direction": "outbound-api",
               "error_code": None, "error_message": None, "from": sender, "messaging_service_sid": None,
               "num_media": "0", "num_segments": "1", "price": None, "price_unit": "USD", "sid": sid,
               "status": "queued", "subresource_uris": {"media": f"{base}/Media.json"}, "to": to, "uri": f"{base}.json"}
    callback = form.get("StatusCallback")
    if callback:
        step = float(app.config.get("DEMO_MESSAGING_DELAY", 0.5))
        for number, status in enumerate(("sent", "delivered"), start=1):
            params = {"MessageSid": sid, "SmsSid": sid, "MessageStatus": status, "SmsStatus": status,
                      "AccountSid": match.group("account"), "From": sender, "To": to, "ApiVersion": API_VERSION,
                      "ChannelPrefix": "whatsapp", "ChannelToAddress": to[len("whatsapp:"):]}
            # Always later than now: our request stores the MessageSid only once this answer returns.
            post_webhook(app, urlparse(callback).path, params, delay=max(step, 0.01) * number)
    return 201, message


@bp.post("/contact/permission-reply")
def permission_reply():
    """The simulator's contact taps a button on our permission request: Twilio's signed messaging webhook."""
    body = json_body(phone=(str, DEMO_CONTACT_PHONE), answer=str)
    if body["answer"] not in ANSWERS:
        raise DomainError("invalid_field", "answer must be one of: " + ", ".join(ANSWERS), field="answer")
    phone, config, sid = twilio_e164(body["phone"]), current_app.config, new_sid("SM")
    # Every field of Twilio's documented example, and no others (no OriginalRepliedMessageSid).
    params = {"SmsMessageSid": sid, "NumMedia": "0", "ProfileName": "Dana Demo", "MessageType": "interactive",
              "SmsSid": sid, "WaId": phone.lstrip("+"), "SmsStatus": "received", "Body": "VOICE_CALL_REQUEST",
              "ButtonText": "VOICE_CALL_REQUEST", "To": f"whatsapp:{config['TWILIO_WHATSAPP_NUMBER']}",
              "ButtonPayload": ANSWERS[body["answer"]], "ReferralNumMedia": "0", "MessageSid": sid,
              "AccountSid": config["TWILIO_ACCOUNT_SID"], "From": f"whatsapp:{phone}", "ApiVersion": API_VERSION}
    response = post_webhook(current_app._get_current_object(), "/twilio/messaging", params)
    if response.status_code >= 300:
        raise DomainError("webhook_failed", f"Our /twilio/messaging webhook answered {response.status_code}.",
                       webhook_status=response.status_code)
    return {"message_sid": sid, "permission": permission_json(phone)}
