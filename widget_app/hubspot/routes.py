"""HubSpot's side of the web: installing the app in a portal (OAuth), and the requests HubSpot sends
us (help desk channel connection, authenticated call recordings), each verified by its signature."""
import hmac
import logging
import secrets
from functools import wraps
from urllib.parse import quote, urlencode

from flask import (
    Blueprint,
    Response,
    current_app,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from itsdangerous import BadSignature, URLSafeTimedSerializer

from widget_app.agents.signin import authenticate
from widget_app.calls.senders import all_senders
from widget_app.config import public_base_url
from widget_app.core.errors import DomainError
from widget_app.core.ids import is_id
from widget_app.hubspot import portals, recordings
from widget_app.hubspot.client import HubSpotError
from widget_app.hubspot.signatures import request_is_signed
from widget_app.models import Agent
from widget_app.web.auth import current_agent, login_required
from widget_app.web.errors import HttpError
from widget_app.web.jsonbody import json_body
from widget_app.web.security import content_security_policy, frame_ancestors

bp = Blueprint("hubspot", __name__)
AUTHORIZE_ORIGIN = "https://app.hubspot.com"
AUTHORIZE_URL = f"{AUTHORIZE_ORIGIN}/oauth/authorize"
SCOPES = " ".join(("oauth",) + portals.REQUIRED_SCOPES)
STATE_COOKIE, STATE_MAX_AGE = "hubspot_oauth_nonce", 600

SIGNATURE_HEADERS = ("X-HubSpot-Signature-v3", "X-HubSpot-Request-Timestamp", "X-HubSpot-Signature")
log = logging.getLogger(__name__)

FRIENDLY_NAME_MAX = 24  # HubSpot cuts longer names; we cut them ourselves so the user sees ours


def hubspot_verified(versions=("v3",)):
    """Refuse (401, the same answer whatever was wrong) a request HubSpot did not sign."""
    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not request_is_signed(versions):
                raise HttpError(401, "invalid_signature", "The HubSpot signature is missing, invalid or expired.")
            return view(*args, **kwargs)
        return wrapper
    return decorate


# ---- requests HubSpot sends ---------------------------------------------------------------------


# HubSpot's help desk signs this webhook with v3 (reference §3, §5.5): v1 and v2 carry no timestamp,
# so a captured request would replay forever; they are refused here.
@bp.post("/hubspot/channel-connection")
@hubspot_verified(versions=("v3",))
def channel_connection():
    """HubSpot's help desk asks which of our WhatsApp numbers a user may connect as a phone channel."""
    json_body(appId=int, portalId=int, userId=int)
    numbers = [{"e164PhoneNumber": sender["e164"], "extension": "",
                "friendlyName": (sender["friendly_name"] or sender["e164"])[:FRIENDLY_NAME_MAX]}
               for sender in all_senders()]
    return jsonify(phoneNumbers=numbers)


def _signed_as() -> str | None:
    """The signature form a request verifies under: "v3", "v2" (HubSpot's GETs elsewhere), or None.

    Not v1: for a GET it signs only the empty body, so one leaked header would open every recording.
    A request carrying v3's headers is judged as v3 only (checked for age), never downgraded to v2.
    """
    for version in ("v3", "v2"):
        if request_is_signed((version,)):
            return version
    return None


# Whether HubSpot signs this GET is undocumented (reference §5.2). A valid signature is enough; without one
# the path must name the call by its unguessable Twilio CallSid and the query carry our appId and account
# (recordings.unsigned_refusal). Which case happened is logged, so the first real portal shows what it sends.
@bp.get("/hubspot/recordings/<call_id>")
def recording_link(call_id):
    """HubSpot asks where to fetch a call's recording: a link of ours, valid for 15 minutes."""
    app_id = request.args.get("appId")
    if app_id is not None and not is_id(app_id):
        raise DomainError("invalid_field", "appId must be a number.", field="appId")
    signed = _signed_as()
    if signed is None:
        refusal = recordings.unsigned_refusal(call_id, app_id, request.args.get("externalAccountId"),
                                              request.args.get("portalId"))
        attempted = any(name in request.headers for name in SIGNATURE_HEADERS)
        if refusal:
            log.warning("recording link refused: %s request, %s", "badly signed" if attempted else "unsigned", refusal)
            raise HttpError(401, "invalid_signature", "The HubSpot signature is missing, invalid or expired.")
    call = recordings.call_for_external_id(call_id)
    if signed:
        log.info("recording link for call %s: signed %s", call.id, signed)
    else:
        log.info("recording link for call %s: %s, by CallSid with our appId and account", call.id,
                 "signature invalid" if attempted else "unsigned")
    path = url_for("hubspot.recording_audio", call_id=call_id, token=recordings.audio_token(call))
    return jsonify(authenticatedUrl=public_base_url() + path)


@bp.get("/hubspot/recordings/<call_id>/audio")
def recording_audio(call_id):
    """Stream the audio from Twilio with our credentials; Range passes through so players can seek."""
    call = recordings.call_for_audio_token(request.args.get("token", ""), call_id)
    upstream = recordings.open_media(call, request.headers.get("Range"))
    headers = {name: upstream.headers[name] for name in recordings.RELAYED_HEADERS if name in upstream.headers}
    headers.setdefault("Accept-Ranges", "bytes")
    headers["Cache-Control"] = "private, no-store"
    return Response(recordings.relay(upstream), status=upstream.status_code, headers=headers,
                    direct_passthrough=True)


# ---- installing the app in a portal -------------------------------------------------------------

def _state_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="hubspot-oauth-state")


