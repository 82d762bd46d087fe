from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, Numeric, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from vozagent.storage.base import Base, OrgScopedMixin, TimestampedMixin


class Call(OrgScopedMixin, TimestampedMixin, Base):
    __tablename__ = "calls"
    __table_args__ = (
        Index("ix_calls_org_created", "org_id", "created_at", "id"),
        Index("ix_calls_org_contact", "org_id", "contact_id"),
        Index("ix_calls_org_assistant", "org_id", "assistant_id"),
        # The dialer claims due queued calls with FOR UPDATE SKIP LOCKED on this index.
        Index(
            "ix_calls_dial_queue",
            "dial_after",
            postgresql_where=text("call_status = 'queued'"),
        ),
        # Live calls, counted against the concurrency caps at every claim.
        Index(
            "ix_calls_live",
            "org_id",
            "phone_number_id",
            postgresql_where=text(
                "call_status IN ('ringing', 'in-progress') "
                "OR (call_status = 'queued' AND claimed_by IS NOT NULL)"
            ),
        ),
        Index("ix_calls_provider_ref", "provider_call_id"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    org_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False
    )
    contact_id: Mapped[str | None] = mapped_column(
        String(64), ForeignKey("contacts.id", ondelete="SET NULL")
    )
    assistant_id: Mapped[str | None] = mapped_column(
        String(64), ForeignKey("assistants.id", ondelete="SET NULL")
    )
    phone_number_id: Mapped[str | None] = mapped_column(
        String(64), ForeignKey("phone_numbers.id", ondelete="SET NULL")
    )
    call_type: Mapped[str] = mapped_column(String(16), nullable=False)
    call_status: Mapped[str] = mapped_column(String(16), nullable=False)
    customer_phone_number: Mapped[str] = mapped_column(String(32), nullable=False)
    assistant_phone_number: Mapped[str | None] = mapped_column(String(32))
    assistant_name: Mapped[str | None] = mapped_column(String(200))
    notes: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(String(100))
    duration_seconds: Mapped[int | None] = mapped_column(Integer)
    call_started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    call_ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    transcript: Mapped[str | None] = mapped_column(Text)
    analysis_summary: Mapped[str | None] = mapped_column(Text)
    call_intent: Mapped[str | None] = mapped_column(String(64))
    lead_qualification: Mapped[str | None] = mapped_column(String(16))
    appointment_booked: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    recording_url: Mapped[str | None] = mapped_column(Text)
    cost: Mapped[float | None] = mapped_column(Numeric(12, 4, asdecimal=False))
    failure_reason: Mapped[str | None] = mapped_column(String(64))
    # Dialer bookkeeping (the queued row is the dial job; see docs/architecture.md).
    dial_after: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    provider_call_id: Mapped[str | None] = mapped_column(String(200))
    carrier: Mapped[str | None] = mapped_column(String(32))
    end_reason: Mapped[str | None] = mapped_column(String(200))
    answered_by: Mapped[str | None] = mapped_column(String(16))
    # The carrier's ordering of its status callbacks; older ones are ignored.
    last_sequence: Mapped[int | None] = mapped_column(Integer)
    ringing_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Set by POST /v1/calls/{id}/cancel on a live call; the node holding it hangs up.
    hangup_requested_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Mixed recording under data_dir/recordings (relative path); served by signed URL.
    recording_path: Mapped[str | None] = mapped_column(Text)
    sandbox_persona: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    latency: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
