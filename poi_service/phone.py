"""Phone numbers: stored as E.164, shown in DIN 5008 form."""

from __future__ import annotations

from functools import lru_cache

import phonenumbers


@lru_cache(maxsize=65_536)  # pure, and slow (about 40 us): shops of a chain share one number
def to_e164(text: str, region: str = "DE") -> str:
    """Parses a written number ('0461 - 7 40 48', '0461 706-0') into E.164; ValueError if invalid."""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"not a phone number: {text!r}") from exc
    if not phonenumbers.is_possible_number(number):
        raise ValueError(f"not a possible phone number: {text!r}")
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def din5008(e164: str) -> str:
    """DIN 5008 display: national '0461 74048' for German numbers, '+45 12 34 56 78' otherwise."""
    number = phonenumbers.parse(e164, None)
    if number.country_code == 49:
        return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL))
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL))
