"""`flask numbers add|list`: our WhatsApp senders for the keypad's "from" picker."""
from widget_app.models import PhoneNumber


def test_add_stores_the_sender_in_e164(runner, db):
    result = runner.invoke(args=["numbers", "add", "--e164", "+44 20 7183 8751", "--name", "UK sales"])
    assert result.exit_code == 0, result.output
    assert "Added +442071838751 (UK sales)" in result.output
    row = PhoneNumber.get(PhoneNumber.e164 == "+442071838751")
    assert row.friendly_name == "UK sales" and not row.is_default


def test_add_default_unmarks_the_previous_default(runner, db):
    runner.invoke(args=["numbers", "add", "--e164", "+442071838751", "--name", "UK", "--default"])
    result = runner.invoke(args=["numbers", "add", "--e164", "+34911234567", "--name", "Spain", "--default"])
    assert result.exit_code == 0, result.output
    assert "as the default sender" in result.output
    defaults = [row.e164 for row in PhoneNumber.select().where(PhoneNumber.is_default == True)]
    assert defaults == ["+34911234567"]


def test_add_again_renames_instead_of_duplicating(runner, db):
    runner.invoke(args=["numbers", "add", "--e164", "+442071838751", "--name", "UK"])
    result = runner.invoke(args=["numbers", "add", "--e164", "+442071838751", "--name", "UK support"])
    assert "Updated +442071838751 (UK support)" in result.output
    assert PhoneNumber.select().count() == 1


def test_add_rejects_an_invalid_number(runner, db):
    result = runner.invoke(args=["numbers", "add", "--e164", "12", "--name", "Nope"])
    assert result.exit_code == 2
    assert "--e164" in result.output
    assert PhoneNumber.select().count() == 0


def test_list_shows_the_configured_sender_and_added_ones(runner, db):
    runner.invoke(args=["numbers", "add", "--e164", "+34911234567", "--name", "Spain"])
    result = runner.invoke(args=["numbers", "list"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("* +442071838750")  # TWILIO_WHATSAPP_NUMBER, the default
    assert "+34911234567  Spain" in result.output


def test_list_marks_the_chosen_default_first(runner, db):
    runner.invoke(args=["numbers", "add", "--e164", "+34911234567", "--name", "Spain", "--default"])
    lines = runner.invoke(args=["numbers", "list"]).output.splitlines()
    assert lines[0] == "* +34911234567  Spain"
    assert lines[1] == "  +442071838750  Default sender"
