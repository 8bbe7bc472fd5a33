"""Twilio, asked through its REST API: credentials, the TwiML App, the WhatsApp senders, the Content template.

Each request goes through ``twilio_client().request`` (the app's Twilio transport, with its timeout)
and reads Twilio's JSON as documented: Accounts and Applications (2010-04-01), Senders
(messaging v2), Content and its ApprovalRequests (content v1).
"""
import json

import requests
from flask import current_app
from twilio.base.exceptions import TwilioException

from widget_app.doctor.findings import fail, ok, warn
from widget_app.models import PhoneNumber
from widget_app.twilio.client import twilio_client

API = "https://api.twilio.com/2010-04-01"
SENDERS = "https://messaging.twilio.com/v2/Channels/Senders"
CONTENT = "https://content.twilio.com/v1/Content"
CONSOLE_KEYS = "Twilio Console > Account > API keys & tokens"


class Unreachable(Exception):
    """Twilio did not answer at all (network, timeout)."""


def get(uri: str, params: dict | None = None, auth: tuple | None = None) -> tuple[int, dict]:
    """One GET to Twilio: the status and the JSON body ({} when there is none)."""
    try:
        response = twilio_client().request("GET", uri, params=params, auth=auth)
    except (requests.RequestException, TwilioException) as exc:
        raise Unreachable(type(exc).__name__) from exc
    try:
        body = json.loads(response.text or "{}")
    except ValueError:
        body = {}
    return response.status_code, body if isinstance(body, dict) else {}


def base_url() -> str:
    """PUBLIC_BASE_URL without a trailing slash: every webhook URL is built from it."""
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/")


def check_credentials() -> list:
    """The account SID and auth token open the account, and the API key signs in too."""
    config = current_app.config
    account = config["TWILIO_ACCOUNT_SID"]
    status, body = get(f"{API}/Accounts/{account}.json")
    if status == 401:
        return [fail("Twilio credentials", "TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN rejected (401)",
                     f"copy the Account SID and Auth Token from {CONSOLE_KEYS}")]
    if status != 200:
        return [fail("Twilio credentials", f"Twilio answered {status}: {body.get('message', '')}".rstrip(": "),
                     f"check TWILIO_ACCOUNT_SID in {CONSOLE_KEYS}")]
    findings = []
    if body.get("status") != "active":
        findings.append(fail("Twilio account", f"{account} is {body.get('status')}",
                             "reactivate the account (Twilio Console > Billing) or use an active one"))
    else:
        findings.append(ok("Twilio credentials", f"account {account} is active"))
    key_status, _ = get(f"{API}/Accounts/{account}.json", auth=(config["TWILIO_API_KEY_SID"], config["TWILIO_API_KEY_SECRET"]))
    if key_status == 200:
        findings.append(ok("Twilio API key", f"{config['TWILIO_API_KEY_SID']} signs in"))
    else:
        findings.append(fail("Twilio API key", f"TWILIO_API_KEY_SID / TWILIO_API_KEY_SECRET rejected ({key_status})",
                             f"create a Standard API key in {CONSOLE_KEYS} (its secret is shown once) and set both"))
    return findings


def check_twiml_app() -> list:
    """The TwiML App's Voice URL is our /twilio/voice, by POST: browser calls and inbound calls reach it."""
    config = current_app.config
    app_sid, wanted = config["TWILIO_TWIML_APP_SID"], base_url() + "/twilio/voice"
    status, body = get(f"{API}/Accounts/{config['TWILIO_ACCOUNT_SID']}/Applications/{app_sid}.json")
    if status == 404:
        return [fail("TwiML App", f"{app_sid} does not exist in this account",
                     "create a TwiML App (Console > Voice > TwiML > TwiML Apps) and set TWILIO_TWIML_APP_SID to its AP... sid")]
    if status != 200:
        return [fail("TwiML App", f"Twilio answered {status}", "check TWILIO_TWIML_APP_SID")]
    if body.get("voice_url") != wanted or (body.get("voice_method") or "POST").upper() != "POST":
        return [fail("TwiML App", f"Voice URL is {body.get('voice_url') or '(empty)'} ({body.get('voice_method')})",
                     f"set the TwiML App's Voice Request URL to {wanted}, method POST")]
    return [ok("TwiML App", f"{app_sid} sends calls to {wanted}")]


def our_senders() -> list[str]:
    """Every WhatsApp number we call from: the default setting and the numbers table."""
    numbers = [current_app.config["TWILIO_WHATSAPP_NUMBER"]]
    with current_app.extensions["database"].connection_context():
        numbers += [row.e164 for row in PhoneNumber.select().order_by(PhoneNumber.e164)]
    return list(dict.fromkeys(number for number in numbers if number))


def check_senders() -> list:
    """Each of our WhatsApp senders is online, answers calls with our TwiML App, and sends replies to us."""
    status, body = get(SENDERS, params={"Channel": "whatsapp", "PageSize": 100})
    if status != 200:
        return [fail("WhatsApp senders", f"Twilio's Senders API answered {status}",
                     "check that WhatsApp is enabled on this Twilio account (Console > Messaging > Senders)")]
    by_number = {sender.get("sender_id"): sender for sender in body.get("senders") or [] if isinstance(sender, dict)}
    app_sid = current_app.config["TWILIO_TWIML_APP_SID"]
    messaging_url = base_url() + "/twilio/messaging"
    findings = []
    for number in our_senders():
        sender, subject = by_number.get(f"whatsapp:{number}"), f"WhatsApp sender {number}"
        if sender is None:
            findings.append(fail(subject, "not a WhatsApp sender of this Twilio account",
                                 "register it (Console > Messaging > Senders > WhatsApp senders) or remove it "
                                 "(TWILIO_WHATSAPP_NUMBER, `flask numbers`)"))
            continue
        problems = sender_problems(sender, app_sid, messaging_url)
        findings += [fail(subject, detail, fix) for detail, fix in problems] or [
            ok(subject, f"online; calls go to {app_sid}, replies to {messaging_url}")]
    return findings


