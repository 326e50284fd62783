import random

import phonenumbers
import pytest
from django.core.exceptions import ValidationError

from barnstorm.people.normalize import normalize_email, normalize_phone, normalize_zip


@pytest.mark.parametrize(
    "raw",
    [
        "(515) 555-0134",
        "515-555-0134",
        "515.555.0134",
        "5155550134",
        "+1 515 555 0134",
        "1-515-555-0134",
        " +15155550134 ",
    ],
)
def test_common_ways_of_writing_a_us_number_agree(raw):
    assert normalize_phone(raw) == "+15155550134"


@pytest.mark.parametrize(
    "raw", ["", "12", "(123) 555-0134", "555-555-5555", "515-555-013", "call me", "+1 999 555 0134"]
)
def test_numbers_that_do_not_exist_are_refused(raw):
    with pytest.raises(ValidationError, match="not a valid phone number"):
        normalize_phone(raw)


def test_other_countries_go_through_the_full_parser():
    assert normalize_phone("+44 20 7946 0958") == "+442079460958"
    assert normalize_phone("+1 416 555 0134") == "+14165550134"  # Canada shares +1


def test_the_fast_path_agrees_with_phonenumbers_on_random_numbers():
    rng = random.Random(2026)
    for _ in range(3000):
        digits = f"{rng.randint(200, 999)}{rng.randint(200, 999)}{rng.randint(0, 9999):04d}"
        parsed = phonenumbers.parse(digits, "US")
        expected = phonenumbers.is_valid_number(parsed)
        try:
            got = normalize_phone(f"({digits[:3]}) {digits[3:6]}-{digits[6:]}")
        except ValidationError:
            got = None
        assert (got == "+1" + digits) if expected else (got is None), digits


def test_emails_are_trimmed_and_lower_cased_or_refused():
    assert normalize_email("  Ann.Lee@Example.COM ") == "ann.lee@example.com"
    with pytest.raises(ValidationError):
        normalize_email("ann@")


def test_zip_codes_are_five_digits_and_known():
    assert normalize_zip("50309-1234") == "50309"
    assert normalize_zip("3301") == "03301"  # a spreadsheet ate the leading zero
    for bad in ("503", "abcde", "99999"):
        with pytest.raises(ValidationError):
            normalize_zip(bad)
