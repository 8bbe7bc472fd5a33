"""All the TwiML we answer Twilio with: the outbound WhatsApp dial, inbound ringing, spoken refusals, whispers."""
from flask import Response
from twilio.twiml.voice_response import Dial, VoiceResponse

# Twilio sends status callbacks only for the events asked for (none by default).
STATUS_EVENTS = "initiated ringing answered completed"


def outbound_whatsapp_dial(sender: str, to: str, status_callback: str, dial_attrs: dict | None = None,
                           whisper_url: str | None = None) -> str:
    """Bridge the agent's browser to a WhatsApp user: callerId must be `whatsapp:` + our sender.

    ``dial_attrs`` are extra <Dial> attributes (recording); ``whisper_url`` is TwiML played to the
    contact after they answer and before they hear the agent (the recording consent notice).
    """
    response = VoiceResponse()
    dial = response.dial(caller_id=f"whatsapp:{sender}", answer_on_bridge=True, **(dial_attrs or {}))
    noun_attrs = {"url": whisper_url, "method": "POST"} if whisper_url else {}
    # The destination is plain E.164: `<Number>whatsapp:+…</Number>` is not a documented form.
    dial.whats_app(to, status_callback=status_callback, status_callback_method="POST",
                   status_callback_event=STATUS_EVENTS, **noun_attrs)
    return str(response)


def say_and_hang_up(text: str) -> str:
    """Tell the caller why nothing happens, then end the call."""
    response = VoiceResponse()
    response.say(text)
    response.hangup()
    return str(response)


def say(text: str | None) -> str:
    """Speak a sentence (if any) and let Twilio carry on (a whisper before the parties are bridged)."""
    response = VoiceResponse()
    if text:
        response.say(text)
    return str(response)


def twiml_response(twiml: str) -> Response:
    """Return TwiML as Twilio expects it."""
    return Response(twiml, mimetype="text/xml")


def hang_up() -> str:
    response = VoiceResponse()
    response.hangup()
    return str(response)


def ring_agents(identities: list[str], call_id: int, *, action: str, status_callback: str, timeout: int,
                consent: str | None = None, dial_attrs: dict | None = None) -> str:
    """Ring agents' browsers for an inbound call (first to answer is bridged); ``action`` hears how it ended.

    Each <Client> carries our CallId, so the browser knows which call rings; ``consent`` is spoken to
    the caller before anyone is connected (the recording notice).
    """
    response = VoiceResponse()
    if consent:
        response.say(consent)
    dial = Dial(answer_on_bridge=True, timeout=timeout, action=action, **(dial_attrs or {}))
    for identity in identities:
        client = dial.client(status_callback=status_callback, status_callback_event=STATUS_EVENTS)
        client.identity(identity)
        client.parameter(name="CallId", value=str(call_id))
    response.append(dial)
    return str(response)


def record_voicemail(prompts: list[str], *, action: str, recording_status_callback: str, max_length: int) -> str:
    """A caller nobody answered: speak the prompts (why, the greeting, the consent notice), then record after
    a beep. ``action`` hears when the recording ends (without it Twilio would fetch this TwiML again);
    ``recording_status_callback`` hears when the audio is ready."""
    response = VoiceResponse()
    for prompt in prompts:
        response.say(prompt)
    response.record(action=action, method="POST", max_length=max_length, play_beep=True, timeout=5,
                    recording_status_callback=recording_status_callback, recording_status_callback_method="POST",
                    recording_status_callback_event="completed")
    response.hangup()  # reached only if Twilio could not record at all
    return str(response)
