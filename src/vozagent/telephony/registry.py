"""The carriers vozagent knows, imported only when enabled (SIP binds sockets, Twilio pulls
in nothing the sandbox needs)."""

from __future__ import annotations

import importlib
from collections.abc import Iterable

from vozagent.telephony.carrier import Carrier, CarrierContext

# name -> "module:Class"; every class is a Carrier subclass whose ``name`` is the key.
KNOWN_CARRIERS: dict[str, str] = {
    "sandbox": "vozagent.telephony.sandbox.carrier:SandboxCarrier",
    "browser": "vozagent.telephony.browser.carrier:BrowserCarrier",
    "sip": "vozagent.telephony.sip.carrier:SipCarrier",
    "twilio": "vozagent.telephony.twilio.carrier:TwilioCarrier",
    "telnyx": "vozagent.telephony.telnyx.carrier:TelnyxCarrier",
}


def carrier_class(name: str) -> type[Carrier]:
    try:
        module_name, _, class_name = KNOWN_CARRIERS[name].partition(":")
    except KeyError:
        raise KeyError(f"unknown carrier {name!r}") from None
    cls = getattr(importlib.import_module(module_name), class_name)
    if not (isinstance(cls, type) and issubclass(cls, Carrier)):
        raise TypeError(f"{KNOWN_CARRIERS[name]} is not a Carrier")
    return cls


def build(names: Iterable[str], context: CarrierContext) -> dict[str, Carrier]:
    return {name: carrier_class(name)(context) for name in names}
