"""What the inbound-call tests send and what HubSpot answers them: Twilio's inbound voice webhook form for a
WhatsApp call to our sender, and HubSpot's contacts search answer naming the caller."""
import uuid
from datetime import UTC, datetime

from tests.helpers import HUBSPOT_API, TEST_SETTINGS

SEARCH_URL = f"{HUBSPOT_API}/crm/objects/2026-03/contacts/search"
CALLER = "+447400123456"
SENDER = TEST_SETTINGS["TWILIO_WHATSAPP_NUMBER"]
OWNER_ID = "789"
# Our sender's hours in the business-hours tests (the `lisbon_hours` fixture): Europe/Lisbon, mon-fri 09:00-18:00,
# closed on 2026-06-10
MONDAY_10_LISBON_SUMMER = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)  # 10:00 WEST (UTC+1)
MONDAY_20_LISBON_SUMMER = datetime(2026, 6, 1, 19, 0, tzinfo=UTC)
MONDAY_0830_UTC_WINTER = datetime(2026, 3, 23, 8, 30, tzinfo=UTC)  # 08:30 WET: not yet open
MONDAY_0830_UTC_SUMMER = datetime(2026, 3, 30, 8, 30, tzinfo=UTC)  # 09:30 WEST: open (DST began Mar 29)
HOLIDAY_10_LISBON = datetime(2026, 6, 10, 9, 0, tzinfo=UTC)  # Wednesday, Portugal Day


def inbound_form(sid="CA" + "a" * 32, caller=CALLER):
    """Twilio's inbound voice webhook for a WhatsApp call from ``caller`` to our sender."""
    return {"CallSid": sid, "AccountSid": TEST_SETTINGS["TWILIO_ACCOUNT_SID"], "From": f"whatsapp:{caller}",
            "To": f"whatsapp:{SENDER}", "Caller": f"whatsapp:{caller}", "Called": f"whatsapp:{SENDER}",
            "CallStatus": "ringing", "Direction": "inbound", "ApiVersion": "2010-04-01"}


def new_call_form(caller=CALLER):
    """``inbound_form`` for a call of its own: a fresh CallSid each time."""
    return inbound_form("CA" + uuid.uuid4().hex, caller)


def search_answer(owner_id=OWNER_ID):
    """HubSpot's contacts search answer (reference §2.1) with one contact, Dana Demo."""
    return {"total": 1, "results": [{
        "id": "501", "archived": False, "createdAt": "2026-01-01T10:00:00.000Z",
        "updatedAt": "2026-01-02T10:00:00.000Z",
        "properties": {"firstname": "Dana", "lastname": "Demo", "email": "dana@example.com",
                       "phone": CALLER, "mobilephone": None, "hubspot_owner_id": owner_id,
                       "hs_object_id": "501", "createdate": "2026-01-01T10:00:00.000Z",
                       "lastmodifieddate": "2026-01-02T10:00:00.000Z"}}]}
