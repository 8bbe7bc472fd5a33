"""The WhatsApp numbers section: list, add, default, business hours, closed dates, can call out."""
from datetime import datetime

from freezegun import freeze_time

from tests.admin.conftest import ADMIN_EMAIL, actions
from widget_app.admin import numbers
from widget_app.models import PhoneNumber

CONFIGURED = "+442071838750"  # TWILIO_WHATSAPP_NUMBER in the test settings


def section(console, e164):
    html = console.get("/admin/numbers").get_data(as_text=True)
    start = html.index(f'id="number-{e164[1:]}"')
    return html[start:html.index("</section>", start)]


def test_the_configured_sender_is_listed_and_can_call_out(console, db, admin):
    part = section(console, CONFIGURED)
    assert "(default)" in part and '<strong class="can-call-out">allowed</strong>' in part
    assert "always open" in part


def test_add_a_number_that_meta_does_not_let_call_out(console, db, admin):
    assert console.post("/admin/numbers", {"e164": "+1 415 555 2671", "name": "US support"}).status_code == 302
    row = PhoneNumber.get(PhoneNumber.e164 == "+14155552671")
    assert row.friendly_name == "US support" and not row.is_default
    part = section(console, "+14155552671")
    assert '<strong class="can-call-out">not allowed</strong>' in part and "37007" in part
    assert actions()[-1] == (ADMIN_EMAIL, "number.add", "+14155552671")


def test_make_default(console, db, admin):
    console.post("/admin/numbers", {"e164": "+351211234567", "name": "Lisbon"})
    console.post("/admin/numbers/default", {"number": "+351211234567"})
    assert [r.e164 for r in PhoneNumber.select().where(PhoneNumber.is_default == True)] == ["+351211234567"]
    assert "(default)" in section(console, "+351211234567")
    assert actions()[-1] == (ADMIN_EMAIL, "number.default", "+351211234567")


def test_hours_and_closed_dates(app, console, db, admin):
    console.post("/admin/numbers", {"e164": "+351211234567", "name": "Lisbon"})
    response = console.post("/admin/numbers/hours", {"number": "+351211234567", "tz": "Europe/Lisbon",
                                                     "hours": "mon-fri 09:00-18:00, sat 10:00-13:00"})
    assert response.status_code == 302
    console.post("/admin/numbers/closed", {"number": "+351211234567", "date": "2026-12-25"})
    row = PhoneNumber.get(PhoneNumber.e164 == "+351211234567")
    assert (row.time_zone, row.hours["sat"], row.closed_dates) == ("Europe/Lisbon", [["10:00", "13:00"]], ["2026-12-25"])
    with freeze_time(datetime(2026, 12, 26, 22, 0)), app.app_context():  # Saturday 22:00 in Lisbon (UTC+0)
        lisbon = [n for n in numbers.numbers() if n["e164"] == "+351211234567"][0]
    assert (lisbon["closed_now"], lisbon["opens"]) == (True, "Mon 09:00")
    part = section(console, "+351211234567")
    assert "mon 09:00-18:00, tue 09:00-18:00" in part and "2026-12-25" in part
    assert [a[1] for a in actions()[-2:]] == ["number.hours", "number.closed"]


def test_bad_input_is_a_400_that_changes_nothing(console, db, admin):
    before = actions()
    assert console.post("/admin/numbers", {"e164": "12", "name": "x"}).status_code == 400
    assert console.post("/admin/numbers", {"e164": "+351211234567", "name": " "}).status_code == 400
    assert console.post("/admin/numbers/hours", {"number": CONFIGURED, "tz": "Mars/Base",
                                                 "hours": "mon 09:00-18:00"}).status_code == 400
    assert console.post("/admin/numbers/hours", {"number": CONFIGURED, "tz": "UTC",
                                                 "hours": "mon 18:00-09:00"}).status_code == 400
    assert console.post("/admin/numbers/closed", {"number": CONFIGURED, "date": "25/12/2026"}).status_code == 400
    assert console.post("/admin/numbers/default", {"number": "+351219999999"}).status_code == 400
    assert actions() == before and PhoneNumber.select().count() == 0
