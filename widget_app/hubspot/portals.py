"""OAuth install per HubSpot portal (CONTRACT §5, reference §4): consent, code exchange, refresh."""
import hmac
import logging
import secrets
from datetime import timedelta
from urllib.parse import quote, urlencode

from flask import (
    Blueprint,
    current_app,
    has_request_context,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
)
from itsdangerous import BadSignature, URLSafeTimedSerializer

from widget_app.agents.routes import current_agent, login_required
from widget_app.core.clock import utcnow
from widget_app.web.errors import ApiError
from widget_app.models import Portal
from widget_app.hubspot.client import HubSpotError, hubspot_client

bp = Blueprint("hubspot_oauth", __name__)
log = logging.getLogger(__name__)
AUTHORIZE_URL = "https://app.hubspot.com/oauth/authorize"
SCOPES = "oauth crm.objects.contacts.read crm.objects.contacts.write crm.objects.owners.read"
STATE_COOKIE, STATE_MAX_AGE = "hubspot_oauth_nonce", 600
REFRESH_MARGIN = timedelta(minutes=5)  # refresh this long before HubSpot's expiry, never after a 401


def redirect_uri(app) -> str:
    """Where HubSpot sends the admin back; the token endpoint wants the same value again."""
    base = app.config.get("PUBLIC_BASE_URL") or (request.host_url if has_request_context() else "")
    return base.rstrip("/") + "/hubspot/oauth/callback"


def _state_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="hubspot-oauth-state")


def _token_request(app, form: dict, idempotent: bool) -> dict:
    """POST the form-encoded token endpoint (no Bearer header; client id and secret in the form)."""
    form = {"client_id": app.config["HUBSPOT_CLIENT_ID"], "client_secret": app.config["HUBSPOT_CLIENT_SECRET"],
            **form}
    client = hubspot_client(app=app)
    return client.request("POST", "/oauth/v1/token", data=form, auth=False, idempotent=idempotent)


def _store_tokens(portal: Portal, tokens: dict):
    portal.access_token = tokens["access_token"]
    portal.refresh_token = tokens.get("refresh_token") or portal.refresh_token
    portal.expires_at = utcnow() + timedelta(seconds=int(tokens.get("expires_in") or 0))
    portal.needs_reinstall, portal.updated_at = False, utcnow()
    portal.save()


def exchange_code(app, code: str) -> Portal:
    """Turn the callback's code into tokens and remember them under the portal (hub_id) they belong to."""
    tokens = _token_request(app, {"grant_type": "authorization_code", "redirect_uri": redirect_uri(app),
                                  "code": code}, idempotent=False)
    info = hubspot_client(app=app).request("GET", f"/oauth/v1/access-tokens/{quote(tokens['access_token'], safe='')}",
                                           auth=False)
    portal = Portal.get_or_none(Portal.portal_id == str(info["hub_id"])) or Portal(portal_id=str(info["hub_id"]))
    _store_tokens(portal, tokens)
    log.info("HubSpot portal %s installed the app", portal.portal_id)
    return portal


def refresh(app, portal: Portal) -> Portal:
    """Get a fresh access token; a dead refresh token marks the portal as needing a reinstall."""
    form = {"grant_type": "refresh_token", "redirect_uri": redirect_uri(app), "refresh_token": portal.refresh_token}
    try:
        tokens = _token_request(app, form, idempotent=True)
    except HubSpotError as exc:
        body = exc.body
        if exc.status == 400 and (body.get("status") == "BAD_REFRESH_TOKEN" or body.get("error") == "invalid_grant"):
            Portal.update(needs_reinstall=True, updated_at=utcnow()).where(Portal.id == portal.id).execute()
            raise reinstall_error(portal.portal_id, str(exc)) from exc
        raise
    _store_tokens(portal, tokens)
    return portal


def reinstall_error(portal_id, detail="") -> HubSpotError:
    return HubSpotError(f"HubSpot access for portal {portal_id} was revoked: reinstall the app. {detail}".strip(),
                        status=400, code="reinstall_required")


