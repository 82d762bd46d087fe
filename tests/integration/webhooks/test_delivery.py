"""Delivery to real loopback receivers: signatures, retries, failure rules, isolation."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from datetime import timedelta
from typing import Any

import pytest
from aiohttp import web
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from standardwebhooks import Webhook, WebhookVerificationError

from tests.integration.webhooks.conftest import (
    Receiver,
    VirtualClock,
    WorkerFactory,
    create_contact,
    create_endpoint,
    run_until,
)
from tests.support import ApiClient
from vozagent.webhooks.sender import WebhookSender
from vozagent.webhooks.signing import secret_bytes, sign
from vozagent.workers.webhook_delivery import WebhookDeliveryWorker

pytestmark = pytest.mark.integration


def _verify(secret: str, received: Any) -> dict[str, Any]:
    payload: dict[str, Any] = Webhook(secret).verify(received.body, received.headers)
    return payload


async def test_contact_event_arrives_signed_with_the_api_object(
    hooks_api: ApiClient, receiver: Receiver, delivery_worker: WorkerFactory
) -> None:
    endpoint = await create_endpoint(hooks_api, receiver.url("/signed"), ["contact.created"])
    contact = await create_contact(hooks_api, first_name="Ada", tags=["vip"])
    async with delivery_worker() as worker:
        await run_until(worker, lambda: len(receiver.at("/signed")) == 1)
    received = receiver.at("/signed")[0]
    payload = _verify(endpoint["secret"], received)
    assert set(payload) == {"id", "type", "created_at", "data"}
    assert payload["type"] == "contact.created"
    assert payload["data"] == contact  # the same object the API returned
    assert received.headers["webhook-id"] == payload["id"]
    assert received.headers["Content-Type"] == "application/json"


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    first_name=st.text(min_size=1, max_size=60).filter(lambda s: "\x00" not in s and s.strip()),
    notes=st.text(max_size=400).filter(lambda s: "\x00" not in s),
)
async def test_signatures_verify_with_standardwebhooks_over_random_payloads(
    hooks_api: ApiClient,
    receiver: Receiver,
    delivery_worker: WorkerFactory,
    first_name: str,
    notes: str,
) -> None:
    path = f"/random-{len(receiver.received)}-{time.monotonic_ns()}"
    endpoint = await create_endpoint(hooks_api, receiver.url(path), ["contact.created"])
    contact = await create_contact(hooks_api, first_name=first_name, notes=notes)
    async with delivery_worker() as worker:
        await run_until(worker, lambda: len(receiver.at(path)) == 1)
    payload = _verify(endpoint["secret"], receiver.at(path)[0])
    assert payload["data"] == contact
    await hooks_api.delete(f"/v1/webhooks/{endpoint['id']}")


async def test_tampered_messages_are_rejected_by_the_verifier(
    hooks_api: ApiClient, receiver: Receiver, delivery_worker: WorkerFactory
) -> None:
    endpoint = await create_endpoint(hooks_api, receiver.url("/tamper"))
    await create_contact(hooks_api)
    async with delivery_worker() as worker:
        await run_until(worker, lambda: len(receiver.at("/tamper")) >= 1)
    original = receiver.at("/tamper")[0]
    secret = endpoint["secret"]
    _verify(secret, original)  # the untouched message passes

    flipped = bytearray(original.body)
    flipped[len(flipped) // 2] ^= 0x01
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(bytes(flipped), original.headers)

    wrong = "whsec_" + base64.b64encode(b"x" * 24).decode()
    with pytest.raises(WebhookVerificationError):
        Webhook(wrong).verify(original.body, original.headers)

    # A re-signed message (valid signature) outside the 5-minute tolerance is refused.
    for skew in (-301, 301):
        timestamp = int(original.headers["webhook-timestamp"]) + skew
        message_id = original.headers["webhook-id"]
        headers = dict(original.headers)
        headers["webhook-timestamp"] = str(timestamp)
        headers["webhook-signature"] = sign(
            secret_bytes(secret), message_id, timestamp, original.body
        )
        with pytest.raises(WebhookVerificationError):
            Webhook(secret).verify(original.body, headers)


async def test_retries_keep_the_id_and_refresh_the_timestamp_on_the_schedule(
    hooks_api: ApiClient, receiver: Receiver, delivery_worker: WorkerFactory
) -> None:
    attempts = 0

    async def flaky(_request: web.Request) -> web.Response:
        nonlocal attempts
        attempts += 1
        return web.Response(status=500 if attempts < 4 else 200, text="nope")

    endpoint = await create_endpoint(hooks_api, receiver.on("/flaky", flaky))
    await create_contact(hooks_api)
    clock = VirtualClock()
    async with delivery_worker(clock=clock) as worker:
        await worker.run_once()
        assert attempts == 1  # attempt 1 is immediate
        # Nothing is due before the jittered 5 s (±20%) wait...
        clock.advance(timedelta(seconds=3.9))
        await worker.run_once()
        assert attempts == 1
        # ...and the next tries follow 5 s, 5 min, 30 min.
        for wait in (timedelta(seconds=6.1), timedelta(minutes=6.1), timedelta(minutes=36.1)):
            clock.advance(wait)
            await worker.run_once()
    assert attempts == 4
    got = receiver.at("/flaky")
    assert len({r.headers["webhook-id"] for r in got}) == 1
    stamps = [int(r.headers["webhook-timestamp"]) for r in got]
    assert stamps == sorted(stamps) and len(set(stamps)) == 4
    for r in got:  # every attempt is signed for its own timestamp
        expected = sign(
            secret_bytes(endpoint["secret"]),
            r.headers["webhook-id"],
            int(r.headers["webhook-timestamp"]),
            r.body,
        )
        assert r.headers["webhook-signature"] == expected
    deliveries = (await hooks_api.get(f"/v1/webhooks/{endpoint['id']}/deliveries")).json()
    assert deliveries[0]["status"] == "succeeded"
    assert deliveries[0]["attempts"] == 4
    assert [a["status_code"] for a in deliveries[0]["attempt_log"]] == [500, 500, 500, 200]


async def test_retry_after_is_honoured(
    hooks_api: ApiClient, receiver: Receiver, delivery_worker: WorkerFactory
) -> None:
    async def busy(_request: web.Request) -> web.Response:
        return web.Response(status=429, headers={"Retry-After": "3600"})

    endpoint = await create_endpoint(hooks_api, receiver.on("/busy", busy))
    await create_contact(hooks_api)
    clock = VirtualClock()
    async with delivery_worker(clock=clock) as worker:
        await worker.run_once()
        clock.advance(timedelta(minutes=59))  # far past the scheduled 5 s
        await worker.run_once()
        assert len(receiver.at("/busy")) == 1
        clock.advance(timedelta(minutes=2))
        await worker.run_once()
    assert len(receiver.at("/busy")) == 2
    (delivery,) = (await hooks_api.get(f"/v1/webhooks/{endpoint['id']}/deliveries")).json()
    assert delivery["status"] == "pending" and delivery["response_status_code"] == 429


async def test_410_disables_the_endpoint_and_cancels_what_is_pending(
    hooks_api: ApiClient, receiver: Receiver, delivery_worker: WorkerFactory
) -> None:
    async def gone(_request: web.Request) -> web.Response:
        return web.Response(status=410)

    endpoint = await create_endpoint(hooks_api, receiver.on("/gone", gone))
    watcher = await create_endpoint(hooks_api, receiver.url("/watcher"), ["webhook.disabled"])
    await create_contact(hooks_api)
    async with delivery_worker() as worker:
        await worker.run_once()
        await create_contact(hooks_api)  # recorded while active, before the 410 is seen
        await worker.run_once()
        await run_until(worker, lambda: len(receiver.at("/watcher")) == 1)
    hook = (await hooks_api.get(f"/v1/webhooks/{endpoint['id']}")).json()
    assert hook["is_active"] is False
    assert "410" in hook["disabled_reason"]
    statuses = {
        d["status"]
        for d in (await hooks_api.get(f"/v1/webhooks/{endpoint['id']}/deliveries")).json()
    }
    assert "pending" not in statuses
    notice = _verify(watcher["secret"], receiver.at("/watcher")[0])
    assert notice["type"] == "webhook.disabled"
    assert notice["data"]["webhook_id"] == endpoint["id"]


async def test_redirects_are_not_followed(
    hooks_api: ApiClient, receiver: Receiver, delivery_worker: WorkerFactory
) -> None:
    async def redirect(_request: web.Request) -> web.Response:
        return web.Response(status=307, headers={"Location": receiver.url("/target")})

    endpoint = await create_endpoint(hooks_api, receiver.on("/redirect", redirect))
    await create_contact(hooks_api)
    async with delivery_worker() as worker:
        await worker.run_once()
    assert len(receiver.at("/redirect")) == 1
    assert receiver.at("/target") == []
    (delivery,) = (await hooks_api.get(f"/v1/webhooks/{endpoint['id']}/deliveries")).json()
    assert delivery["status"] == "pending"  # a 3xx is a failure, retried later
    assert delivery["response_status_code"] == 307


async def test_a_hung_endpoint_does_not_delay_a_healthy_one(
    hooks_api: ApiClient, receiver: Receiver, delivery_worker: WorkerFactory
) -> None:
    release = asyncio.Event()

    async def hang(_request: web.Request) -> web.Response:
        await release.wait()
        return web.Response(status=200)

    hung = await create_endpoint(hooks_api, receiver.on("/hung", hang))
    await create_endpoint(hooks_api, receiver.url("/healthy"))
    stop = asyncio.Event()
    async with delivery_worker(send_timeout=30, max_in_flight=8, per_endpoint=2) as worker:
        runner = asyncio.create_task(worker.run(stop))
        try:
            for _ in range(10):
                await create_contact(hooks_api)
            deadline = time.monotonic() + 10
            # A bounded poll: the effect is in another task's HTTP traffic.
            while len(receiver.at("/healthy")) < 10 and time.monotonic() < deadline:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
            assert len(receiver.at("/healthy")) == 10
            assert len(receiver.at("/hung")) == 2  # only its own share is stuck
        finally:
            await hooks_api.patch(f"/v1/webhooks/{hung['id']}", json={"isActive": False})
            release.set()
            stop.set()
            await asyncio.wait_for(runner, 30)


async def test_five_days_of_failure_disable_an_endpoint(
    hooks_api: ApiClient, receiver: Receiver, delivery_worker: WorkerFactory
) -> None:
    async def broken(_request: web.Request) -> web.Response:
        return web.Response(status=500)

    endpoint = await create_endpoint(hooks_api, receiver.on("/broken", broken))
    clock = VirtualClock()
    async with delivery_worker(clock=clock) as worker:
        for _ in range(6):  # a new failing event every day
            await create_contact(hooks_api)
            await worker.run_once()
            clock.advance(timedelta(days=1))
        hook = (await hooks_api.get(f"/v1/webhooks/{endpoint['id']}")).json()
    assert hook["is_active"] is False
    assert "5 days" in hook["disabled_reason"]


async def test_a_success_resets_the_failure_streak(
    hooks_api: ApiClient, receiver: Receiver, delivery_worker: WorkerFactory, hooks_app: FastAPI
) -> None:
    fail = True

    async def moody(_request: web.Request) -> web.Response:
        return web.Response(status=500 if fail else 200)

    endpoint = await create_endpoint(hooks_api, receiver.on("/moody", moody))
    clock = VirtualClock()
    async with delivery_worker(clock=clock) as worker:
        for day in range(8):
            fail = day != 3
            await create_contact(hooks_api)
            await worker.run_once()
            clock.advance(timedelta(days=1))
        hook = (await hooks_api.get(f"/v1/webhooks/{endpoint['id']}")).json()
    assert hook["is_active"] is True  # never 5 full days in a row


async def test_manual_retry_and_replay_resend_the_same_ids(
    hooks_api: ApiClient, receiver: Receiver, delivery_worker: WorkerFactory
) -> None:
    endpoint = await create_endpoint(hooks_api, receiver.url("/replay"))
    for _ in range(3):
        await create_contact(hooks_api)
    async with delivery_worker() as worker:
        await run_until(worker, lambda: len(receiver.at("/replay")) == 3)
        first_ids = sorted(r.headers["webhook-id"] for r in receiver.at("/replay"))
        deliveries = (await hooks_api.get(f"/v1/webhooks/{endpoint['id']}/deliveries")).json()
        assert {d["status"] for d in deliveries} == {"succeeded"}

        retried = await hooks_api.post(
            f"/v1/webhooks/{endpoint['id']}/deliveries/{deliveries[0]['id']}/retry"
        )
        assert retried.status_code == 202, retried.text
        assert retried.json()["status"] == "pending"
        await run_until(worker, lambda: len(receiver.at("/replay")) == 4)
        assert receiver.at("/replay")[3].headers["webhook-id"] == deliveries[0]["event_id"]

        replay = await hooks_api.post(
            f"/v1/webhooks/{endpoint['id']}/replay", json={"since": "2020-01-01T00:00:00Z"}
        )
        assert replay.status_code == 202, replay.text
        assert replay.json() == {"webhook_id": endpoint["id"], "requeued": 3}
        await run_until(worker, lambda: len(receiver.at("/replay")) == 7)
    replayed_ids = sorted(r.headers["webhook-id"] for r in receiver.at("/replay")[4:])
    assert replayed_ids == first_ids
    bodies = {r.headers["webhook-id"]: r.body for r in receiver.at("/replay")[:3]}
    for r in receiver.at("/replay")[4:]:  # byte-identical bodies
        assert r.body == bodies[r.headers["webhook-id"]]


async def test_test_endpoint_sends_a_signed_webhook_test(
    hooks_api: ApiClient, receiver: Receiver, delivery_worker: WorkerFactory
) -> None:
    endpoint = await create_endpoint(hooks_api, receiver.url("/ping"), ["call.completed"])
    response = await hooks_api.post(f"/v1/webhooks/{endpoint['id']}/test")
    assert response.status_code == 202, response.text
    assert response.json()["event_type"] == "webhook.test"
    async with delivery_worker() as worker:
        await run_until(worker, lambda: len(receiver.at("/ping")) == 1)
    payload = _verify(endpoint["secret"], receiver.at("/ping")[0])
    assert payload["type"] == "webhook.test"
    assert payload["data"]["webhook_id"] == endpoint["id"]


async def test_rotation_signs_with_both_secrets_during_the_overlap(
    hooks_api: ApiClient, receiver: Receiver, delivery_worker: WorkerFactory
) -> None:
    endpoint = await create_endpoint(hooks_api, receiver.url("/rotate"))
    rotated = await hooks_api.post(f"/v1/webhooks/{endpoint['id']}/rotate-secret")
    assert rotated.status_code == 200, rotated.text
    new_secret = rotated.json()["secret"]
    assert new_secret.startswith("whsec_") and new_secret != endpoint["secret"]
    await create_contact(hooks_api)
    clock = VirtualClock()
    async with delivery_worker(clock=clock) as worker:
        await worker.run_once()
    received = receiver.at("/rotate")[0]
    assert len(received.headers["webhook-signature"].split(" ")) == 2
    # Timestamps from the virtual clock are a second ahead: verify within tolerance.
    for secret in (new_secret, endpoint["secret"]):
        _verify(secret, received)
    # After the overlap only the new secret signs.
    await create_contact(hooks_api)
    clock.advance(timedelta(hours=25))
    async with delivery_worker(clock=clock) as worker:
        await worker.run_once()
    later = receiver.at("/rotate")[-1]
    assert len(later.headers["webhook-signature"].split(" ")) == 1
    assert json.loads(later.body)["type"] == "contact.created"


async def test_the_worker_refuses_loopback_targets_unless_allowed(
    hooks_api: ApiClient, receiver: Receiver, hooks_app: FastAPI
) -> None:
    """Saved while private targets were allowed, sent by a worker where they are not:
    the connect-time guard stops it and the canary receiver sees no connection."""
    endpoint = await create_endpoint(hooks_api, receiver.url("/canary"))
    await create_contact(hooks_api)
    container = hooks_app.state.container
    async with WebhookSender(allow_private=False, timeout_seconds=5) as sender:
        worker = WebhookDeliveryWorker(
            container.database, container.secret_box, VirtualClock(), sender
        )
        await worker.run_once()
    assert receiver.received == []
    (delivery,) = (await hooks_api.get(f"/v1/webhooks/{endpoint['id']}/deliveries")).json()
    assert delivery["status"] == "pending" and delivery["response_status_code"] is None
    assert "loopback" in delivery["error"]
