"""Where Meta allows business-initiated WhatsApp calls: not from business numbers of some countries.

Reference ``twilio-whatsapp-calling.md`` §1.6 and §1.1: the US, Canada, Egypt, Vietnam, Nigeria (AWS,
Telnyx, Devotel), Turkey (Infobip, respond.io; sources disagree, so we stay on the safe side) and the
sanctioned countries. Twilio answers such a call with error 37007. Crimea, Donetsk and Luhansk share
their country codes with larger regions, so no number prefix can tell them apart.
"""
import phonenumbers

NO_BUSINESS_CALLS = {"US": "the United States", "CA": "Canada", "EG": "Egypt", "VN": "Vietnam", "NG": "Nigeria",
                     "TR": "Turkey", "CU": "Cuba", "IR": "Iran", "KP": "North Korea", "SY": "Syria"}


def outbound_blocked_in(e164: str) -> str | None:
    """The country whose rules forbid this sender to call out (None: it may), by the number's region."""
    try:
        number = phonenumbers.parse(e164)
    except phonenumbers.NumberParseException:
        return None
    region = (phonenumbers.region_code_for_number(number)
              or phonenumbers.region_code_for_country_code(number.country_code))
    return NO_BUSINESS_CALLS.get(region)


def outbound_warning(e164: str) -> str | None:
    """The sentence an admin reads about a sender that cannot call out (None when it can)."""
    country = outbound_blocked_in(e164)
    if country is None:
        return None
    return (f"Meta does not allow business-initiated calls from numbers in {country}: {e164} cannot place "
            "outbound calls (Twilio error 37007); inbound calls still work.")
