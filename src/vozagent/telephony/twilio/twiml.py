"""The TwiML documents we hand Twilio (https://www.twilio.com/docs/voice/twiml)."""

from __future__ import annotations

from collections.abc import Mapping
from xml.etree import ElementTree


def connect_stream(stream_url: str, parameters: Mapping[str, str]) -> str:
    """``<Connect><Stream>``: a bidirectional media stream that lasts as long as the call.

    Per-call data travels as ``<Parameter>`` nouns (they arrive in ``start.customParameters``)
    because Twilio does not allow a query string on the stream URL.
    """
    response = ElementTree.Element("Response")
    stream = ElementTree.SubElement(
        ElementTree.SubElement(response, "Connect"), "Stream", url=stream_url
    )
    for name, value in parameters.items():
        ElementTree.SubElement(stream, "Parameter", name=name, value=value)
    return _serialize(response)


def reject(reason: str = "busy") -> str:
    """``<Reject>``: refuse an inbound call without answering it (no charge to the caller)."""
    response = ElementTree.Element("Response")
    ElementTree.SubElement(response, "Reject", reason=reason)
    return _serialize(response)


def _serialize(element: ElementTree.Element) -> str:
    return ElementTree.tostring(element, encoding="unicode", xml_declaration=False)
