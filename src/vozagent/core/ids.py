"""Identifiers: opaque strings with a type prefix where the spec's examples show one."""

from __future__ import annotations

import uuid

# Contacts and assistants are bare UUIDs in the spec's examples; calls, phone numbers
# and webhooks carry a prefix. Ours follow the same shapes.
PREFIXES = {
    "call": "call-",
    "phone_number": "pn-",
    "webhook": "wh-",
    "organization": "org-",
    "api_key": "key-",
    "event": "evt-",
    "delivery": "dlv-",
    "telephony_credential": "tc-",
    "dnc_entry": "dnc-",
    "contact": "",
    "assistant": "",
}


def new_id(kind: str) -> str:
    return f"{PREFIXES[kind]}{uuid.uuid4()}"
