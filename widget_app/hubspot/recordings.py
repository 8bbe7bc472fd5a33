"""Call recordings on HubSpot's side: the media URL we give it, telling it a recording is ready, and the
short-lived link of ours that streams the audio from Twilio with our credentials."""
import hmac
import logging
import re

import requests
from flask import current_app
from itsdangerous import (
    BadSignature,
    SignatureExpired,
    TimestampSigner,
    URLSafeTimedSerializer,
)

from widget_app.core.clock import utcnow
from widget_app.core.errors import DomainError
from widget_app.hubspot.urls import paths
from widget_app.models import Call

log = logging.getLogger(__name__)

LINK_MAX_AGE = 15 * 60  # seconds an authenticatedUrl stays valid
WA_CALL_PREFIX = "wa-call-"  # hs_call_external_id of a call that has no Twilio sid
# A Twilio CallSid: 128 bits Twilio draws for each call leg, never sequential. Every recorded call is known to
# HubSpot by one (hs_call_external_id), unlike wa-call-<our id>, which is guessable and needs a signature.
TWILIO_CALL_SID = re.compile(r"CA[0-9a-f]{32}")
# Headers of Twilio's media answer that matter to a player seeking through the file (206 Range).
RELAYED_HEADERS = ("Content-Type", "Content-Length", "Content-Range", "Accept-Ranges", "ETag",
                   "Last-Modified")
CHUNK = 64 * 1024


def media_url(call: Call) -> str:
    """Twilio's WAV (dual-channel, what HubSpot's transcription wants) for the stored recording."""
    url = call.recording_url
    return url if url.endswith((".wav", ".mp3")) else url + ".wav"


def mark_ready(client, engagement_id: str):
    """Tell HubSpot the engagement's recording can be fetched and transcribed (reference §5.2; 204)."""
    client.request("POST", paths().recordings_ready, json={"engagementId": int(engagement_id)})


def call_for_external_id(external_id: str) -> Call:
    """The call HubSpot names by hs_call_external_id (our Twilio sid, or wa-call-<id>)."""
    call = None
    if external_id.startswith(WA_CALL_PREFIX) and external_id[len(WA_CALL_PREFIX):].isdigit():
        call = Call.get_or_none(Call.id == int(external_id[len(WA_CALL_PREFIX):]))
    elif external_id:
        call = Call.by_twilio_sid(external_id)
    if call is None or not call.recording_url:
        raise DomainError("recording_not_found", "There is no recording for this call.")
    return call


def unsigned_refusal(external_id: str, app_id: str | None, account_id: str | None, portal_id: str | None) -> str | None:
    """Why HubSpot's unsigned GET for a recording link is refused, or None when it may have one.

    Whether HubSpot signs that GET is undocumented (reference §5.2). Without a signature the path must name
    the call by its unguessable Twilio CallSid, and the query must carry our appId and our account (the
    hs_call_external_account_id we wrote: the Twilio account sid); a portalId, if sent, must be the call's.
    The reason names no call and no number.
    """
    config = current_app.config
    if not TWILIO_CALL_SID.fullmatch(external_id or ""):
        return "the id is not a Twilio CallSid"
    if not config.get("HUBSPOT_APP_ID") or app_id != str(config["HUBSPOT_APP_ID"]):
        return "appId is missing or not ours"
    ours = str(config.get("TWILIO_ACCOUNT_SID") or "")
    if not ours or not account_id or not hmac.compare_digest(account_id.encode(), ours.encode()):
        return "externalAccountId is missing or not ours"
    call = Call.by_twilio_sid(external_id)
    if portal_id is not None and call is not None and call.hubspot_portal_id and portal_id != call.hubspot_portal_id:
        return "portalId is not the call's portal"
    return None


class _ClockSigner(TimestampSigner):
    """itsdangerous timestamps from our clock, so tests can move time."""

    def get_timestamp(self) -> int:
        return int(utcnow().timestamp())


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="recording-audio",
                                  signer=_ClockSigner)


def audio_token(call: Call) -> str:
    """A token naming one recording, good for LINK_MAX_AGE seconds."""
    return _serializer().dumps({"call": call.id, "rec": call.recording_sid})


def call_for_audio_token(token: str, external_id: str) -> Call:
    """The call a valid, unexpired token was issued for (and the link's path names); else 403."""
    try:
        data = _serializer().loads(token or "", max_age=LINK_MAX_AGE)
    except SignatureExpired:
        raise DomainError("link_expired", "This recording link has expired; ask HubSpot for a new one.") from None
    except BadSignature:
        raise DomainError("invalid_token", "This recording link is not valid.") from None
    call = Call.get_or_none(Call.id == data.get("call"))
    if call is None or call.recording_sid != data.get("rec") or not call.recording_url:
        raise DomainError("invalid_token", "This recording link is not valid.")
    if external_id not in (call.sid, call.parent_sid, f"{WA_CALL_PREFIX}{call.id}"):
        raise DomainError("invalid_token", "This recording link is not valid.")
    return call


def open_media(call: Call, range_header: str | None) -> requests.Response:
    """Ask Twilio for the audio with our account's Basic auth, passing the player's Range on."""
    headers = {"Accept-Encoding": "identity"}  # relay bytes as stored, so Content-Length holds
    if range_header:
        headers["Range"] = range_header
    auth = (current_app.config["TWILIO_ACCOUNT_SID"], current_app.config["TWILIO_AUTH_TOKEN"])
    http = current_app.extensions.get("twilio_media_session") or requests  # demo mode: its Twilio cloud's media
    try:
        upstream = http.get(media_url(call), auth=auth, headers=headers, stream=True, timeout=(5, 30))
    except requests.RequestException as exc:
        log.warning("recording %s unreachable: %s", call.recording_sid, exc)
        raise DomainError("recording_unavailable", "Twilio did not deliver the recording.") from None
    if upstream.status_code in (200, 206, 416):
        return upstream
    upstream.close()
    log.warning("recording %s: Twilio answered %s", call.recording_sid, upstream.status_code)
    if upstream.status_code == 404:
        raise DomainError("recording_not_found", "Twilio no longer has this recording.")
    raise DomainError("recording_unavailable", "Twilio did not deliver the recording.")


def relay(upstream: requests.Response):
    """Body chunks of Twilio's answer, closing the connection when the player stops reading."""
    try:
        yield from upstream.iter_content(CHUNK)
    finally:
        upstream.close()
