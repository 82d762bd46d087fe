from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from vozagent.storage.base import Base, OrgScopedMixin


class WebhookEvent(OrgScopedMixin, Base):
    """One outgoing event, written in the transaction of the change that caused it."""

    __tablename__ = "webhook_events"
    __table_args__ = (Index("ix_webhook_events_org_created", "org_id", "created_at", "id"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    org_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False
    )
    type: Mapped[str] = mapped_column(String(64), nullable=False)
    # The exact bytes every attempt sends (JSONB would reorder keys between attempts).
    body: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
