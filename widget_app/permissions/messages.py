"""Permission requests and replies as WhatsApp messages: send through Twilio, apply answers and delivery.

Delivery decisions: a request Twilio refuses (REST error) or later reports ``failed`` was never
handed to WhatsApp, so it does not count against Meta's limits. ``undelivered`` means WhatsApp got
it but could not reach the phone: it still counts (Meta may have counted it; erring this way keeps
the number safe), but nothing is pending any more. Either way a pending status goes back to none.
"""
import contextlib
import logging
from datetime import timedelta

from flask import current_app, url_for
from requests import RequestException
from twilio.base.exceptions import TwilioException, TwilioRestException

from widget_app.config import public_base_url
from widget_app.core.clock import isoformat, utcnow
from widget_app.core.errors import DomainError
from widget_app.core.phone import masked, twilio_e164
from widget_app.models import Permission, PermissionRequest, WebhookEvent, db
from widget_app.permissions import ledger as store
from widget_app.permissions import rules
from widget_app.twilio.client import refusal_text, twilio_client
from widget_app.twilio.permission_reply import parse_reply

log = logging.getLogger(__name__)
LEASE = timedelta(seconds=60)  # one request per contact in flight, even across workers
DELIVERY_RANK = {"unknown": 0, "sending": 0, "accepted": 1, "scheduled": 1, "queued": 1, "sent": 3,
                 "delivered": 4, "read": 5, "failed": 9, "undelivered": 9, "canceled": 9}
NOT_REACHED = ("failed", "undelivered", "canceled")


@contextlib.contextmanager
def _sending_to(phone: str, now, busy: str):
    """Hold the contact's send lease while a request or an invite goes out: one message in flight per
    contact, across workers (a lease left by a killed worker expires after LEASE); ``busy`` if taken."""
    store.ensure_row(phone)
    lease = Permission.update(request_lease_until=now + LEASE).where(
        (Permission.phone == phone) &
        (Permission.request_lease_until.is_null() | (Permission.request_lease_until <= now))).execute()
    if not lease:
        raise DomainError("request_in_progress", busy)
    try:
        yield
    finally:
        Permission.update(request_lease_until=None).where(Permission.phone == phone).execute()


def send_request(phone: str, agent) -> dict:
    """Ask the contact for call permission, once Meta's limits allow; 502 twilio_error if Twilio refuses."""
    phone, now = twilio_e164(phone), utcnow()
    with _sending_to(phone, now, "A request to this contact is being sent right now."):
        _expire_stale(phone, now)
        verdict = rules.request_verdict(store.history(phone, now), now, store.limits())
        if not verdict.allowed:
            extra = {} if verdict.code == "already_granted" else {"retry_at": isoformat(verdict.changes_at)}
            raise DomainError(verdict.code, verdict.reason, permission=store.permission_json(phone), **extra)
        row = PermissionRequest.create(phone=phone, kind="request", agent=agent, status="sending", created_at=now)
        message = _send(row)
        row.message_sid, row.status = message.sid, message.status or "queued"
        row.save()
        store.change(phone, lambda grant, at: rules.requested(grant, at), now=now)
    return store.permission_json(phone)


def send_invite(phone: str, agent) -> dict:
    """Send the contact our "Call us" template (a VOICE_CALL button: a call they start needs no permission),
    audited as a PermissionRequest of kind ``invite``; as many per day and week as requests, counted apart.
    Returns the permission object (its ``invite`` says when it went)."""
    content_sid = current_app.config.get("TWILIO_CALL_INVITE_CONTENT_SID")
    if not content_sid:
        raise DomainError("invite_not_configured", "Call invites are off: set TWILIO_CALL_INVITE_CONTENT_SID.")
    phone, now = twilio_e164(phone), utcnow()
    with _sending_to(phone, now, "A message to this contact is being sent right now."):
        free_at = rules.invite_free_at([row.created_at for row in store.invites_sent(phone, now)], now, store.limits())
        if free_at is not None:
            raise DomainError("permission_rate_limited", f"Call invites are limited like call requests; you can "
                              f"invite this contact again at {free_at.strftime('%Y-%m-%d %H:%M UTC')}.",
                              retry_at=isoformat(free_at), permission=store.permission_json(phone))
        row = PermissionRequest.create(phone=phone, kind="invite", agent=agent, status="sending", created_at=now)
        message = _send(row, content_sid)
        row.message_sid, row.status = message.sid, message.status or "queued"
        row.save()
    log.info("call invite %s sent (%s)", row.id, row.message_sid)
    return store.permission_json(phone)


