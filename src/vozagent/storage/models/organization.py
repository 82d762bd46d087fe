from __future__ import annotations

from datetime import time

from sqlalchemy import Integer, SmallInteger, String, Time
from sqlalchemy.orm import Mapped, mapped_column

from vozagent.storage.base import Base, TimestampedMixin


class Organization(TimestampedMixin, Base):
    __tablename__ = "organizations"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    plan: Mapped[str] = mapped_column(String(32), nullable=False, default="essential")
    # "active" or "inactive": outbound calls need an active subscription (spec 4.6).
    subscription_status: Mapped[str] = mapped_column(String(32), nullable=False, default="active")
    # Calling rules the dialer enforces before every dial (see docs/telephony.md).
    calling_hours_start: Mapped[time] = mapped_column(
        Time, nullable=False, default=time(8, 0), server_default="08:00"
    )
    calling_hours_end: Mapped[time] = mapped_column(
        Time, nullable=False, default=time(21, 0), server_default="21:00"
    )
    max_concurrent_calls: Mapped[int] = mapped_column(
        Integer, nullable=False, default=10, server_default="10"
    )
    # Attempts per outbound call when the callee is busy or does not answer.
    max_attempts: Mapped[int] = mapped_column(
        SmallInteger, nullable=False, default=1, server_default="1"
    )
    retry_after_minutes: Mapped[int] = mapped_column(
        Integer, nullable=False, default=30, server_default="30"
    )
    default_outbound_number_id: Mapped[str | None] = mapped_column(String(64))
