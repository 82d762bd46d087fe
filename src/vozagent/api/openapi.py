"""The published OpenAPI document: every status code the server can return, and auth.

FastAPI documents only the success response and a 422; our validation errors are
400s in the VozAgent envelope, and every route can answer 401/403/429/503.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details"],
            "properties": {
                "code": {"type": "string", "example": "invalid_request"},
                "message": {"type": "string"},
                "details": {"type": "object", "additionalProperties": True},
            },
        }
    },
}

_DESCRIPTIONS = {
    "400": "Invalid request (details.missing_fields / details.invalid_fields)",
    "401": "Missing or invalid API key",
    "402": "The organization's subscription is inactive",
    "403": "The API key lacks the required scope",
    "404": "No such resource in your organization",
    "409": "Conflict with the current state",
    "413": "Request body larger than 1 MiB",
    "422": "Idempotency-Key reused with a different body",
    "429": "Rate limited; see Retry-After",
    "503": "Temporarily unavailable; retry",
}


def _error_codes(path: str, method: str) -> list[str]:
    codes = ["400", "401", "403", "429", "503"]
    if "{" in path:
        codes.append("404")
    if method in ("post", "patch"):
        codes += ["409", "413"]
    if method == "post":
        codes += ["404", "422"]
    if path.endswith("/calls/outbound"):
        codes.append("402")
    return sorted(set(codes))


def build_openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title="VozAgent API",
        version="1.0.0",
        description="VozAgent v1 REST API (self-hosted). See docs/api.md for decisions.",
        routes=app.routes,
    )
    components = schema.setdefault("components", {})
    components.setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    for name in ("HTTPValidationError", "ValidationError"):
        components["schemas"].pop(name, None)
    components["securitySchemes"] = {
        "bearerAuth": {"type": "http", "scheme": "bearer", "description": "gw_… API key"}
    }
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            if not path.startswith("/v1/") or path == "/v1/openapi.json":
                continue
            operation["security"] = [{"bearerAuth": []}]
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)
            for code in _error_codes(path, method):
                responses[code] = {
                    "description": _DESCRIPTIONS[code],
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                    },
                }
    app.openapi_schema = schema
    return schema
