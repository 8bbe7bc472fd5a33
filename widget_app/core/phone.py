"""Phone numbers enter the system here and leave it as E.164."""
import re

import phonenumbers

from widget_app.core.errors import DomainError


def to_e164(raw, region: str | None = None) -> str:
    """Parse anything a person or a webhook sends (``whatsapp:+…``, spaces, dashes) into E.164.

    Raises ``DomainError(invalid_phone)`` when the number is not a valid one.
    """
    if not isinstance(raw, str) or not raw.strip():
        raise DomainError("invalid_phone", "A phone number is required.")
    text = raw.strip()
    for prefix in ("whatsapp:", "tel:"):
        if text.lower().startswith(prefix):
            text = text[len(prefix):]
    if not text.startswith("+") and region is None:
        digits = "".join(ch for ch in text if ch.isdigit())
        text = "+" + digits if digits else text
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise DomainError("invalid_phone", f"{raw!r} is not a phone number.") from None
    if not phonenumbers.is_valid_number(parsed):
        raise DomainError("invalid_phone", f"{raw!r} is not a valid phone number.")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def national_digits(e164: str) -> str:
    """The national significant number, as HubSpot's calculated phone properties hold it."""
    return str(phonenumbers.parse(e164).national_number)


E164_SHAPE = re.compile(r"\+[1-9]\d{6,14}")


def twilio_e164(raw) -> str:
    """A number Twilio hands us (``whatsapp:+…``): E.164 through phonenumbers, but a well-formed
    E.164 of a possible length is trusted where the phonenumbers metadata lags (new ranges), so a
    real caller is never turned away by our library's data. What people type goes through
    the stricter ``to_e164``."""
    try:
        return to_e164(raw)
    except DomainError:
        text = raw.strip().removeprefix("whatsapp:") if isinstance(raw, str) else ""
        if E164_SHAPE.fullmatch(text) and phonenumbers.is_possible_number(phonenumbers.parse(text)):
            return text
        raise


def masked(number) -> str:
    """A contact's number as logs may show it: the country's first digits and the last two
    (``+44•••••••56``), enough to tell calls apart, never the whole number."""
    text = str(number or "")
    if len(text) < 6:
        return "•" * len(text)
    return text[:3] + "•" * (len(text) - 5) + text[-2:]
