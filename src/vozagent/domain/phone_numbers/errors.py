from __future__ import annotations

from vozagent.core.errors import Conflict, NotFound


class PhoneNumberNotFound(NotFound):
    def __init__(self, phone_number_id: str, *, field: str | None = None) -> None:
        super().__init__("phone_number", phone_number_id)
        if field:
            self.details["field"] = field


class PhoneNumberInUse(Conflict):
    code = "phone_number_in_use"

    def __init__(self, phone_number: str) -> None:
        super().__init__(
            "This phone number is already in an inventory",
            details={"phone_number": phone_number},
        )
