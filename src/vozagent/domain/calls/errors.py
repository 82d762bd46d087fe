from __future__ import annotations

from typing import Any

from vozagent.core.errors import Conflict, InvalidRequest, NotFound, PaymentRequired, VozError


class CallNotFound(NotFound):
    def __init__(self, call_id: str) -> None:
        super().__init__("call", call_id)


class AssistantChoiceMissing(InvalidRequest):
    def __init__(self) -> None:
        super().__init__(
            "Give 'assistant_id' or 'assistant_name'",
            details={"missing_fields": ["assistant_id"], "alternatives": ["assistant_name"]},
        )


class AssistantChoiceConflict(InvalidRequest):
    def __init__(self) -> None:
        super().__init__(
            "'assistant_id' and 'assistant_name' name different assistants",
            details={"invalid_fields": ["assistant_id", "assistant_name"]},
        )


class AssistantNameNotFound(NotFound):
    def __init__(self, name: str) -> None:
        super().__init__("assistant")
        self.message = f"No assistant named '{name}'"
        self.details = {"resource": "assistant", "assistant_name": name}


class AssistantNameAmbiguous(Conflict):
    code = "assistant_ambiguous"

    def __init__(self, name: str, ids: list[str]) -> None:
        super().__init__(
            f"Several assistants are named '{name}'; use 'assistant_id'",
            details={"assistant_name": name, "assistant_ids": ids},
        )


class AssistantUnavailable(Conflict):
    def __init__(self, code: str, message: str, details: dict[str, Any]) -> None:
        super().__init__(message, details=details, code=code)


class SubscriptionInactive(PaymentRequired):
    def __init__(self) -> None:
        super().__init__("Outbound calls need an active subscription")


class NoCallerId(Conflict):
    code = "no_caller_id"

    def __init__(self, assistant_id: str) -> None:
        super().__init__(
            "No active phone number can place this assistant's calls; assign one to its "
            "outbound slot",
            details={"assistant_id": assistant_id},
        )


class OutsideEveryCallingWindow(VozError):
    """422: the number's time zones never share a moment inside the calling hours."""

    status_code = 422
    code = "no_calling_window"

    def __init__(self, phone_number: str, zones: list[str]) -> None:
        super().__init__(
            "The calling hours never hold in all of this number's time zones at once; "
            "widen them with PATCH /v1/call-settings",
            details={"phone_number": phone_number, "time_zones": zones},
        )