def _send(row: PermissionRequest, content_sid: str | None = None):
    """messages.create with an approved template (by default our VOICE_CALL_REQUEST one); a refusal is
    audited, not counted."""
    config = current_app.config
    sender = config["TWILIO_WHATSAPP_NUMBER"]
    try:
        return twilio_client().messages.create(
            to=f"whatsapp:{row.phone}",
            from_=sender if sender.startswith("whatsapp:") else f"whatsapp:{sender}",
            content_sid=content_sid or config["TWILIO_PERMISSION_CONTENT_SID"],
            status_callback=public_base_url() + url_for("twilio.message_status"))
    except TwilioRestException as exc:
        row.status, row.error = "failed", refusal_text(exc)
        row.save()
        log.warning("permission request %s refused by Twilio: %s %s", row.id, exc.code, exc.msg)
        raise DomainError("twilio_error", f"Twilio refused the request. {refusal_text(exc)}",
                       twilio_code=exc.code, twilio_status=exc.status) from None
    except (TwilioException, RequestException) as exc:
        row.status, row.error = "unknown", "Twilio unreachable"  # it may have gone out: it counts
        row.save()
        log.warning("permission request %s: Twilio unreachable: %s", row.id, exc)
        raise DomainError("twilio_error", "Twilio could not be reached; the request may or may not have been sent.",
                       twilio_code=None, twilio_status=None) from None


def _expire_stale(phone: str, now):
    """Audit: requests nobody answered within 7 days are marked expired."""
    (PermissionRequest.update(outcome="expired")
     .where((PermissionRequest.phone == phone) & (PermissionRequest.kind == "request") &
            PermissionRequest.outcome.is_null() & (PermissionRequest.created_at <= now - rules.REQUEST_TTL))
     .execute())


def raw_form(form) -> dict:
    """Every field as Twilio sent it (repeated fields as lists), for the audit row and the log."""
    if hasattr(form, "lists"):
        return {key: values[0] if len(values) == 1 else values for key, values in form.lists()}
    return dict(form)


def apply_reply(form) -> PermissionRequest | None:
    """Store every inbound message; apply a permission answer. The same MessageSid twice changes nothing.

    Twilio's button answer counts only from a contact we asked (an open request closes); Meta's
    native replies stand on their own (a permanent grant from the business profile, a callback
    grant, WhatsApp's own revocation). Free text never grants anything.
    """
    sid, raw = form.get("MessageSid") or form.get("SmsMessageSid"), raw_form(form)
    if not sid:
        raise DomainError("missing_field", "MessageSid is required.", field="MessageSid")
    phone, now = twilio_e164(form.get("From", "")), utcnow()
    reply = parse_reply(form)
    # Only the structure is logged: a message body is the contact's personal data.
    log.info("twilio messaging webhook %s: MessageType=%s ButtonPayload=%s fields=%s", sid, form.get("MessageType"),
             form.get("ButtonPayload"), sorted(raw))
    with db.atomic():
        if not WebhookEvent.record_once(f"twilio-messaging:{sid}", "twilio-messaging", raw):
            return None  # Twilio retried
        asked = _open_request(phone, form.get("OriginalRepliedMessageSid") or None, now)
        status = _reply_status(reply, asked)
        row = PermissionRequest.create(
            phone=phone, kind="reply", message_sid=sid, status=status,
            outcome=status if status in ("accepted", "declined", "revoked") else None, raw=raw,
            in_reply_to=asked.message_sid if asked else form.get("OriginalRepliedMessageSid") or None,
            permanent=bool(reply and reply.permanent), expires_at=reply.expires_at if reply else None,
            created_at=now, answered_at=now if status in ("accepted", "declined", "revoked") else None)
        changed = False
        if status == "revoked":
            changed = store.change(phone, lambda grant, at: rules.revoked(
                grant, "WhatsApp withdrew the permission (an automatic reply, e.g. after unanswered calls)."),
                now=now, notify_widgets=False)
        elif status in ("accepted", "declined"):
            if asked is not None:
                asked.outcome, asked.answered_at = status, now
                asked.save(only=[PermissionRequest.outcome, PermissionRequest.answered_at])
            changed = store.change(phone, lambda grant, at: rules.replied(grant, reply, at, store.limits()),
                                   now=now, notify_widgets=False)
    if status == "unsolicited":
        log.warning("a permission answer from %s, whom we never asked (no open request); nothing granted", masked(phone))
    elif reply is None and form.get("ButtonPayload"):
        log.warning("message %s has a button payload that is not a permission answer; ignored", sid)
    if changed:
        store.notify(phone)
    return row


