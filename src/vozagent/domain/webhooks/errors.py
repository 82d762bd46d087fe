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


class WebhookDeliveryNotFound(NotFound):
    def __init__(self, delivery_id: str) -> None:
        super().__init__("delivery", delivery_id)


class WebhookInactive(Conflict):
    code = "webhook_inactive"

    def __init__(self, webhook_id: str) -> None:
        super().__init__(
            "This webhook is paused or disabled; set is_active to true first",
            details={"webhook_id": webhook_id},
        )


class ReplayTooLarge(InvalidRequest):
    def __init__(self, count: int, limit: int) -> None:
        super().__init__(
            f"The time range holds {count} deliveries; replay at most {limit} at a time",
            details={"invalid_fields": ["since", "until"], "count": count, "limit": limit},
        )
