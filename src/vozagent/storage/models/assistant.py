from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from vozagent.storage.base import Base, OrgScopedMixin, TimestampedMixin


class Assistant(OrgScopedMixin, TimestampedMixin, Base):
    __tablename__ = "assistants"
    __table_args__ = (Index("ix_assistants_org_created", "org_id", "created_at", "id"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    org_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False
    )
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    role: Mapped[str | None] = mapped_column(String(100))
    assistant_type: Mapped[str] = mapped_column(String(16), nullable=False)
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    voice_id: Mapped[str] = mapped_column(String(200), nullable=False)
    first_message: Mapped[str | None] = mapped_column(Text)
    first_message_mode: Mapped[str] = mapped_column(String(64), nullable=False)
    personality: Mapped[str | None] = mapped_column(Text)
    system_prompt: Mapped[str | None] = mapped_column(Text)
    template_id: Mapped[str | None] = mapped_column(String(100))
    language: Mapped[str] = mapped_column(String(16), nullable=False, default="en")
    # Provider selections: {"provider": ..., "model": ...} (validated by the domain).
    llm: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    stt: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    tools: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, nullable=False, default=list)
    max_duration_seconds: Mapped[int] = mapped_column(Integer, nullable=False, default=600)
    end_call_phrases: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False, default=list)
    analysis_schema: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
