"""Ids from requests: ASCII digits of a bounded length, whatever Unicode calls a digit."""
import pytest

from widget_app.core.errors import DomainError
from widget_app.core.ids import MAX_ID_DIGITS, is_id, parse_id


@pytest.mark.parametrize("value", ["1", "501", "9" * MAX_ID_DIGITS, 7, 10 ** MAX_ID_DIGITS - 1])
def test_ascii_digit_ids_are_ids(value):
    assert is_id(value) and parse_id(value, "id") == str(int(value))


@pytest.mark.parametrize("value", ["²", "١٢", "0", "00", "", " 1", "1 ", "-1", "+1", "1.0", "%00", "1\x00",
                                   "9" * (MAX_ID_DIGITS + 1), "../../contacts/501", 0, -3, 10 ** MAX_ID_DIGITS,
                                   True, None, 1.0, [1], {"id": 1}])
def test_anything_else_is_refused_with_the_field_named(value):
    assert not is_id(value)
    with pytest.raises(DomainError) as refused:
        parse_id(value, "engagementId")
    assert (refused.value.code, refused.value.extra) == ("invalid_field", {"field": "engagementId"})
