"""Numbers are stored E.164 and shown the way a Korean center writes them."""

import pytest

from tickets.templatetags.phone import phone


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("+821079218474", "010-7921-8474"),
        ("+8215880000", "1588-0000"),
        ("+8225550103", "02-555-0103"),
        ("+14155550100", "+1 415-555-0100"),
        ("not a number", "not a number"),
        ("", ""),
        (None, ""),
    ],
)
def test_phone_numbers_read_as_people_write_them(stored, shown):
    assert phone(stored) == shown
