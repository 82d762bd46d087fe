"""Offset pagination as the spec documents it: ``limit`` 0–100 (default 50), ``offset`` ≥ 0."""

from __future__ import annotations

from dataclasses import dataclass

MAX_LIMIT = 100
DEFAULT_LIMIT = 50


@dataclass(frozen=True, slots=True)
class Page:
    limit: int = DEFAULT_LIMIT
    offset: int = 0
