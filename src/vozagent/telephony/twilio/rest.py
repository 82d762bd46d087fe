"""The few Twilio REST calls we make: create, update and list Call resources.

https://www.twilio.com/docs/voice/api/call-resource. Form-encoded requests, HTTP Basic auth
with the account SID and auth token, JSON answers. Errors come back as
``{"code": 21211, "message": "...", "more_info": "...", "status": 400}``.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlencode

import aiohttp

from vozagent.telephony.carrier import CarrierAccount, CarrierError

DEFAULT_API_BASE = "https://api.twilio.com"
API_VERSION = "2010-04-01"
REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=15)

FormFields = Sequence[tuple[str, str]]


class TwilioRest:
    """One account's view of the Calls resource."""

    def __init__(self, http: aiohttp.ClientSession, account: CarrierAccount | None) -> None:
        if account is None:
            raise CarrierError("twilio: no credentials for this number")
        try:
            self.account_sid = str(account.credentials["account_sid"])
            auth_token = str(account.credentials["auth_token"])
        except KeyError as missing:
            raise CarrierError(f"twilio: credentials lack {missing.args[0]}") from None
        self._http = http
        self._authorization = _basic_auth(self.account_sid, auth_token)
        base = (account.api_base_url or DEFAULT_API_BASE).rstrip("/")
        self._calls_url = f"{base}/{API_VERSION}/Accounts/{self.account_sid}/Calls"

    async def create_call(self, fields: FormFields) -> str:
        body = await self._request("POST", f"{self._calls_url}.json", form=fields)
        sid = body.get("sid")
        if not isinstance(sid, str) or not sid:
            raise CarrierError("twilio: create call answered without a sid", retryable=True)
        return sid

    async def update_call(self, call_sid: str, fields: FormFields) -> None:
        await self._request("POST", f"{self._calls_url}/{call_sid}.json", form=fields)

    async def list_calls(self, query: Mapping[str, str]) -> list[Mapping[str, Any]]:
        body = await self._request("GET", f"{self._calls_url}.json", query=query)
        calls = body.get("calls")
        return (
            [call for call in calls if isinstance(call, Mapping)] if isinstance(calls, list) else []
        )

    async def _request(
        self,
        method: str,
        url: str,
        *,
        form: FormFields | None = None,
        query: Mapping[str, str] | None = None,
    ) -> Mapping[str, Any]:
        headers = {"Accept": "application/json", "Authorization": self._authorization}
        data = None
        if form is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            data = urlencode(list(form))
        try:
            async with self._http.request(
                method,
                url,
                data=data,
                params=query,
                headers=headers,
                timeout=REQUEST_TIMEOUT,
            ) as response:
                body = await _json_body(response)
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as error:
            raise CarrierError(
                f"twilio unreachable: {type(error).__name__}", retryable=True
            ) from error
        if status >= 400:
            raise _error_from(status, body)
        return body


def _basic_auth(login: str, password: str) -> str:
    # Built by hand: aiohttp.BasicAuth is deprecated, and its replacement is too recent for
    # the aiohttp versions we support.
    return "Basic " + base64.b64encode(f"{login}:{password}".encode()).decode()


async def _json_body(response: aiohttp.ClientResponse) -> Mapping[str, Any]:
    try:
        body = await response.json(content_type=None)
    except ValueError:
        return {}
    return body if isinstance(body, Mapping) else {}


def _error_from(status: int, body: Mapping[str, Any]) -> CarrierError:
    """4xx is Twilio refusing the request (bad number, auth): the call fails with its reason.
    429 and 5xx are Twilio's own trouble: try again later."""
    code = body.get("code")
    message = body.get("message") or f"HTTP {status}"
    reason = f"twilio error {code}: {message}" if code else f"twilio: {message}"
    return CarrierError(reason, retryable=status == 429 or status >= 500)


def rfc2822(value: object) -> datetime | None:
    """Twilio's timestamps ("Tue, 31 Aug 2010 20:36:28 +0000"), or None when absent/bad."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
