"""What the inbound-call tests send and what HubSpot answers them: Twilio's inbound voice webhook form for a
WhatsApp call to our sender, and HubSpot's contacts search answer naming the caller."""
from tests.helpers import HUBSPOT_API, TEST_SETTINGS

SEARCH_URL = f"{HUBSPOT_API}/crm/objects/2026-03/contacts/search"
CALLER = "+447400123456"
SENDER = TEST_SETTINGS["TWILIO_WHATSAPP_NUMBER"]
OWNER_ID = "789"


def inbound_form(sid="CA" + "a" * 32, caller=CALLER):
    return {"CallSid": sid, "AccountSid": TEST_SETTINGS["TWILIO_ACCOUNT_SID"], "From": f"whatsapp:{caller}",
            "To": f"whatsapp:{SENDER}", "Caller": f"whatsapp:{caller}", "Called": f"whatsapp:{SENDER}",
            "CallStatus": "ringing", "Direction": "inbound", "ApiVersion": "2010-04-01"}


def search_answer(owner_id=OWNER_ID):
    """HubSpot's contacts search answer (reference §2.1) with one contact, Dana Demo."""
    return {"total": 1, "results": [{
        "id": "501", "archived": False, "createdAt": "2026-01-01T10:00:00.000Z",
        "updatedAt": "2026-01-02T10:00:00.000Z",
        "properties": {"firstname": "Dana", "lastname": "Demo", "email": "dana@example.com",
                       "phone": CALLER, "mobilephone": None, "hubspot_owner_id": owner_id,
                       "hs_object_id": "501", "createdate": "2026-01-01T10:00:00.000Z",
                       "lastmodifieddate": "2026-01-02T10:00:00.000Z"}}]}
