"""Runs a POST handler's work under its ``Idempotency-Key`` (see domain.idempotency)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from vozagent.api.services import Services
from vozagent.core.errors import InvalidRequest
from vozagent.domain.idempotency.service import check_key, fingerprint

IDEMPOTENCY_HEADER = "Idempotency-Key"


async def respond_idempotently(
    request: Request,
    services: Services,
    work: Callable[[], Awaitable[BaseModel]],
    *,
    status_code: int = 201,
) -> JSONResponse:
    """Run ``work`` once per key; a retry with the same key and body replays the response."""
    raw_key = request.headers.get(IDEMPOTENCY_HEADER)
    if raw_key is None:
        result = await work()
        return JSONResponse(result.model_dump(mode="json"), status_code=status_code)
    key = check_key(raw_key)
    body = await _json_body(request)
    idempotency = services.idempotency()
    now = services.container.clock.now()
    stored = await idempotency.begin(key, fingerprint(request.method, request.url.path, body), now)
    if stored is not None:
        return JSONResponse(
            stored.body, status_code=stored.status, headers={"Idempotent-Replayed": "true"}
        )
    result = await work()
    payload = result.model_dump(mode="json")
    await idempotency.finish(key, status_code, payload)
    return JSONResponse(payload, status_code=status_code)


async def _json_body(request: Request) -> Any:
    raw = await request.body()
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:  # FastAPI has already validated the body; this is belt and braces
        raise InvalidRequest("The request body is not valid JSON") from None
