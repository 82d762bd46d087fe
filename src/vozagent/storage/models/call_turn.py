from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from vozagent.storage.base import Base, OrgScopedMixin


class CallTurn(OrgScopedMixin, Base):
    """One utterance of a call's transcript; ``calls.transcript`` is rendered from these."""

    __tablename__ = "call_turns"
    __table_args__ = (Index("ix_call_turns_call_seq", "call_id", "seq"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    org_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False
    )
    call_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("calls.id", ondelete="CASCADE"), nullable=False
    )
    seq: Mapped[int] = mapped_column(Integer, nullable=False)
    speaker: Mapped[str] = mapped_column(String(16), nullable=False)  # assistant | customer
    text: Mapped[str] = mapped_column(Text, nullable=False)
    # Offsets from the moment the call was answered, in milliseconds.
    start_ms: Mapped[int] = mapped_column(Integer, nullable=False)
    end_ms: Mapped[int] = mapped_column(Integer, nullable=False)
    # An assistant turn cut short by the caller (barge-in): ``text`` is what was said.
    interrupted: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
