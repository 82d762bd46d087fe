from __future__ import annotations

from vozagent.storage.models import WebhookEndpoint
from vozagent.storage.repositories.base import OrgScopedRepository


class WebhookEndpointRepository(OrgScopedRepository[WebhookEndpoint]):
    model = WebhookEndpoint
