"""Every ORM model, one module per table; importing this registers them all."""

from vozagent.storage.models.api_key import ApiKey
from vozagent.storage.models.assistant import Assistant
from vozagent.storage.models.call import Call
from vozagent.storage.models.call_event import CallEvent
from vozagent.storage.models.call_turn import CallTurn
from vozagent.storage.models.contact import Contact
from vozagent.storage.models.dnc_entry import DncEntry
from vozagent.storage.models.idempotency_key import IdempotencyKey
from vozagent.storage.models.organization import Organization
from vozagent.storage.models.phone_number import PhoneNumber
from vozagent.storage.models.telephony_credential import TelephonyCredential
from vozagent.storage.models.webhook_delivery import WebhookDelivery
from vozagent.storage.models.webhook_endpoint import WebhookEndpoint
from vozagent.storage.models.webhook_event import WebhookEvent

__all__ = [
    "ApiKey",
    "Assistant",
    "Call",
    "CallEvent",
    "CallTurn",
    "Contact",
    "DncEntry",
    "IdempotencyKey",
    "Organization",
    "PhoneNumber",
    "TelephonyCredential",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookEvent",
]
