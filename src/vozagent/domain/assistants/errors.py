from __future__ import annotations

from vozagent.core.errors import InvalidRequest, NotFound


class AssistantNotFound(NotFound):
    def __init__(self, assistant_id: str, *, field: str | None = None) -> None:
        super().__init__("assistant", assistant_id)
        if field:
            self.details["field"] = field


class UnknownChoice(InvalidRequest):
    """A value outside a catalogue; ``details.valid_choices`` lists what is accepted."""

    def __init__(self, field: str, value: str, choices: list[str]) -> None:
        super().__init__(
            f"Unknown {field} '{value}'",
            details={"invalid_fields": [field], "valid_choices": choices},
        )
