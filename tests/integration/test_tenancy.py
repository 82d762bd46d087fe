"""Cross-tenant isolation (OWASP API1:2023, Broken Object Level Authorization).

Organization A owns a few objects of every type; organization B holds a key with
every scope. Whatever B does with A's ids (read, change, delete, filter on them,
reference them from its own bodies, reuse A's Idempotency-Key), the answer is the
same 404 a never-existing id gets, B's lists never show an A row, and nothing of
A's changes, which is checked by comparing A's full JSON before and after.
"""

from __future__ import annotations

import json
import secrets
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from tests.support import ApiClient, OrgFactory, unique_phone
from vozagent.core.scopes import ALL_SCOPES

pytestmark = pytest.mark.integration

CONTACTS = "/v1/contacts"
ASSISTANTS = "/v1/assistants"
PHONE_NUMBERS = "/v1/phone-numbers"
WEBHOOKS = "/v1/webhooks"
CALLS = "/v1/calls"

# Resources with GET, PATCH and DELETE by id; calls only have GET by id.
MUTABLE = (CONTACTS, ASSISTANTS, PHONE_NUMBERS, WEBHOOKS)
ALL_RESOURCES = (*MUTABLE, CALLS)
PER_TYPE = 3

# Valid bodies: each would succeed on an object of the caller's own organization
# (``test_own_objects_answer_the_same_requests`` proves it).
PATCH_BODIES: dict[str, dict[str, Any]] = {
    CONTACTS: {"first_name": "Mallory", "tags": ["pwned"], "notes": "changed by B"},
    ASSISTANTS: {"name": "Pwned", "is_active": False, "system_prompt": "obey B"},
    PHONE_NUMBERS: {"label": "pwned", "status": "inactive"},
    WEBHOOKS: {"name": "pwned", "url": "https://attacker.example.net/hook", "isActive": False},
}
VERBS: dict[str, tuple[str, ...]] = {
    **{path: ("GET", "PATCH", "DELETE") for path in MUTABLE},
    CALLS: ("GET",),
}


@dataclass
class Estate:
    """One organization's objects, as their create responses returned them."""

    client: ApiClient
    marker: str
    objects: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def ids(self, path: str) -> list[str]:
        key = "call_id" if path == CALLS else "id"
        return [str(o[key]) for o in self.objects[path]]

    def all_ids(self) -> set[str]:
        return {i for path in ALL_RESOURCES for i in self.ids(path)}


async def build_estate(client: ApiClient, count: int = PER_TYPE) -> Estate:
    """``count`` contacts, outbound assistants, numbers (one per assistant), webhooks, calls."""
    marker = secrets.token_hex(6)
    estate = Estate(client=client, marker=marker)
    estate.objects[CONTACTS] = [
        await client.create(
            CONTACTS,
            {
                "phone_number": unique_phone(),
                "first_name": f"Zelda{marker}{i}",
                "last_name": f"Owner{marker}",
                "email": f"owner-{marker}-{i}@example.com",
                "company": f"Acme {marker}",
                "tags": [f"vip-{marker}", f"t{i}-{marker}"],
                "notes": f"private notes {marker}",
            },
        )
        for i in range(count)
    ]
    estate.objects[ASSISTANTS] = [
        await client.create(
            ASSISTANTS,
            {
                "name": f"Closer {marker} {i}",
                "assistant_type": "outbound",
                "system_prompt": f"confidential prompt {marker}",
            },
        )
        for i in range(count)
    ]
    estate.objects[PHONE_NUMBERS] = [
        await client.create(
            PHONE_NUMBERS,
            {
                "phone_number": unique_phone(),
                "label": f"line {marker} {i}",
                "provider": "sandbox",
                "outbound_assistant_id": assistant["id"],
            },
        )
        for i, assistant in enumerate(estate.objects[ASSISTANTS])
    ]
    estate.objects[WEBHOOKS] = [
        await client.create(
            WEBHOOKS,
            {
                "name": f"hook {marker} {i}",
                "url": f"https://hooks.example.com/{marker}/{i}",
                "events": ["call.completed", "contact.created"],
            },
        )
        for i in range(count)
    ]
    estate.objects[CALLS] = [
        await client.create(
            f"{CALLS}/outbound",
            {
                "phone_number": contact["phone_number"],
                "assistant_id": assistant["id"],
                "notes": f"call notes {marker}",
            },
        )
        for contact, assistant in zip(
            estate.objects[CONTACTS], estate.objects[ASSISTANTS], strict=True
        )
    ]
    return estate


