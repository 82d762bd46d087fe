"""Render every failure in the VozAgent envelope: ``{"error": {"code", "message", "details"}}``."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from vozagent.api.middleware import BodyTooLarge
from vozagent.core.errors import VozError

logger = logging.getLogger(__name__)

_HTTP_CODES = {
    400: "invalid_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


def envelope(
    status: int,
    code: str,
    message: str,
    details: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = {"error": {"code": code, "message": message, "details": details or {}}}
    return JSONResponse(body, status_code=status, headers=headers)


async def handle_voz_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, VozError)
    return envelope(exc.status_code, exc.code, exc.message, exc.details, exc.headers)


async def handle_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return envelope(400, "invalid_request", *_describe(exc.errors()))


async def handle_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if isinstance(exc.__cause__, BodyTooLarge):
        limit = request.app.state.settings.max_body_bytes
        return envelope(
            413,
            "payload_too_large",
            f"Request bodies are limited to {limit} bytes",
            {"max_bytes": limit},
        )
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    if exc.status_code == 404:
        message = f"No route {request.method} {request.url.path}"
    elif exc.status_code == 405:
        message = f"Method {request.method} is not allowed on {request.url.path}"
    elif exc.status_code == 400:
        message = "The request body could not be read"
    else:
        message = str(exc.detail)
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(_allowed_methods(request))
    return envelope(exc.status_code, code, message, {}, headers)


def _allowed_methods(request: Request) -> list[str]:
    """Methods the OpenAPI document lists for this path (Starlette names only one route's)."""
    table: list[tuple[re.Pattern[str], list[str]]] | None = getattr(
        request.app.state, "allowed_methods", None
    )
    if table is None:
        table = [
            (
                re.compile("^" + re.sub(r"\\{[^/]+\\}", "[^/]+", re.escape(path)) + "$"),
                sorted(m.upper() for m in operations),
            )
            for path, operations in request.app.openapi().get("paths", {}).items()
        ]
        request.app.state.allowed_methods = table
    for pattern, methods in table:
        if pattern.match(request.url.path):
            return methods
    return []


async def handle_database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    logger.error("database unavailable: %s", type(exc).__name__)
    return envelope(
        503,
        "service_unavailable",
        "The database is unavailable; retry shortly",
        {},
        {"Retry-After": "5"},
    )


async def handle_unexpected(request: Request, exc: Exception) -> JSONResponse:
    request_id = getattr(request.state, "request_id", None)
    logger.exception("unhandled error (request %s)", request_id)
    return envelope(
        500,
        "internal_error",
        "Something went wrong on our side",
        {"request_id": request_id},
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(VozError, handle_voz_error)
    app.add_exception_handler(RequestValidationError, handle_validation_error)
    app.add_exception_handler(StarletteHTTPException, handle_http_error)
    for db_error in (OperationalError, InterfaceError, ConnectionRefusedError, OSError):
        app.add_exception_handler(db_error, handle_database_unavailable)
    app.add_exception_handler(DBAPIError, handle_unexpected)
    app.add_exception_handler(Exception, handle_unexpected)


def _describe(errors: Sequence[Any]) -> tuple[str, dict[str, Any]]:
    missing: list[str] = []
    invalid: list[str] = []
    problems: list[dict[str, str]] = []
    for error in errors:
        field = _field_name(error.get("loc", ()))
        if error.get("type") == "missing":
            missing.append(field)
        elif error.get("type") == "json_invalid":
            return "The request body is not valid JSON", {"invalid_fields": ["body"]}
        else:
            invalid.append(field)
            problems.append({"field": field, "problem": str(error.get("msg", "invalid"))})
    details: dict[str, Any] = {}
    if missing:
        details["missing_fields"] = sorted(set(missing))
    if invalid:
        details["invalid_fields"] = sorted(set(invalid))
        details["problems"] = problems[:20]
    if missing and not invalid:
        message = "The request is missing required fields"
    elif invalid and invalid == ["body"]:
        message = "The request body must be a JSON object"
    else:
        message = "The request has invalid fields"
    return message, details


def _field_name(loc: Sequence[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    # Union branches add type names ("str", "list[str]", "constrained-str"): keep the field path.
    branch_names = ("list[", "str", "int", "function-", "constrained-")
    cleaned = [p for p in parts if not p.startswith(branch_names)]
    return ".".join(cleaned) or "body"
