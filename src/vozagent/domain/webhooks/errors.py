from __future__ import annotations

from vozagent.core.errors import Conflict, InvalidRequest, NotFound
from vozagent.webhooks.catalog import EVENT_TYPES, WILDCARD


class WebhookNotFound(NotFound):
    def __init__(self, webhook_id: str) -> None:
        super().__init__("webhook", webhook_id)


class WebhookUrlRejected(InvalidRequest):
    def __init__(self, reason: str) -> None:
        super().__init__(f"Webhook URL rejected: {reason}", details={"invalid_fields": ["url"]})


class UnknownEventTypes(InvalidRequest):
    def __init__(self, unknown: list[str]) -> None:
        super().__init__(
            f"Unknown event types: {', '.join(unknown)}",
            details={"invalid_fields": ["events"], "valid_choices": [*EVENT_TYPES, WILDCARD]},
        )


class WebhookLimitReached(Conflict):
    code = "webhook_limit_reached"

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"An organization can have at most {limit} webhooks", details={"limit": limit}
        )