async def snapshot(client: ApiClient) -> dict[str, Any]:
    """Everything ``client``'s organization can see: every list, and every object by id."""
    lists: dict[str, list[dict[str, Any]]] = {}
    details: dict[str, dict[str, Any]] = {}
    for path in ALL_RESOURCES:
        response = await client.get(path, params={"limit": 100})
        assert response.status_code == 200, response.text
        rows: list[dict[str, Any]] = response.json()
        assert len(rows) < 100, "snapshot would be truncated"
        lists[path] = rows
        for row in rows:
            one = await client.get(f"{path}/{row['id']}")
            assert one.status_code == 200, one.text
            details[f"{path}/{row['id']}"] = one.json()
    return {"lists": lists, "details": details}


def counts(state: dict[str, Any]) -> dict[str, int]:
    return {path: len(rows) for path, rows in state["lists"].items()}


def envelope_problem(response: httpx.Response) -> str | None:
    """Why ``response`` is not a 404 in the error envelope, or ``None`` when it is."""
    if response.status_code != 404:
        return f"status {response.status_code}: {response.text[:300]}"
    try:
        body = response.json()
    except ValueError:
        return f"not JSON: {response.text[:300]}"
    if not isinstance(body, dict) or set(body) != {"error"}:
        return f"not the error envelope: {body!r}"
    error = body["error"]
    if not isinstance(error, dict) or set(error) != {"code", "message", "details"}:
        return f"error object has the wrong keys: {error!r}"
    if not isinstance(error["code"], str) or not error["code"].endswith("not_found"):
        return f"unexpected code {error['code']!r}"
    if not isinstance(error["message"], str) or not isinstance(error["details"], dict):
        return f"wrong types in {error!r}"
    return None


def assert_not_found(response: httpx.Response) -> dict[str, Any]:
    problem = envelope_problem(response)
    assert problem is None, problem
    error: dict[str, Any] = response.json()["error"]
    return error


def fake_id_like(real_id: str) -> str:
    """A never-issued id of the same shape (same type prefix, fresh UUID)."""
    return real_id[: -len(str(uuid.uuid4()))] + str(uuid.uuid4())


def without_id(response: httpx.Response, object_id: str) -> Any:
    return json.loads(response.text.replace(object_id, "<id>"))


async def send(
    client: ApiClient, verb: str, path: str, object_id: str, body: dict[str, Any] | None
) -> httpx.Response:
    url = f"{path}/{object_id}"
    if verb == "PATCH":
        return await client.patch(url, json=body)
    return await client.request(verb, url)


@pytest.fixture
async def owner(new_org: OrgFactory) -> Estate:
    """Organization A and its objects."""
    return await build_estate(await new_org())


@pytest.fixture
async def intruder(new_org: OrgFactory) -> Estate:
    """Organization B: a key with every scope, and objects of its own."""
    return await build_estate(await new_org(scopes=list(ALL_SCOPES)))


async def test_estates_are_complete(owner: Estate, intruder: Estate) -> None:
    for estate in (owner, intruder):
        for path in ALL_RESOURCES:
            assert len(estate.ids(path)) == PER_TYPE, path
        assert all(c["status"] == "queued" for c in estate.objects[CALLS])
        assert not any(c["is_new_contact"] for c in estate.objects[CALLS])
    assert owner.client.org_id != intruder.client.org_id
    assert not owner.all_ids() & intruder.all_ids()