def portal_for(app, portal_id=None) -> Portal | None:
    """The installed portal whose token serves ``portal_id`` (None: the private-app token does)."""
    portal = Portal.get_or_none(Portal.portal_id == str(portal_id)) if portal_id else None
    if portal is None and not app.config.get("HUBSPOT_ACCESS_TOKEN") and portal_id is None:
        portal = Portal.select().order_by(Portal.installed_at.desc()).first()
    return portal


def access_token(app, portal_id=None) -> str:
    """The Bearer token for a portal: its OAuth token (refreshed early), else HUBSPOT_ACCESS_TOKEN."""
    portal = portal_for(app, portal_id)
    if portal is None and app.config.get("HUBSPOT_ACCESS_TOKEN"):
        return app.config["HUBSPOT_ACCESS_TOKEN"]
    if portal is None:
        raise HubSpotError("HubSpot is not connected: set HUBSPOT_ACCESS_TOKEN or install the app.",
                           code="not_connected")
    if portal.needs_reinstall:
        raise reinstall_error(portal.portal_id)
    if portal.expires_at is None or portal.expires_at - utcnow() < REFRESH_MARGIN:
        portal = refresh(app, portal)
    return portal.access_token


@bp.get("/hubspot/oauth/install")
def install():
    """Send a HubSpot admin to the consent screen with a state only this browser can bring back."""
    if not (current_app.config.get("HUBSPOT_CLIENT_ID") and current_app.config.get("HUBSPOT_CLIENT_SECRET")):
        raise ApiError(404, "oauth_not_configured", "Set HUBSPOT_CLIENT_ID and HUBSPOT_CLIENT_SECRET to install.")
    nonce = secrets.token_urlsafe(24)
    query = urlencode({"client_id": current_app.config["HUBSPOT_CLIENT_ID"], "redirect_uri": redirect_uri(current_app),
                       "scope": SCOPES, "state": _state_serializer().dumps(nonce)}, quote_via=quote)
    response = redirect(f"{AUTHORIZE_URL}?{query}")
    response.set_cookie(STATE_COOKIE, nonce, max_age=STATE_MAX_AGE, secure=True, httponly=True,
                        samesite="Lax", path="/hubspot/oauth")
    return response


@bp.get("/hubspot/oauth/callback")
def callback():
    """HubSpot's redirect after consent: check the state, exchange the code, store the portal's tokens."""
    if request.args.get("error"):
        raise ApiError(400, "oauth_denied", request.args.get("error_description") or "The install was not approved.")
    code, state = request.args.get("code"), request.args.get("state")
    if not code or not state:
        raise ApiError(400, "invalid_request", "The callback needs both code and state.")
    try:
        nonce = _state_serializer().loads(state, max_age=STATE_MAX_AGE)
    except BadSignature:  # includes SignatureExpired
        raise ApiError(400, "invalid_state", "The install link is invalid or expired; start again.") from None
    if not isinstance(nonce, str) or not hmac.compare_digest(nonce, request.cookies.get(STATE_COOKIE, "")):
        raise ApiError(400, "invalid_state", "The install was started in another browser; start again.")
    try:
        portal = exchange_code(current_app._get_current_object(), code)
    except (HubSpotError, KeyError) as exc:
        raise ApiError(502, "hubspot_error", f"HubSpot did not complete the install: {exc}") from None
    response = make_response(render_template("hubspot/installed.html", portal=portal))
    response.delete_cookie(STATE_COOKIE, path="/hubspot/oauth", secure=True, httponly=True, samesite="Lax")
    return response


@bp.get("/api/hubspot/status")
@login_required
def status():
    """Tell the widget whether HubSpot is reachable for this agent's portal or must be reinstalled."""
    portal_id = current_agent().hubspot_portal_id
    portal = portal_for(current_app, portal_id)
    private_app = bool(current_app.config.get("HUBSPOT_ACCESS_TOKEN"))
    needs_reinstall = bool(portal and portal.needs_reinstall)
    return jsonify({"portal_id": portal_id, "connected": not needs_reinstall if portal else private_app,
                    "auth": "oauth" if portal else ("private_app" if private_app else None),
                    "needs_reinstall": needs_reinstall, "install_url": "/hubspot/oauth/install"})
