"""Email addresses and phone numbers, checked and normalised by the libraries that know them."""

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from .errors import InvalidInput


def normalise_email(value: str, field: str = "email") -> str:
    try:
        return validate_email(value.strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise InvalidInput(f"{field}: {value!r} is not a valid email address: {exc}") from None


def normalise_phone(value: str, field: str = "phone", default_region: str | None = None) -> str:
    """E.164 (+14155550100). Without a default region the number must start with +country code."""
    try:
        number = phonenumbers.parse(value, default_region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidInput(f"{field}: {value!r} is not a phone number: {exc}") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidInput(f"{field}: {value!r} is not a valid phone number for its country")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
