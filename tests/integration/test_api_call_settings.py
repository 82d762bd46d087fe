"""The call-settings extension: the caller's organization's calling rules."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import ApiClient, OrgFactory, unique_phone

pytestmark = pytest.mark.integration

SETTINGS = "/v1/call-settings"
DEFAULTS = {
    "calling_hours_start": "08:00",
    "calling_hours_end": "21:00",
    "max_concurrent_calls": 10,
    "max_attempts": 1,
    "retry_after_minutes": 30,
    "default_outbound_number_id": None,
}


async def test_defaults_and_partial_update(api: ApiClient) -> None:
    assert (await api.get(SETTINGS)).json() == DEFAULTS
    response = await api.patch(
        SETTINGS,
        json={"calling_hours_start": "09:30", "max_attempts": 3, "retry_after_minutes": 15.0},
    )
    assert response.status_code == 200, response.text
    expected = {
        **DEFAULTS,
        "calling_hours_start": "09:30",
        "max_attempts": 3,
        "retry_after_minutes": 15,
    }
    assert response.json() == expected
    assert (await api.get(SETTINGS)).json() == expected
    assert (await api.patch(SETTINGS, json={})).json() == expected


@pytest.mark.parametrize(
    ("body", "invalid"),
    [
        ({"calling_hours_start": "8:00"}, ["calling_hours_start"]),
        ({"calling_hours_end": "24:00"}, ["calling_hours_end"]),
        ({"calling_hours_end": "21:00:00"}, ["calling_hours_end"]),
        ({"calling_hours_start": "21:00"}, ["calling_hours_end", "calling_hours_start"]),
        (
            {"calling_hours_start": "10:00", "calling_hours_end": "09:59"},
            ["calling_hours_end", "calling_hours_start"],
        ),
        ({"max_concurrent_calls": 0}, ["max_concurrent_calls"]),
        ({"max_attempts": 11}, ["max_attempts"]),
        ({"max_attempts": 0}, ["max_attempts"]),
        ({"max_attempts": "2"}, ["max_attempts"]),
        ({"retry_after_minutes": 0}, ["retry_after_minutes"]),
        ({"max_attempts": None}, ["max_attempts"]),
        ({"calling_hours_start": None}, ["calling_hours_start"]),
    ],
)
async def test_validation(api: ApiClient, body: dict[str, Any], invalid: list[str]) -> None:
    response = await api.patch(SETTINGS, json={**body, "max_concurrent_calls": 5, **body})
    assert response.status_code == 400, response.text
    assert response.json()["error"]["details"]["invalid_fields"] == invalid
    assert (await api.get(SETTINGS)).json() == DEFAULTS  # nothing partially written


async def test_default_outbound_number(api: ApiClient, new_org: OrgFactory) -> None:
    number = await api.create(
        "/v1/phone-numbers", {"phone_number": unique_phone(), "provider": "sandbox"}
    )
    chosen = await api.patch(SETTINGS, json={"default_outbound_number_id": number["id"]})
    assert chosen.json()["default_outbound_number_id"] == number["id"]
    cleared = await api.patch(SETTINGS, json={"default_outbound_number_id": None})
    assert cleared.json()["default_outbound_number_id"] is None
    inactive = await api.create(
        "/v1/phone-numbers",
        {"phone_number": unique_phone(), "provider": "sandbox", "status": "inactive"},
    )
    refused = await api.patch(SETTINGS, json={"default_outbound_number_id": inactive["id"]})
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "phone_number_inactive"
    other = await new_org()
    foreign = await other.patch(SETTINGS, json={"default_outbound_number_id": number["id"]})
    assert foreign.status_code == 404
    assert foreign.json()["error"]["details"]["field"] == "default_outbound_number_id"
    # Deleting the number clears the setting rather than leaving a dangling id.
    await api.patch(SETTINGS, json={"default_outbound_number_id": number["id"]})
    assert (await api.delete(f"/v1/phone-numbers/{number['id']}")).status_code == 200
    assert (await api.get(SETTINGS)).json()["default_outbound_number_id"] is None


async def test_each_organization_has_its_own(api: ApiClient, new_org: OrgFactory) -> None:
    other = await new_org()
    await api.patch(SETTINGS, json={"max_concurrent_calls": 2, "org_id": other.org_id})
    assert (await other.get(SETTINGS)).json() == DEFAULTS
    assert (await api.get(SETTINGS)).json()["max_concurrent_calls"] == 2


async def test_scopes(new_org: OrgFactory) -> None:
    reader = await new_org(scopes=["settings:read"])
    assert (await reader.get(SETTINGS)).status_code == 200
    refused = await reader.patch(SETTINGS, json={"max_attempts": 2})
    assert refused.status_code == 403
    assert refused.json()["error"]["details"]["required_scope"] == "settings:write"


async def test_extensions_are_in_the_openapi_document(api: ApiClient) -> None:
    paths = (await api.get("/v1/openapi.json")).json()["paths"]
    assert set(paths[SETTINGS]) == {"get", "patch"}
    assert set(paths["/v1/dnc"]) == {"get", "post"}
    assert set(paths["/v1/dnc/{dnc_id}"]) == {"get", "delete"}
    assert set(paths["/v1/telephony-credentials/{credentials_id}"]) == {"get", "delete"}
    assert "409" in paths["/v1/telephony-credentials/{credentials_id}"]["delete"]["responses"]
    call = (await api.get("/v1/openapi.json")).json()["components"]["schemas"]["CallRead"]
    assert {"end_reason", "answered_by", "attempts", "carrier"} <= set(call["properties"])
