from __future__ import annotations

from typing import Any

from pydantic import Field

from vozagent.core.timestamps import Timestamp
from vozagent.domain.schemas import RequestModel, ResponseModel, ShortText
from vozagent.domain.telephony_credentials.providers import CredentialProvider

_CREDENTIALS_HELP = (
    "twilio: account_sid, auth_token. telnyx: api_key, connection_id, public_key. "
    "sip: host, port (5060), transport (udp|tcp), username?, password?. "
    "Unknown keys are refused; secret fields are never returned."
)


class TelephonyCredentialCreate(RequestModel):
    provider: CredentialProvider
    label: ShortText | None = None
    credentials: dict[str, Any] = Field(description=_CREDENTIALS_HELP)
    api_base_url: str | None = Field(
        default=None,
        max_length=2000,
        description="twilio/telnyx only: the REST API's base URL (a compatible server)",
    )


class TelephonyCredentialRead(ResponseModel):
    id: str
    provider: str
    label: str | None
    credentials: dict[str, Any] = Field(description="The non-secret fields only")
    secret_fields: list[str] = Field(description="Secret fields that are set (never returned)")
    api_base_url: str | None
    created_at: Timestamp
    updated_at: Timestamp