@bp.get("/hubspot/oauth/install")
def install():
    """The install page: an admin signs in here, in a window of our own, before HubSpot's consent screen."""
    _require_oauth()
    response = make_response(render_template("hubspot/install.html"))
    # The form's answer redirects to HubSpot: form-action must allow it (browsers apply it to the redirect).
    response.headers["Content-Security-Policy"] = content_security_policy(
        frame_ancestors(current_app), form_action=f"'self' {AUTHORIZE_ORIGIN}")
    return response


@bp.post("/hubspot/oauth/install")
def start_install():
    """An admin's credentials start an install whose state names them; anyone else gets 401 or 403."""
    _require_oauth()
    email, password = request.form.get("email", ""), request.form.get("password", "")
    agent = authenticate(email, password, request.remote_addr or "unknown")
    if not agent.is_admin:
        raise DomainError("admin_required", "Only an admin can install the app in a HubSpot account.")
    nonce = secrets.token_urlsafe(24)
    state = _state_serializer().dumps({"n": nonce, "a": agent.id, "v": agent.token_version})
    query = urlencode({"client_id": current_app.config["HUBSPOT_CLIENT_ID"], "redirect_uri": portals.redirect_uri(current_app),
                       "scope": SCOPES, "state": state}, quote_via=quote)
    response = redirect(f"{AUTHORIZE_URL}?{query}")
    response.set_cookie(STATE_COOKIE, nonce, max_age=STATE_MAX_AGE, secure=True, httponly=True,
                        samesite="Lax", path="/hubspot/oauth")
    return response


def _require_oauth():
    if not (current_app.config.get("HUBSPOT_CLIENT_ID") and current_app.config.get("HUBSPOT_CLIENT_SECRET")):
        raise DomainError("oauth_not_configured", "Set HUBSPOT_CLIENT_ID and HUBSPOT_CLIENT_SECRET to install.")


def _installing_admin(state: str) -> Agent:
    """The admin who started this install in this browser, still signed in and still an admin; else 400."""
    try:
        data = _state_serializer().loads(state, max_age=STATE_MAX_AGE)
    except BadSignature:  # includes SignatureExpired
        raise DomainError("invalid_state", "The install link is invalid or expired; start again.") from None
    if not isinstance(data, dict) or not isinstance(data.get("n"), str) or \
            not hmac.compare_digest(data["n"], request.cookies.get(STATE_COOKIE, "")):
        raise DomainError("invalid_state", "The install was started in another browser; start again.")
    admin = Agent.get_or_none(Agent.id == data.get("a")) if isinstance(data.get("a"), int) else None
    if admin is None or not admin.active or not admin.is_admin or admin.token_version != data.get("v"):
        raise DomainError("invalid_state", "The admin who started this install signed out; start again.")
    return admin


@bp.get("/hubspot/oauth/callback")
def callback():
    """HubSpot's redirect after consent: check the state is this browser's admin's, store the portal's tokens."""
    if request.args.get("error"):
        raise DomainError("oauth_denied", request.args.get("error_description") or "The install was not approved.")
    code, state = request.args.get("code"), request.args.get("state")
    if not code or not state:
        raise DomainError("invalid_request", "The callback needs both code and state.")
    admin = _installing_admin(state)
    try:
        portal = portals.exchange_code(current_app._get_current_object(), code, installed_by=admin)
    except (HubSpotError, KeyError) as exc:
        raise DomainError("hubspot_error", f"HubSpot did not complete the install: {exc}") from None
    response = make_response(render_template("hubspot/installed.html", portal=portal))
    response.delete_cookie(STATE_COOKIE, path="/hubspot/oauth", secure=True, httponly=True, samesite="Lax")
    return response


@bp.get("/api/hubspot/status")
@login_required
def status():
    """Tell the widget whether HubSpot is reachable for this agent's portal or must be reinstalled."""
    portal_id = current_agent().hubspot_portal_id
    portal = portals.portal_for(current_app, portal_id)
    private_app = bool(current_app.config.get("HUBSPOT_ACCESS_TOKEN"))
    needs_reinstall = bool(portal and portal.needs_reinstall)
    return jsonify({"portal_id": portal_id, "connected": not needs_reinstall if portal else private_app,
                    "auth": "oauth" if portal else ("private_app" if private_app else None),
                    "needs_reinstall": needs_reinstall, "install_url": "/hubspot/oauth/install"})
