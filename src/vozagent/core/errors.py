"""The one error type the API renders as the VozAgent envelope.

Every failure a client can cause is a ``VozError`` with a stable ``code`` and an
HTTP status; the API edge renders ``{"error": {"code", "message", "details"}}``.
"""

from __future__ import annotations

from typing import Any


class VozError(Exception):
    """Base class: ``code`` is machine-readable and stable, ``message`` is for humans."""

    status_code: int = 400
    code: str = "invalid_request"

    def __init__(
        self,
        message: str,
        *,
        details: dict[str, Any] | None = None,
        code: str | None = None,
        status_code: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = details or {}
        self.headers = headers or {}
        if code is not None:
            self.code = code
        if status_code is not None:
            self.status_code = status_code


class InvalidRequest(VozError):
    status_code = 400
    code = "invalid_request"


class Unauthorized(VozError):
    status_code = 401
    code = "unauthorized"


class InsufficientScope(VozError):
    status_code = 403
    code = "insufficient_scope"


class NotFound(VozError):
    status_code = 404
    code = "not_found"

    def __init__(self, resource: str, resource_id: str | None = None, **kwargs: Any) -> None:
        code = kwargs.pop("code", f"{resource}_not_found")
        message = (
            f"No {resource.replace('_', ' ')} with id '{resource_id}'"
            if resource_id
            else (f"{resource.replace('_', ' ').capitalize()} not found")
        )
        details = {"resource": resource}
        if resource_id is not None:
            details["id"] = resource_id
        super().__init__(message, details=details, code=code, **kwargs)


class Conflict(VozError):
    status_code = 409
    code = "conflict"


class PaymentRequired(VozError):
    status_code = 402
    code = "subscription_inactive"


class RateLimited(VozError):
    status_code = 429
    code = "rate_limited"


class ServiceUnavailable(VozError):
    status_code = 503
    code = "service_unavailable"