def _reply_status(reply, asked) -> str:
    """How the audit records a message: accepted, declined, revoked, unsolicited (nobody asked), ignored."""
    if reply is None:
        return "ignored"
    if reply.is_revocation:
        return "revoked"
    if reply.source == "twilio_button" and asked is None:
        return "unsolicited"
    return "accepted" if reply.accepted else "declined"


def _open_request(phone: str, quoted_sid: str | None, now) -> PermissionRequest | None:
    """The request a reply answers: the one it quotes, else the latest still-open request to this contact."""
    open_requests = PermissionRequest.select().where(
        (PermissionRequest.phone == phone) & (PermissionRequest.kind == "request") &
        (PermissionRequest.status.not_in(("failed",))) & PermissionRequest.outcome.is_null() &
        (PermissionRequest.created_at > now - rules.REQUEST_TTL))
    if quoted_sid:
        quoted = open_requests.where(PermissionRequest.message_sid == quoted_sid).first()
        if quoted is not None:
            return quoted
    return open_requests.order_by(PermissionRequest.created_at.desc(), PermissionRequest.id.desc()).first()


def apply_delivery_status(form) -> PermissionRequest | None:
    """Move a request's delivery status forward; a request that never reached the contact stops being pending."""
    sid = form.get("MessageSid") or form.get("SmsSid")
    status = (form.get("MessageStatus") or form.get("SmsStatus") or "").lower()
    if not sid or not status:
        raise DomainError("missing_field", "MessageSid and MessageStatus are required.")
    # Field names and the status only: the form also carries the contact's number (personal data).
    log.info("twilio message status %s: %s ErrorCode=%s fields=%s", sid, status, form.get("ErrorCode"),
             sorted(raw_form(form)))
    with db.atomic():
        row = PermissionRequest.get_or_none((PermissionRequest.message_sid == sid) &
                                            PermissionRequest.kind.in_(("request", "invite")))
        if row is None:
            log.info("status %s for a message that is not one of our permission requests (%s)", status, sid)
            return None
        if not WebhookEvent.record_once(f"twilio-messaging-status:{sid}:{status}", "twilio-messaging-status",
                                        raw_form(form)):
            return row
        if DELIVERY_RANK.get(status, -1) <= DELIVERY_RANK.get(row.status, 0):
            return row  # late or unknown: statuses only move forward
        row.status = status
        if status in NOT_REACHED:
            row.error = f"Twilio error {form.get('ErrorCode') or '?'}: {form.get('ErrorMessage') or status}"
        row.save(only=[PermissionRequest.status, PermissionRequest.error])
        newer = (PermissionRequest.select().where((PermissionRequest.phone == row.phone) &
                                                  (PermissionRequest.kind == "request") &
                                                  (PermissionRequest.id > row.id)).exists())
        if status in NOT_REACHED and not newer and row.kind == "request":  # an invite asked for no permission
            store.change(row.phone, lambda grant, at: rules.undelivered(grant), notify_widgets=False)
    store.notify(row.phone)  # every step shows on the widget's pending screen (sent, delivered, read)
    return row
