"""TwiML we answer Twilio with, parsed as XML: nouns and attributes, not substrings."""
import xml.etree.ElementTree as ET

from widget_app.twilio.twiml import outbound_whatsapp_dial, say, say_and_hang_up

STATUS_URL = "https://widget.example.com/twilio/voice/status"


def test_outbound_dial_bridges_to_the_whatsapp_user_from_our_sender():
    root = ET.fromstring(outbound_whatsapp_dial("+442071838750", "+447400123456", STATUS_URL))
    assert root.tag == "Response"
    [dial] = list(root)
    assert dial.tag == "Dial"
    assert dial.get("callerId") == "whatsapp:+442071838750"
    assert dial.get("answerOnBridge") == "true"
    [whatsapp] = list(dial)
    assert whatsapp.tag == "WhatsApp"
    assert whatsapp.text == "+447400123456"  # plain E.164, no whatsapp: prefix inside the noun
    assert whatsapp.get("statusCallback") == STATUS_URL
    assert whatsapp.get("statusCallbackMethod") == "POST"
    assert whatsapp.get("statusCallbackEvent").split() == ["initiated", "ringing", "answered", "completed"]
    assert whatsapp.get("url") is None
    assert dial.get("record") is None


def test_outbound_dial_carries_recording_attributes_and_the_consent_whisper():
    attrs = {"record": "record-from-answer-dual", "recordingStatusCallback": "https://w/twilio/recording/status"}
    root = ET.fromstring(outbound_whatsapp_dial("+442071838750", "+447400123456", STATUS_URL, dial_attrs=attrs,
                                                whisper_url="https://w/twilio/voice/consent"))
    dial = root.find("Dial")
    assert dial.get("record") == "record-from-answer-dual"
    assert dial.get("recordingStatusCallback") == "https://w/twilio/recording/status"
    whatsapp = dial.find("WhatsApp")
    assert whatsapp.get("url") == "https://w/twilio/voice/consent"
    assert whatsapp.get("method") == "POST"


def test_refusal_speaks_the_reason_then_hangs_up():
    root = ET.fromstring(say_and_hang_up("No permission & no call <today>."))
    assert [child.tag for child in root] == ["Say", "Hangup"]
    assert root.find("Say").text == "No permission & no call <today>."


def test_whisper_without_text_is_an_empty_response():
    assert list(ET.fromstring(say(None))) == []
    assert ET.fromstring(say("Recorded.")).find("Say").text == "Recorded."