async def test_every_foreign_id_and_verb_is_404(owner: Estate, intruder: Estate) -> None:
    before = await snapshot(owner.client)
    b_before = await snapshot(intruder.client)
    problems: list[str] = []
    checked = 0
    for path in ALL_RESOURCES:
        for object_id in owner.ids(path):
            for verb in VERBS[path]:
                body = PATCH_BODIES.get(path) if verb == "PATCH" else None
                response = await send(intruder.client, verb, path, object_id, body)
                checked += 1
                label = f"{verb} {path}/{object_id}"
                problem = envelope_problem(response)
                if problem is not None:
                    problems.append(f"{label}: {problem}")
                    continue
                if owner.marker in response.text:
                    problems.append(f"{label}: the 404 leaks A's data: {response.text}")
                # Indistinguishable from an id that never existed (no existence oracle).
                fake = fake_id_like(object_id)
                control = await send(intruder.client, verb, path, fake, body)
                if control.status_code != 404 or without_id(response, object_id) != without_id(
                    control, fake
                ):
                    problems.append(
                        f"{label}: differs from a never-issued id: {response.text} "
                        f"vs {control.status_code} {control.text}"
                    )
    assert not problems, "\n".join(problems)
    # 4 resources x 3 objects x (GET, PATCH, DELETE) + 3 calls x GET.
    assert checked == len(MUTABLE) * PER_TYPE * 3 + PER_TYPE * 1 == 39

    after = await snapshot(owner.client)
    assert counts(after) == counts(before)
    assert after == before
    assert await snapshot(intruder.client) == b_before


async def test_lists_and_filters_never_show_foreign_rows(owner: Estate, intruder: Estate) -> None:
    a_ids = owner.all_ids()
    b = intruder.client
    contact = owner.objects[CONTACTS][0]
    assistant = owner.objects[ASSISTANTS][0]
    queries: list[tuple[str, dict[str, Any], int | None]] = [
        # (path, params, how many of B's own rows the query should return)
        (CONTACTS, {}, PER_TYPE),
        (CONTACTS, {"limit": 100}, PER_TYPE),
        (CONTACTS, {"search": contact["first_name"]}, 0),
        (CONTACTS, {"search": f"Owner{owner.marker}"}, 0),
        (CONTACTS, {"search": f"{contact['first_name']} {contact['last_name']}"}, 0),
        (CONTACTS, {"search": contact["phone_number"]}, 0),
        (CONTACTS, {"search": contact["phone_number"][-7:]}, None),
        (CONTACTS, {"search": contact["email"]}, 0),
        (CONTACTS, {"search": f"Acme {owner.marker}"}, 0),
        (CONTACTS, {"search": owner.marker}, 0),
        (CONTACTS, {"search": "Zelda"}, PER_TYPE),
        (CONTACTS, {"search": "%"}, None),
        (CONTACTS, {"search": "_"}, None),
        (CONTACTS, {"tags": f"vip-{owner.marker}"}, 0),
        (CONTACTS, {"tags": f"vip-{owner.marker},t0-{owner.marker}"}, 0),
        (CONTACTS, {"tags": f"vip-{owner.marker},vip-{intruder.marker}"}, PER_TYPE),
        (ASSISTANTS, {}, PER_TYPE),
        (ASSISTANTS, {"is_active": "true"}, PER_TYPE),
        (ASSISTANTS, {"is_active": "false"}, 0),
        (ASSISTANTS, {"assistant_type": "outbound"}, PER_TYPE),
        (ASSISTANTS, {"limit": 100, "offset": 0}, PER_TYPE),
        (PHONE_NUMBERS, {}, PER_TYPE),
        (PHONE_NUMBERS, {"status": "active"}, PER_TYPE),
        (PHONE_NUMBERS, {"provider": "sandbox"}, PER_TYPE),
        (WEBHOOKS, {}, PER_TYPE),
        (WEBHOOKS, {"limit": 100}, PER_TYPE),
        (CALLS, {}, PER_TYPE),
        (CALLS, {"status": "queued"}, PER_TYPE),
        (CALLS, {"call_type": "outbound"}, PER_TYPE),
        (CALLS, {"contact_id": contact["id"]}, 0),
        (CALLS, {"assistant_id": assistant["id"]}, 0),
        (CALLS, {"contact_id": contact["id"], "assistant_id": assistant["id"]}, 0),
    ]
    for call_contact in owner.ids(CONTACTS):
        queries.append((CALLS, {"contact_id": call_contact}, 0))
    for call_assistant in owner.ids(ASSISTANTS):
        queries.append((CALLS, {"assistant_id": call_assistant}, 0))

    problems: list[str] = []
    for path, params, expected in queries:
        response = await b.get(path, params=params)
        label = f"GET {path} {params}"
        if response.status_code != 200:
            problems.append(f"{label}: status {response.status_code}: {response.text[:300]}")
            continue
        rows = response.json()
        leaked = {row["id"] for row in rows} & a_ids
        if leaked or owner.marker in response.text:
            problems.append(f"{label}: shows A's rows {sorted(leaked)}: {response.text[:300]}")
        if not {row["id"] for row in rows} <= intruder.all_ids():
            problems.append(f"{label}: rows that are not B's: {response.text[:300]}")
        if expected is not None and len(rows) != expected:
            problems.append(f"{label}: {len(rows)} rows, expected {expected} of B's own")
    assert not problems, "\n".join(problems)

    # The same filters through A's key do find A's rows: the queries above are meaningful.
    a = owner.client
    found = (await a.get(CONTACTS, params={"search": contact["first_name"]})).json()
    assert [row["id"] for row in found] == [contact["id"]]
    found = (await a.get(CONTACTS, params={"tags": f"vip-{owner.marker}"})).json()
    assert len(found) == PER_TYPE
    found = (await a.get(CALLS, params={"contact_id": contact["id"]})).json()
    assert len(found) == 1
    found = (await a.get(CALLS, params={"assistant_id": assistant["id"]})).json()
    assert len(found) == 1


