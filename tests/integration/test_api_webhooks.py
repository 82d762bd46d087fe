from __future__ import annotations

import base64

import pytest

from tests.support import ApiClient

pytestmark = pytest.mark.integration

HOOK = {
    "name": "My Webhook",
    "url": "https://yourapp.com/webhooks",
    "events": ["contact.created", "call.completed"],
}


async def test_create_shows_secret_once(api: ApiClient) -> None:
    created = await api.create("/v1/webhooks", HOOK)
    assert created["is_active"] is True
    secret = created["secret"]
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 24
    listed = (await api.get("/v1/webhooks")).json()
    assert [w["secret"] for w in listed] == ["whsec_*****"]
    fetched = (await api.get(f"/v1/webhooks/{created['id']}")).json()
    assert fetched["secret"] == "whsec_*****"
    assert fetched["name"] == "My Webhook"


@pytest.mark.parametrize("alias", ["isActive", "is_active"])
async def test_patch_accepts_both_spellings_and_hides_secret(api: ApiClient, alias: str) -> None:
    created = await api.create("/v1/webhooks", HOOK)
    response = await api.patch(
        f"/v1/webhooks/{created['id']}", json={alias: False, "events": ["appointment.booked"]}
    )
    assert response.status_code == 200
    body = response.json()
    assert "secret" not in body
    assert body["is_active"] is False
    assert body["events"] == ["appointment.booked"]
    assert set(body) == {
        "id",
        "name",
        "url",
        "events",
        "is_active",
        "created_at",
        "updated_at",
    }


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"url": "http://yourapp.com/hook"}, "url"),
        ({"url": "https://127.0.0.1/hook"}, "url"),
        ({"url": "https://localhost/hook"}, "url"),
        ({"url": "https://169.254.169.254/latest"}, "url"),
        ({"url": "https://[::ffff:127.0.0.1]/"}, "url"),
        ({"url": "https://2130706433/"}, "url"),
        ({"url": "https://user:pw@yourapp.com/"}, "url"),
        ({"url": "ftp://yourapp.com/"}, "url"),
        ({"events": []}, "events"),
        ({"events": ["call.exploded"]}, "events"),
    ],
)
async def test_invalid_subscriptions_are_400(
    api: ApiClient, override: dict[str, object], field: str
) -> None:
    response = await api.post("/v1/webhooks", json={**HOOK, **override})
    assert response.status_code == 400, response.text
    assert field in response.json()["error"]["details"]["invalid_fields"]
    assert (await api.get("/v1/webhooks")).json() == []


async def test_unknown_event_lists_valid_choices(api: ApiClient) -> None:
    response = await api.post("/v1/webhooks", json={**HOOK, "events": ["nope"]})
    choices = response.json()["error"]["details"]["valid_choices"]
    assert "contact.updated" in choices and "*" in choices


async def test_wildcard_and_delete(api: ApiClient) -> None:
    created = await api.create("/v1/webhooks", {**HOOK, "events": ["*"]})
    deleted = await api.delete(f"/v1/webhooks/{created['id']}")
    assert deleted.status_code == 200
    assert deleted.json()["secret"] == "whsec_*****"
    assert (await api.get(f"/v1/webhooks/{created['id']}")).status_code == 404
