from __future__ import annotations

from vozagent.core.errors import Conflict, NotFound, VozError


class DncEntryNotFound(NotFound):
    def __init__(self, entry_id: str) -> None:
        super().__init__("dnc_entry", entry_id)


class DncEntryExists(Conflict):
    code = "dnc_exists"

    def __init__(self, phone_number: str, existing_id: str) -> None:
        super().__init__(
            "This number is already on the do-not-call list",
            details={"existing_id": existing_id, "phone_number": phone_number},
        )


class NumberOnDncList(VozError):
    """422: the request is well-formed, but a compliance rule forbids calling the number."""

    status_code = 422
    code = "number_on_dnc_list"

    def __init__(self, phone_number: str, entry_id: str) -> None:
        super().__init__(
            "This number is on your do-not-call list",
            details={"phone_number": phone_number, "dnc_id": entry_id},
        )
