from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from vozagent.storage.base import Base, TimestampedMixin


class Organization(TimestampedMixin, Base):
    __tablename__ = "organizations"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    plan: Mapped[str] = mapped_column(String(32), nullable=False, default="essential")
    # "active" or "inactive": outbound calls need an active subscription (spec 4.6).
    subscription_status: Mapped[str] = mapped_column(String(32), nullable=False, default="active")
