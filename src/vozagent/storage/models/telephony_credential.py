from __future__ import annotations

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from vozagent.storage.base import Base, OrgScopedMixin, TimestampedMixin


class TelephonyCredential(OrgScopedMixin, TimestampedMixin, Base):
    """A carrier account (Twilio, Telnyx, a SIP trunk); the secret part is encrypted."""

    __tablename__ = "telephony_credentials"
    __table_args__ = (Index("ix_telephony_credentials_org_created", "org_id", "created_at", "id"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    org_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False
    )
    provider: Mapped[str] = mapped_column(String(32), nullable=False)
    label: Mapped[str | None] = mapped_column(String(200))
    # The whole credentials object, JSON, sealed with the server's secret box.
    credentials_encrypted: Mapped[str] = mapped_column(Text, nullable=False)
    api_base_url: Mapped[str | None] = mapped_column(Text)