async def test_foreign_references_in_bodies_are_rejected(owner: Estate, intruder: Estate) -> None:
    before = await snapshot(owner.client)
    b = intruder.client
    b_before = await snapshot(b)
    a_assistant = owner.objects[ASSISTANTS][0]
    a_number = owner.objects[PHONE_NUMBERS][0]
    b_assistant = intruder.objects[ASSISTANTS][0]
    b_number = intruder.objects[PHONE_NUMBERS][0]

    # A phone number pointing at A's assistant, in either slot.
    new_number = unique_phone()
    for slot in ("assistant_id", "outbound_assistant_id"):
        response = await b.post(
            PHONE_NUMBERS,
            json={"phone_number": new_number, "provider": "sandbox", slot: a_assistant["id"]},
        )
        error = assert_not_found(response)
        assert error["code"] == "assistant_not_found"
        # B's own number, re-pointed at A's assistant.
        response = await b.patch(
            f"{PHONE_NUMBERS}/{b_number['id']}", json={slot: a_assistant["id"]}
        )
        assert assert_not_found(response)["code"] == "assistant_not_found"

    # An assistant taking A's number, on create and on update.
    intruder_name = f"Intruder {intruder.marker}"
    for assistant_type in ("outbound", "inbound", "custom"):
        response = await b.post(
            ASSISTANTS,
            json={
                "name": intruder_name,
                "assistant_type": assistant_type,
                "phone_number_id": a_number["id"],
            },
        )
        assert assert_not_found(response)["code"] == "phone_number_not_found"
    response = await b.patch(
        f"{ASSISTANTS}/{b_assistant['id']}", json={"phone_number_id": a_number["id"]}
    )
    assert assert_not_found(response)["code"] == "phone_number_not_found"

    # An outbound call through A's assistant, by id and by name, to a new and to A's contact.
    targets = [unique_phone(), owner.objects[CONTACTS][0]["phone_number"]]
    for target in targets:
        for choice in (
            {"assistant_id": a_assistant["id"]},
            {"assistant_name": a_assistant["name"]},
            {"assistant_id": a_assistant["id"], "assistant_name": a_assistant["name"]},
        ):
            response = await b.post(
                f"{CALLS}/outbound",
                json={"phone_number": target, "first_name": "Mallory", **choice},
            )
            assert_not_found(response)

    # Nothing was created or changed on either side.
    b_after = await snapshot(b)
    assert counts(b_after) == counts(b_before)
    assert b_after == b_before
    assert intruder_name not in json.dumps(b_after)
    after = await snapshot(owner.client)
    assert after == before
    for target in targets:
        assert target not in json.dumps(b_after)
    # The refused number was not reserved by the failed attempts.
    created = await b.create(PHONE_NUMBERS, {"phone_number": new_number, "provider": "sandbox"})
    assert created["assistant_id"] is None
    assert created["outbound_assistant_id"] is None


async def test_calling_a_foreign_contacts_number_makes_an_own_contact(
    owner: Estate, intruder: Estate
) -> None:
    """Contacts are per organization: B's call to A's contact's phone never touches A's contact."""
    before = await snapshot(owner.client)
    a_contact = owner.objects[CONTACTS][1]
    created = await intruder.client.create(
        f"{CALLS}/outbound",
        {
            "phone_number": a_contact["phone_number"],
            "assistant_id": intruder.objects[ASSISTANTS][0]["id"],
            "tags": ["from-b"],
            "source": "b-campaign",
        },
    )
    assert created["is_new_contact"] is True
    assert created["contact_id"] != a_contact["id"]
    own = await intruder.client.get(f"{CONTACTS}/{created['contact_id']}")
    assert own.status_code == 200
    assert own.json()["first_name"] is None  # nothing copied from A's contact
    assert own.json()["tags"] == ["from-b"]
    assert owner.marker not in own.text
    assert await snapshot(owner.client) == before


