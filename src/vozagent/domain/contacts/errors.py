from __future__ import annotations

from vozagent.core.errors import Conflict, NotFound


class ContactNotFound(NotFound):
    def __init__(self, contact_id: str) -> None:
        super().__init__("contact", contact_id)


class ContactExists(Conflict):
    code = "contact_exists"

    def __init__(self, phone_number: str, existing_id: str) -> None:
        super().__init__(
            "A contact with this phone number already exists",
            details={"existing_id": existing_id, "phone_number": phone_number},
        )
