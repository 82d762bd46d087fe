"""Phone numbers in, E.164 out: one normalisation for contacts, calls and numbers."""

from __future__ import annotations

import phonenumbers

from vozagent.core.errors import InvalidRequest


def to_e164(raw: str, *, default_region: str, field: str = "phone_number") -> str:
    """Parse ``raw`` (E.164 or a national format of ``default_region``) into E.164.

    Raises ``InvalidRequest`` naming ``field`` when the text is not a possible number.
    """
    try:
        parsed = phonenumbers.parse(raw, default_region)
    except phonenumbers.NumberParseException:
        raise _invalid(raw, field) from None
    if not phonenumbers.is_possible_number(parsed):
        raise _invalid(raw, field)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _invalid(raw: str, field: str) -> InvalidRequest:
    return InvalidRequest(
        f"'{field}' is not a valid phone number; use E.164, e.g. +15551234567",
        details={"invalid_fields": [field]},
    )
