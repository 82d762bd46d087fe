from __future__ import annotations

import pytest

from tests.support import ApiClient, unique_phone

pytestmark = pytest.mark.integration

SUMMARY_FIELDS = {
    "id",
    "name",
    "role",
    "assistant_type",
    "is_active",
    "voice_id",
    "first_message",
    "phone_number_id",
    "created_at",
    "updated_at",
}
DETAIL_EXTRA = {
    "first_message_mode",
    "personality",
    "system_prompt",
    "template_id",
    "vapi_assistant_id",
    "language",
    "llm",
    "stt",
    "tools",
    "max_duration_seconds",
    "end_call_phrases",
    "analysis_schema",
}


def assistant_body(**overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "name": "Inbound Receptionist",
        "role": "receptionist",
        "assistant_type": "inbound",
        "voice_id": "sarah",
        "first_message": "Hello! Thanks for calling.",
        "first_message_mode": "assistant-speaks-first",
        "personality": "friendly, professional",
        "system_prompt": "You are a helpful receptionist...",
        "template_id": "tpl-inbound-001",
    }
    body.update(overrides)
    return body


async def test_create_and_get_detail(api: ApiClient) -> None:
    created = await api.create("/v1/assistants", assistant_body())
    assert set(created) == SUMMARY_FIELDS | DETAIL_EXTRA
    assert created["llm"] == {"provider": "flow", "model": None}
    assert created["vapi_assistant_id"] is None
    fetched = (await api.get(f"/v1/assistants/{created['id']}")).json()
    assert fetched == created


async def test_list_returns_summaries_with_filters(api: ApiClient) -> None:
    inbound = await api.create("/v1/assistants", assistant_body())
    outbound = await api.create(
        "/v1/assistants", assistant_body(name="Sales", assistant_type="outbound", is_active=False)
    )
    listed = (await api.get("/v1/assistants")).json()
    assert [a["id"] for a in listed] == [outbound["id"], inbound["id"]]
    assert set(listed[0]) == SUMMARY_FIELDS
    only_active = (await api.get("/v1/assistants", params={"is_active": "true"})).json()
    assert [a["id"] for a in only_active] == [inbound["id"]]
    only_outbound = (await api.get("/v1/assistants", params={"assistant_type": "outbound"})).json()
    assert [a["id"] for a in only_outbound] == [outbound["id"]]
    bad = await api.get("/v1/assistants", params={"assistant_type": "robot"})
    assert bad.status_code == 400


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"voice_id": "nobody"}, "voice_id"),
        ({"llm": {"provider": "skynet"}}, "llm.provider"),
        ({"stt": {"provider": "ears"}}, "stt.provider"),
        ({"language": "xx"}, "language"),
    ],
)
async def test_unknown_choices_are_400_with_valid_choices(
    api: ApiClient, override: dict[str, object], field: str
) -> None:
    response = await api.post("/v1/assistants", json=assistant_body(**override))
    assert response.status_code == 400
    details = response.json()["error"]["details"]
    assert details["invalid_fields"] == [field]
    assert details["valid_choices"]


async def test_cloud_voice_and_custom_tool(api: ApiClient) -> None:
    created = await api.create(
        "/v1/assistants",
        assistant_body(
            voice_id="elevenlabs:21m00Tcm4TlvDq8ikWAM",
            llm={"provider": "openai", "model": "gpt-4o-mini"},
            tools=[
                {"name": "end_call"},
                {
                    "name": "lookup_order",
                    "description": "Find an order",
                    "parameters": {"type": "object", "properties": {"id": {"type": "string"}}},
                    "url": "https://example.com/tools/lookup",
                },
            ],
            end_call_phrases=["goodbye"],
            max_duration_seconds=300,
        ),
    )
    assert created["voice_id"] == "elevenlabs:21m00Tcm4TlvDq8ikWAM"
    assert [t["name"] for t in created["tools"]] == ["end_call", "lookup_order"]
    no_url = await api.post("/v1/assistants", json=assistant_body(tools=[{"name": "custom_x"}]))
    assert no_url.status_code == 400


async def test_phone_number_link_uses_the_slot_of_the_type(api: ApiClient) -> None:
    number = await api.create(
        "/v1/phone-numbers", {"phone_number": unique_phone(), "provider": "sandbox"}
    )
    outbound = await api.create(
        "/v1/assistants",
        assistant_body(name="Out", assistant_type="outbound", phone_number_id=number["id"]),
    )
    inbound = await api.create("/v1/assistants", assistant_body(phone_number_id=number["id"]))
    stored = (await api.get(f"/v1/phone-numbers/{number['id']}")).json()
    assert stored["outbound_assistant_id"] == outbound["id"]
    assert stored["assistant_id"] == inbound["id"]
    assert outbound["phone_number_id"] == inbound["phone_number_id"] == number["id"]
    unlinked = await api.patch(f"/v1/assistants/{inbound['id']}", json={"phone_number_id": None})
    assert unlinked.json()["phone_number_id"] is None
    stored = (await api.get(f"/v1/phone-numbers/{number['id']}")).json()
    assert stored["assistant_id"] is None
    missing = await api.post("/v1/assistants", json=assistant_body(phone_number_id="pn-nope"))
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "phone_number_not_found"


async def test_patch_and_null_rules(api: ApiClient) -> None:
    created = await api.create("/v1/assistants", assistant_body())
    updated = await api.patch(
        f"/v1/assistants/{created['id']}", json={"is_active": False, "personality": None}
    )
    assert updated.status_code == 200
    assert updated.json()["is_active"] is False
    assert updated.json()["personality"] is None
    bad = await api.patch(f"/v1/assistants/{created['id']}", json={"name": None})
    assert bad.status_code == 400
    assert bad.json()["error"]["details"]["invalid_fields"] == ["name"]


async def test_delete_frees_the_number_slot(api: ApiClient) -> None:
    number = await api.create(
        "/v1/phone-numbers", {"phone_number": unique_phone(), "provider": "sandbox"}
    )
    assistant = await api.create("/v1/assistants", assistant_body(phone_number_id=number["id"]))
    assert (await api.delete(f"/v1/assistants/{assistant['id']}")).status_code == 200
    assert (await api.get(f"/v1/assistants/{assistant['id']}")).status_code == 404
    assert (await api.get(f"/v1/phone-numbers/{number['id']}")).json()["assistant_id"] is None
