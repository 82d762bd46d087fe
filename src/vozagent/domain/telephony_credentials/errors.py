from __future__ import annotations

from vozagent.core.errors import Conflict, InvalidRequest, NotFound


class TelephonyCredentialNotFound(NotFound):
    def __init__(self, credentials_id: str, *, field: str | None = None) -> None:
        super().__init__("telephony_credential", credentials_id)
        if field:
            self.details["field"] = field


class CredentialsInUse(Conflict):
    code = "credentials_in_use"

    def __init__(self, phone_number_ids: list[str]) -> None:
        super().__init__(
            "Phone numbers still use these credentials; point them elsewhere first",
            details={"phone_number_ids": phone_number_ids},
        )


class ApiBaseUrlRejected(InvalidRequest):
    def __init__(self, reason: str) -> None:
        super().__init__(
            f"api_base_url rejected: {reason}", details={"invalid_fields": ["api_base_url"]}
        )


class CredentialsProviderMismatch(InvalidRequest):
    code = "credentials_provider_mismatch"

    def __init__(self, credentials_provider: str, number_provider: str) -> None:
        super().__init__(
            f"These are {credentials_provider} credentials; a {number_provider} number "
            "needs credentials of its own provider",
            details={
                "invalid_fields": ["credentials_id"],
                "credentials_provider": credentials_provider,
                "phone_number_provider": number_provider,
            },
        )
