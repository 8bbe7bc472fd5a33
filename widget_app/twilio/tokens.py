"""Access tokens for the agent's browser (Twilio Voice SDK), signed with our API key, never the auth token."""
from datetime import timedelta

from flask import current_app
from twilio.jwt.access_token import AccessToken
from twilio.jwt.access_token.grants import VoiceGrant

from widget_app.core.clock import isoformat, utcnow

TOKEN_TTL = 3600  # the browser refreshes on `tokenWillExpire`; Twilio's maximum is 24 h


def voice_token(identity: str) -> dict:
    """A token letting this browser dial out through our TwiML App and be rung as ``identity``."""
    config = current_app.config
    now = utcnow()
    token = AccessToken(config["TWILIO_ACCOUNT_SID"], config["TWILIO_API_KEY_SID"],
                        config["TWILIO_API_KEY_SECRET"], identity=identity, ttl=TOKEN_TTL,
                        nbf=int(now.timestamp()) - 1, valid_until=int(now.timestamp()) + TOKEN_TTL)
    token.add_grant(VoiceGrant(outgoing_application_sid=config["TWILIO_TWIML_APP_SID"], incoming_allow=True))
    jwt = token.to_jwt()
    return {"token": jwt if isinstance(jwt, str) else jwt.decode(), "identity": identity,
            "expires_at": isoformat(now + timedelta(seconds=TOKEN_TTL))}
