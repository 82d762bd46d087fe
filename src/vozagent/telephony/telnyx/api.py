"""The handful of Telnyx Call Control v2 REST commands we use, over the context's aiohttp.

Every command is ``POST {base}/v2/calls[/{call_control_id}/actions/<verb>]`` with a Bearer
API key and a JSON body; errors come back as ``{"errors": [{"code", "title", "detail"}]}``
(https://developers.telnyx.com/api-reference/call-commands/dial). The session is the
platform's, which applies the SSRF guard, since ``api_base_url`` is user input.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import quote

import aiohttp

from vozagent.telephony.carrier import CarrierAccount, CarrierError

log = logging.getLogger(__name__)

DEFAULT_BASE_URL: Final = "https://api.telnyx.com"
REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=15)
# Telnyx answers a command on a call that has already ended with 422 and this code.
CALL_ENDED_CODE: Final = "90018"
# find_call reads at most this many pages of active calls (250 each, Telnyx's maximum).
ACTIVE_CALL_PAGES: Final = 20
ACTIVE_CALL_PAGE_SIZE: Final = 250


class TelnyxApiError(CarrierError):
    def __init__(self, reason: str, *, status: int, code: str | None, retryable: bool) -> None:
        super().__init__(reason, retryable=retryable)
        self.status = status
        self.code = code


def credential(account: CarrierAccount | None, key: str) -> str:
    value = account.credentials.get(key) if account is not None else None
    if not isinstance(value, str) or not value:
        raise CarrierError(f"telnyx credentials lack {key}")
    return value


class TelnyxApi:
    """One account's REST client."""

    def __init__(self, http: aiohttp.ClientSession, account: CarrierAccount | None) -> None:
        self.http = http
        self.api_key = credential(account, "api_key")
        base = (account.api_base_url if account is not None else None) or DEFAULT_BASE_URL
        self.base_url = base.rstrip("/")

    async def dial(self, body: Mapping[str, Any]) -> str:
        data = await self._request("POST", "/v2/calls", body)
        reference = data.get("call_control_id") if isinstance(data, Mapping) else None
        if not isinstance(reference, str) or not reference:
            raise CarrierError("telnyx answered the dial without a call_control_id")
        return reference

    async def action(self, call_control_id: str, verb: str, body: Mapping[str, Any]) -> None:
        path = f"/v2/calls/{quote(call_control_id, safe='')}/actions/{verb}"
        await self._request("POST", path, body)

    async def active_calls(self, connection_id: str, page: int) -> list[Mapping[str, Any]]:
        path = f"/v2/connections/{quote(connection_id, safe='')}/active_calls"
        params = {"page[number]": str(page), "page[size]": str(ACTIVE_CALL_PAGE_SIZE)}
        data = await self._request("GET", path, None, params=params)
        return (
            [item for item in data if isinstance(item, Mapping)] if isinstance(data, list) else []
        )

    async def _request(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None,
        *,
        params: Mapping[str, str] | None = None,
    ) -> Any:
        headers = {"Authorization": f"Bearer {self.api_key}", "Accept": "application/json"}
        try:
            async with self.http.request(
                method,
                self.base_url + path,
                json=body,
                params=params,
                headers=headers,
                timeout=REQUEST_TIMEOUT,
            ) as response:
                payload = await _json_or_none(response)
                if response.status >= 400:
                    raise _error(response.status, payload)
                return payload.get("data") if isinstance(payload, Mapping) else None
        except (aiohttp.ClientError, TimeoutError) as error:
            raise CarrierError(
                f"telnyx unreachable: {type(error).__name__}", retryable=True
            ) from error


async def _json_or_none(response: aiohttp.ClientResponse) -> Any:
    try:
        return await response.json(content_type=None)
    except (ValueError, aiohttp.ClientPayloadError):
        return None


def _error(status: int, payload: Any) -> TelnyxApiError:
    detail, code = f"telnyx answered {status}", None
    errors = payload.get("errors") if isinstance(payload, Mapping) else None
    if isinstance(errors, list) and errors and isinstance(errors[0], Mapping):
        first = errors[0]
        text = first.get("detail") or first.get("title")
        detail = str(text) if text else detail
        code = str(first["code"]) if first.get("code") is not None else None
    # 429 and 5xx are Telnyx's trouble, not the call's: try again later.
    retryable = status == 429 or status >= 500
    return TelnyxApiError(detail, status=status, code=code, retryable=retryable)
