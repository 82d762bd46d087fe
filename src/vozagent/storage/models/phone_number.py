from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from vozagent.storage.base import Base, OrgScopedMixin, TimestampedMixin


class PhoneNumber(OrgScopedMixin, TimestampedMixin, Base):
    __tablename__ = "phone_numbers"
    __table_args__ = (
        # A number routes inbound calls to exactly one organization.
        Index("uq_phone_numbers_number", "phone_number", unique=True),
        Index("ix_phone_numbers_org_created", "org_id", "created_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    org_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False
    )
    phone_number: Mapped[str] = mapped_column(String(32), nullable=False)
    label: Mapped[str | None] = mapped_column(String(200))
    provider: Mapped[str] = mapped_column(String(32), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="active")
    assistant_id: Mapped[str | None] = mapped_column(
        String(64), ForeignKey("assistants.id", ondelete="SET NULL")
    )
    outbound_assistant_id: Mapped[str | None] = mapped_column(
        String(64), ForeignKey("assistants.id", ondelete="SET NULL")
    )
    fallback_number: Mapped[str | None] = mapped_column(String(32))
    caller_id_override: Mapped[str | None] = mapped_column(String(32))
    sms_enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    monthly_cost_cents: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # The carrier account this number belongs to (twilio, telnyx, sip); never the secret.
    credentials_id: Mapped[str | None] = mapped_column(
        String(64), ForeignKey("telephony_credentials.id", ondelete="RESTRICT")
    )
    # Simultaneous calls through this number; unlimited (only the organization's cap) if null.
    max_concurrent_calls: Mapped[int | None] = mapped_column(Integer)