async def test_idempotency_keys_are_per_organization(new_org: OrgFactory) -> None:
    a = await new_org()
    b = await new_org(scopes=list(ALL_SCOPES))
    key = f"shared-{secrets.token_hex(8)}"
    body = {"phone_number": unique_phone(), "first_name": "Same"}
    headers = {"Idempotency-Key": key}

    first_a = await a.post(CONTACTS, json=body, headers=headers)
    assert first_a.status_code == 201, first_a.text
    first_b = await b.post(CONTACTS, json=body, headers=headers)
    assert first_b.status_code == 201, first_b.text
    assert "Idempotent-Replayed" not in first_b.headers
    assert first_b.json()["id"] != first_a.json()["id"]

    # Each organization's retry replays its own response, never the other's.
    again_a = await a.post(CONTACTS, json=body, headers=headers)
    again_b = await b.post(CONTACTS, json=body, headers=headers)
    assert (again_a.status_code, again_b.status_code) == (201, 201)
    assert again_a.headers.get("Idempotent-Replayed") == "true"
    assert again_b.headers.get("Idempotent-Replayed") == "true"
    assert again_a.json() == first_a.json()
    assert again_b.json() == first_b.json()

    # Each sees only its own contact.
    assert (await a.get(f"{CONTACTS}/{first_b.json()['id']}")).status_code == 404
    assert (await b.get(f"{CONTACTS}/{first_a.json()['id']}")).status_code == 404
    assert [c["id"] for c in (await a.get(CONTACTS)).json()] == [first_a.json()["id"]]
    assert [c["id"] for c in (await b.get(CONTACTS)).json()] == [first_b.json()["id"]]

    # A key A used with one body is free for B with another (no cross-org 422 either).
    other_key = f"other-{secrets.token_hex(8)}"
    only_a = await a.post(
        CONTACTS,
        json={"phone_number": unique_phone(), "first_name": "OnlyA"},
        headers={"Idempotency-Key": other_key},
    )
    assert only_a.status_code == 201, only_a.text
    only_b = await b.post(
        CONTACTS,
        json={"phone_number": unique_phone(), "first_name": "OnlyB"},
        headers={"Idempotency-Key": other_key},
    )
    assert only_b.status_code == 201, only_b.text
    assert "Idempotent-Replayed" not in only_b.headers
    assert only_b.json()["first_name"] == "OnlyB"
    assert only_b.json()["id"] != only_a.json()["id"]
    # ...while inside one organization the key stays bound to its first body.
    reused = await b.post(
        CONTACTS,
        json={"phone_number": unique_phone(), "first_name": "Different"},
        headers={"Idempotency-Key": other_key},
    )
    assert reused.status_code == 422, reused.text
    assert reused.json()["error"]["code"] == "idempotency_key_reused"


async def test_own_objects_answer_the_same_requests(intruder: Estate) -> None:
    """The control: B's key reaches B's own objects with exactly the attack requests."""
    b = intruder.client
    state = await snapshot(b)
    for path in ALL_RESOURCES:
        assert {row["id"] for row in state["lists"][path]} == set(intruder.ids(path)), path
    checked = 0
    for path in ALL_RESOURCES:
        for object_id in intruder.ids(path):
            for verb in VERBS[path]:
                body = PATCH_BODIES.get(path) if verb == "PATCH" else None
                response = await send(b, verb, path, object_id, body)
                assert response.status_code == 200, f"{verb} {path}: {response.text}"
                assert response.json()["id"] == object_id
                if verb == "PATCH":
                    assert body is not None
                    changed = response.json()
                    for name, value in body.items():
                        name = "is_active" if name == "isActive" else name
                        assert changed[name] == value, (path, name)
                checked += 1
            if "DELETE" in VERBS[path]:
                assert (await b.get(f"{path}/{object_id}")).status_code == 404
    assert checked == 39
