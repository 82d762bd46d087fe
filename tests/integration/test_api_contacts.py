from __future__ import annotations

import pytest

from tests.support import ApiClient, unique_phone

pytestmark = pytest.mark.integration

CONTACT_FIELDS = {
    "id",
    "first_name",
    "last_name",
    "email",
    "phone_number",
    "company",
    "tags",
    "notes",
    "source",
    "address",
    "created_at",
    "updated_at",
}


async def test_create_returns_full_contact_with_e164_phone(api: ApiClient) -> None:
    response = await api.post(
        "/v1/contacts",
        json={
            "phone_number": "(555) 123-0001",
            "first_name": "John",
            "last_name": "Doe",
            "email": "john@example.com",
            "company": "Acme Outdoor Living",
            "tags": ["lead", "outdoor-living", "lead"],
        },
    )
    assert response.status_code == 201
    body = response.json()
    assert set(body) == CONTACT_FIELDS
    assert body["phone_number"] == "+15551230001"
    assert body["tags"] == ["lead", "outdoor-living"]
    assert body["created_at"].endswith("Z") and len(body["created_at"]) == 20


async def test_duplicate_phone_is_409_with_existing_id(api: ApiClient) -> None:
    phone = unique_phone()
    first = await api.create("/v1/contacts", {"phone_number": phone})
    national = f"({phone[2:5]}) {phone[5:8]}-{phone[8:]}"
    response = await api.post("/v1/contacts", json={"phone_number": national})
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "contact_exists"
    assert error["details"]["existing_id"] == first["id"]


@pytest.mark.parametrize(
    ("body", "field", "kind"),
    [
        ({}, "phone_number", "missing_fields"),
        ({"phone_number": "not a phone"}, "phone_number", "invalid_fields"),
        ({"phone_number": "+15551230002", "email": "nope"}, "email", "invalid_fields"),
        ({"phone_number": "+15551230003", "tags": "x"}, "tags", "invalid_fields"),
    ],
)
async def test_create_rejects_bad_input(
    api: ApiClient, body: dict[str, object], field: str, kind: str
) -> None:
    response = await api.post("/v1/contacts", json=body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert field in error["details"][kind]
    assert (await api.get("/v1/contacts")).json() == []


async def test_malformed_json_is_400(api: ApiClient) -> None:
    response = await api.post(
        "/v1/contacts", content=b'{"phone_number": ', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"


async def test_list_is_newest_first_and_pages_do_not_overlap(api: ApiClient) -> None:
    ids = [
        (await api.create("/v1/contacts", {"phone_number": unique_phone()}))["id"] for _ in range(7)
    ]
    newest_first = list(reversed(ids))
    seen: list[str] = []
    for offset in range(0, 7, 3):
        page = (await api.get("/v1/contacts", params={"limit": 3, "offset": offset})).json()
        seen += [c["id"] for c in page]
    assert seen == newest_first
    assert (await api.get("/v1/contacts", params={"limit": 0})).json() == []


@pytest.mark.parametrize("params", [{"limit": 101}, {"limit": -1}, {"offset": -1}, {"limit": "x"}])
async def test_bad_paging_is_400(api: ApiClient, params: dict[str, object]) -> None:
    response = await api.get("/v1/contacts", params=params)
    assert response.status_code == 400
    assert response.json()["error"]["details"]["invalid_fields"] == [next(iter(params))]


async def test_search_matches_name_email_phone(api: ApiClient) -> None:
    ann = await api.create(
        "/v1/contacts",
        {
            "phone_number": "+15557770001",
            "first_name": "Ann",
            "last_name": "Lee",
            "email": "ann@x.io",
        },
    )
    await api.create("/v1/contacts", {"phone_number": "+15557770002", "first_name": "Bob"})
    for term in ("ann", "Ann Lee", "ann@x", "7770001", "LEE"):
        found = (await api.get("/v1/contacts", params={"search": term})).json()
        assert [c["id"] for c in found] == [ann["id"]], term
    assert (await api.get("/v1/contacts", params={"search": "%"})).json() == []


async def test_tags_filter_is_any_of(api: ApiClient) -> None:
    a = await api.create("/v1/contacts", {"phone_number": unique_phone(), "tags": ["lead"]})
    b = await api.create("/v1/contacts", {"phone_number": unique_phone(), "tags": ["priority"]})
    await api.create("/v1/contacts", {"phone_number": unique_phone(), "tags": ["cold"]})
    found = (await api.get("/v1/contacts", params={"tags": "lead,priority"})).json()
    assert {c["id"] for c in found} == {a["id"], b["id"]}


async def test_patch_updates_given_fields_and_null_clears(api: ApiClient) -> None:
    contact = await api.create(
        "/v1/contacts", {"phone_number": unique_phone(), "company": "Old", "email": "a@b.co"}
    )
    response = await api.patch(
        f"/v1/contacts/{contact['id']}",
        json={"company": "Updated Company", "notes": "Follow up next week", "email": None},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["company"] == "Updated Company"
    assert body["notes"] == "Follow up next week"
    assert body["email"] is None
    assert body["created_at"] == contact["created_at"]
    assert body["updated_at"] >= contact["updated_at"]
    assert (await api.get(f"/v1/contacts/{contact['id']}")).json() == body


async def test_patch_phone_rules(api: ApiClient) -> None:
    a = await api.create("/v1/contacts", {"phone_number": unique_phone()})
    b = await api.create("/v1/contacts", {"phone_number": unique_phone()})
    clash = await api.patch(f"/v1/contacts/{a['id']}", json={"phone_number": b["phone_number"]})
    assert clash.status_code == 409
    cleared = await api.patch(f"/v1/contacts/{a['id']}", json={"phone_number": None})
    assert cleared.status_code == 400
    assert (await api.get(f"/v1/contacts/{a['id']}")).json() == a


async def test_empty_patch_is_a_no_op(api: ApiClient) -> None:
    contact = await api.create("/v1/contacts", {"phone_number": unique_phone()})
    response = await api.patch(f"/v1/contacts/{contact['id']}", json={})
    assert response.status_code == 200
    assert response.json() == contact


async def test_delete_then_404(api: ApiClient) -> None:
    contact = await api.create("/v1/contacts", {"phone_number": unique_phone()})
    deleted = await api.delete(f"/v1/contacts/{contact['id']}")
    assert deleted.status_code == 200
    assert deleted.json()["id"] == contact["id"]
    for response in (
        await api.get(f"/v1/contacts/{contact['id']}"),
        await api.delete(f"/v1/contacts/{contact['id']}"),
        await api.patch(f"/v1/contacts/{contact['id']}", json={"company": "x"}),
    ):
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "contact_not_found"