def sender_problems(sender: dict, app_sid: str, messaging_url: str) -> list[tuple[str, str]]:
    """What is wrong with one sender: its status, its voice application, its messaging webhook."""
    where = f"POST {SENDERS}/{sender.get('sid')}"
    problems = []
    if (sender.get("status") or "").upper() != "ONLINE":
        problems.append((f"status is {sender.get('status')}", "finish the sender's registration in Console > Messaging > Senders"))
    voice_app = (sender.get("configuration") or {}).get("voice_application_sid")
    if voice_app != app_sid:
        problems.append((f"voice application is {voice_app or '(none)'}: inbound calls fail with error 37009",
                         f'set the sender\'s voice application to {app_sid} ({where} {{"configuration": '
                         f'{{"voice_application_sid": "{app_sid}"}}}})'))
    callback = (sender.get("webhook") or {}).get("callback_url")
    if callback != messaging_url:
        problems.append((f"messaging webhook is {callback or '(none)'}: permission replies never arrive",
                         f'set the sender\'s webhook URL to {messaging_url} ({where} {{"webhook": '
                         f'{{"callback_url": "{messaging_url}", "callback_method": "POST"}}}})'))
    return problems


def check_content_template() -> list:
    """The permission request template exists, carries the VOICE_CALL_REQUEST action, and WhatsApp approved it."""
    sid = current_app.config["TWILIO_PERMISSION_CONTENT_SID"]
    status, body = get(f"{CONTENT}/{sid}")
    if status == 404:
        return [fail("Content template", f"{sid} does not exist",
                     "create the call-to-action template (README: Twilio, step 4) and set TWILIO_PERMISSION_CONTENT_SID")]
    if status != 200:
        return [fail("Content template", f"Twilio answered {status}", "check TWILIO_PERMISSION_CONTENT_SID")]
    if not any(action.get("type") == "VOICE_CALL_REQUEST" for action in _actions(body)):
        return [fail("Content template", f"{sid} has no VOICE_CALL_REQUEST action: it cannot ask for call permission",
                     'create a twilio/call-to-action template whose only action is {"type": "VOICE_CALL_REQUEST", '
                     '"title": "Call Request"} (README: Twilio, step 4)')]
    findings = [ok("Content template", f"{sid} ({body.get('friendly_name')}) has the VOICE_CALL_REQUEST action")]
    return findings + _approval(sid, "Content approval", "the request")


def _actions(body: dict) -> list[dict]:
    return [action for content_type in (body.get("types") or {}).values() if isinstance(content_type, dict)
            for action in content_type.get("actions") or [] if isinstance(action, dict)]


def check_invite_template() -> list:
    """Issue 15: the call invite's template (when TWILIO_CALL_INVITE_CONTENT_SID is set) has a VOICE_CALL button."""
    sid = current_app.config.get("TWILIO_CALL_INVITE_CONTENT_SID")
    if not sid:
        return []
    status, body = get(f"{CONTENT}/{sid}")
    if status != 200:
        why = f"{sid} does not exist" if status == 404 else f"Twilio answered {status}"
        return [fail("Call invite template", why, "create a twilio/call-to-action template with a VOICE_CALL action "
                     "and set TWILIO_CALL_INVITE_CONTENT_SID (or unset it: no invites)")]
    if not any(action.get("type") == "VOICE_CALL" for action in _actions(body)):
        return [fail("Call invite template", f"{sid} has no VOICE_CALL action: its message has no \"Call us\" button",
                     'create a twilio/call-to-action template with {"type": "VOICE_CALL", "title": "Call us"}')]
    findings = [ok("Call invite template", f"{sid} ({body.get('friendly_name')}) has the VOICE_CALL action")]
    return findings + _approval(sid, "Call invite approval", "the invite")


def _approval(sid: str, subject: str, what: str) -> list:
    """WhatsApp's review of a template: approved, under review (a warning) or not (a failure)."""
    findings = []
    status, approval = get(f"{CONTENT}/{sid}/ApprovalRequests")
    state = ((approval.get("whatsapp") or {}).get("status") or "unsubmitted").lower() if status == 200 else None
    submit = f"submit it for approval: POST {CONTENT}/{sid}/ApprovalRequests/whatsapp (category UTILITY)"
    if state == "approved":
        findings.append(ok(subject, "WhatsApp approved the template"))
    elif state in ("pending", "received", "in_review"):
        findings.append(warn(subject, f"WhatsApp's review is {state}: until approved, {what} can be "
                             "sent only inside the contact's 24-hour window", "wait for the review (Console > Content Template Builder)"))
    elif state == "rejected":
        reason = (approval.get("whatsapp") or {}).get("rejection_reason") or "no reason given"
        findings.append(fail(subject, f"WhatsApp rejected the template ({reason})", "fix the body and " + submit))
    else:
        findings.append(fail(subject, f"not approved ({state or f'Twilio answered {status}'}): outside the "
                             f"contact's 24-hour window {what} is refused", submit))
    return findings
