"""Shared pieces of request/response models."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, StringConstraints, field_validator

ShortText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
# Labels stored in 100-character columns (role, template_id, source).
Label = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
LongText = Annotated[str, StringConstraints(max_length=20_000)]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
PhoneText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]


def integral_float_to_int(value: Any) -> Any:
    """JSON has one number type, so 600.0 is the integer 600 (strict mode still refuses "600").

    Use as the last ``BeforeValidator`` of an integer field, after its ``Field`` bounds
    (in the other order pydantic publishes the bounds as ``ge``/``le``, not ``minimum``).
    """
    return int(value) if isinstance(value, float) and value.is_integer() else value


def contains_nul(value: Any) -> bool:
    """Whether a string, or any key or value of a JSON-shaped value, holds U+0000."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(contains_nul(k) or contains_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(contains_nul(item) for item in value)
    return False


class RequestModel(BaseModel):
    """Request bodies: unknown fields are ignored (never bound), see docs/api.md.

    Strict: values keep their JSON types (``0`` is not ``false``, ``"600"`` is not ``600``),
    as the published schema says.
    """

    model_config = ConfigDict(extra="ignore", strict=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        # PostgreSQL text and jsonb cannot hold U+0000: refuse it here, as a 400 naming
        # the field, rather than let the database fail the request with a 500.
        if contains_nul(value):
            raise ValueError("text must not contain NUL (U+0000) characters")
        return value

    def provided(self) -> dict[str, Any]:
        """Only the fields the client actually sent (PATCH semantics)."""
        return {name: getattr(self, name) for name in self.model_fields_set}


class ResponseModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)
