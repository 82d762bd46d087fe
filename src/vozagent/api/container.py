"""What the API needs at run time, built once by the composition root."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from vozagent.api.ratelimit import RateLimiter
from vozagent.config import Settings
from vozagent.core.clock import Clock, SystemClock
from vozagent.core.secrets_box import SecretBox
from vozagent.domain.webhooks.service import WebhookPolicy
from vozagent.storage.db import Database


@dataclass
class Container:
    settings: Settings
    database: Database
    rate_limiter: RateLimiter
    secret_box: SecretBox
    clock: Clock = field(default_factory=SystemClock)

    @property
    def idempotency_ttl(self) -> timedelta:
        return timedelta(hours=self.settings.idempotency_ttl_hours)

    @property
    def webhook_policy(self) -> WebhookPolicy:
        return WebhookPolicy(
            allow_http=self.settings.webhooks_allow_http,
            allow_private=self.settings.webhooks_allow_private,
            max_per_org=self.settings.max_webhooks_per_org,
            rotation_overlap=timedelta(hours=self.settings.webhook_secret_overlap_hours),
        )
