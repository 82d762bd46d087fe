"""Webhook delivery: throughput and event-to-delivery latency of one delivery worker.

A benchmark, not a test (pytest never collects it). Run it with
``.venv/bin/python bench/webhooks.py`` (``--help`` lists the knobs); ``make bench`` runs
only ``bench/contacts_api.py``.

What it does, all on 127.0.0.1 (nothing leaves the machine):

1. Starts the embedded PostgreSQL in a throwaway directory, applies the migrations, and
   creates an organization and one webhook endpoint (``events: ["*"]``) through
   ``WebhookService``, pointing at a loopback aiohttp receiver in this process
   (``http://127.0.0.1:PORT/``; the policy allows http and loopback, as
   ``VOZAGENT_WEBHOOKS_ALLOW_HTTP`` / ``_ALLOW_PRIVATE`` do). The receiver answers 204,
   checks every signature (stdlib HMAC, the recipe of docs/webhooks.md) and records when
   each ``webhook-id`` first arrived.
2. Starts one delivery worker: by default the real ``vozagent worker --database-url ...``
   as a subprocess (default settings: 256 in flight, 32 per endpoint, LISTEN/NOTIFY
   wake-ups), with ``--worker inprocess`` a ``WebhookDeliveryWorker`` on this process's
   event loop instead. It waits until a warm-up event has been delivered.
3. **Throughput**: records ``--events`` events (default 5,000) with ``EventService`` in
   ONE transaction, so the whole backlog becomes visible to the worker at the commit,
   then waits until the receiver has seen every one. Deliveries/s = events / (last
   arrival - commit).
4. **Latency**: publishes ``--rate`` events/s (default 100) for ``--duration`` seconds
   (default 20), one event per transaction, as the API does (open loop: event i is due at
   start + i/rate). Latency = receiver arrival - the moment that event's commit returned.
5. Checks the database afterwards (every delivery ``succeeded``, one attempt each) and
   records the CPU time the worker, PostgreSQL and this process spent per delivery.

``--repeat N`` repeats the whole run on fresh databases and reports the median run per
phase; ``--quiet-wait S`` first waits (up to S s) for other processes to go idle. Every run
is bounded: a phase gives up after ``--timeout`` seconds and reports what arrived.

Prints a table and writes ``bench/results/webhooks.json``; results and method are discussed
in docs/benchmarks.md ("Webhook delivery").
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil
from aiohttp import web
from sqlalchemy import text

from vozagent.core.clock import SystemClock
from vozagent.core.secrets_box import SecretBox
from vozagent.domain.events.service import EventService
from vozagent.domain.organizations.service import OrganizationService
from vozagent.domain.webhooks.schemas import WebhookCreate
from vozagent.domain.webhooks.service import WebhookPolicy, WebhookService
from vozagent.storage.db import Database, plain_dsn
from vozagent.storage.embedded import EmbeddedPostgres
from vozagent.storage.migrate import upgrade
from vozagent.webhooks.sender import WebhookSender
from vozagent.workers.wakeup import ListeningWakeup
from vozagent.workers.webhook_delivery import WebhookDeliveryWorker

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = ROOT / "bench" / "results" / "webhooks.json"
HOST = "127.0.0.1"
EVENT_TYPE = "contact.created"
GOAL_DELIVERIES_PER_S = 1000.0
GOAL_P99_MS = 250.0


# --------------------------------------------------------------------------- receiver


@dataclass
class Receiver:
    """A loopback HTTP server that verifies and timestamps every delivery it gets."""

    secret: str = ""
    port: int = 0
    arrivals: dict[str, float] = field(default_factory=dict)  # webhook-id -> first arrival
    requests: int = 0
    duplicates: int = 0
    bad_signatures: int = 0
    _key: bytes = b""
    _waiters: list[tuple[set[str], asyncio.Future[None]]] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        arrived = time.time()
        self.requests += 1
        event_id = request.headers.get("webhook-id", "")
        if not self._verify(request.headers, body):
            self.bad_signatures += 1
        if event_id in self.arrivals:
            self.duplicates += 1
        else:
            self.arrivals[event_id] = arrived
            self._notify(event_id)
        return web.Response(status=204)

    def _verify(self, headers: Any, body: bytes) -> bool:
        signed = f"{headers.get('webhook-id')}.{headers.get('webhook-timestamp')}.".encode()
        digest = hmac.new(self._key, signed + body, hashlib.sha256).digest()
        expected = "v1," + base64.b64encode(digest).decode()
        return any(
            hmac.compare_digest(candidate, expected)
            for candidate in headers.get("webhook-signature", "").split(" ")
        )

    def set_secret(self, secret: str) -> None:
        self.secret = secret
        self._key = base64.b64decode(secret.removeprefix("whsec_"))

    def _notify(self, event_id: str) -> None:
        for missing, future in self._waiters:
            missing.discard(event_id)
            if not missing and not future.done():
                future.set_result(None)

    async def wait_for(self, event_ids: set[str], seconds: float) -> bool:
        """True once every id has arrived; False after ``seconds``."""
        missing = event_ids - self.arrivals.keys()
        if not missing:
            return True
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (missing, future)
        self._waiters.append(entry)
        try:
            await asyncio.wait_for(future, seconds)
            return True
        except TimeoutError:
            return False
        finally:
            self._waiters.remove(entry)


@asynccontextmanager
async def running_receiver(receiver: Receiver) -> AsyncIterator[Receiver]:
    app = web.Application()
    app.router.add_route("POST", "/{tail:.*}", receiver.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, HOST, 0, backlog=1024)
    await site.start()
    receiver.port = int(runner.addresses[0][1])
    try:
        yield receiver
    finally:
        await runner.cleanup()


# --------------------------------------------------------------------------- setup


def contact_payload(i: int) -> dict[str, Any]:
    """A contact.created ``data`` of realistic size (~400 bytes of JSON)."""
    return {
        "id": f"00000000-0000-4000-8000-{i:012d}",
        "first_name": "Maria",
        "last_name": "Garcia",
        "email": f"maria.garcia{i}@example.com",
        "phone_number": f"+1555{i % 10_000_000:07d}",
        "company": "Acme Outdoor Living",
        "tags": ["lead", "outdoor-living"],
        "notes": None,
        "source": "website",
        "address": None,
        "created_at": "2024-01-15T09:30:00Z",
        "updated_at": "2024-01-15T09:30:00Z",
    }


async def create_org_and_endpoint(
    database: Database, box: SecretBox, receiver_url: str
) -> tuple[str, str, str]:
    """Returns (org id, webhook id, whsec_ secret)."""
    clock = SystemClock()
    async with database.transaction() as session:
        org = await OrganizationService(session).create_organization("bench: webhooks")
        service = WebhookService(
            session,
            org.id,
            box=box,
            policy=WebhookPolicy(allow_http=True, allow_private=True),
            events=EventService(session, org.id, clock=clock),
            clock=clock,
        )
        endpoint, secret = await service.create(
            WebhookCreate(name="bench receiver", url=receiver_url, events=["*"])
        )
        return org.id, endpoint.id, secret


async def publish_one(database: Database, org_id: str, i: int) -> tuple[str, float]:
    """One event in its own transaction; returns its id and when the commit returned."""
    async with database.transaction() as session:
        event_id, _ = await EventService(session, org_id, clock=SystemClock()).publish(
            EVENT_TYPE, contact_payload(i)
        )
    return event_id, time.time()


async def publish_many(database: Database, org_id: str, count: int) -> tuple[list[str], float]:
    """``count`` events in ONE transaction; returns their ids and when the commit returned."""
    ids: list[str] = []
    async with database.transaction() as session:
        events = EventService(session, org_id, clock=SystemClock())
        for i in range(count):
            event_id, _ = await events.publish(EVENT_TYPE, contact_payload(i))
            ids.append(event_id)
    return ids, time.time()


# --------------------------------------------------------------------------- workers


class SubprocessWorker:
    """``vozagent worker --database-url ...`` as a child process."""

    kind = "subprocess (`vozagent worker`)"

    def __init__(self, url: str, master_key: str, data_dir: Path, extra_env: list[str]) -> None:
        self.log_path = data_dir / "worker.log"
        env = {
            **os.environ,
            "VOZAGENT_SECRET_KEY": master_key,
            "VOZAGENT_WEBHOOKS_ALLOW_HTTP": "true",
            "VOZAGENT_WEBHOOKS_ALLOW_PRIVATE": "true",
        }
        for item in extra_env:
            name, _, value = item.partition("=")
            env[name] = value
        self.env_overrides = extra_env
        vozagent = str(Path(sys.executable).with_name("vozagent"))
        command = [vozagent, "worker", "--database-url", url, "--data-dir", str(data_dir / "w")]
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            command, stdout=self._log, stderr=subprocess.STDOUT, env=env
        )
        self.pid = self.process.pid

    def cpu_seconds(self) -> float:
        times = psutil.Process(self.pid).cpu_times()
        return float(times.user + times.system)

    def check_alive(self) -> None:
        if self.process.poll() is not None:
            raise RuntimeError(f"the worker exited early; see {self.log_path}:\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    async def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            for _ in range(250):  # the worker drains for up to 20 s
                if self.process.poll() is not None:
                    break
                await asyncio.sleep(0.1)
            else:
                self.process.kill()
                self.process.wait(timeout=5)
        self._log.close()


class InProcessWorker:
    """A ``WebhookDeliveryWorker`` on this process's event loop (shares it with the
    receiver and the publisher, so its CPU is counted under ``bench process``)."""

    kind = "in-process WebhookDeliveryWorker"

    def __init__(self, url: str, box: SecretBox) -> None:
        self.pid = os.getpid()
        self.env_overrides: list[str] = []
        self.database = Database(url, pool_size=4, max_overflow=4)
        self.wakeup = ListeningWakeup(plain_dsn(url))
        self.sender = WebhookSender(allow_private=True)
        self._stop = asyncio.Event()
        self.worker = WebhookDeliveryWorker(
            self.database, box, SystemClock(), self.sender, wakeup=self.wakeup
        )
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.sender.__aenter__()
        self._task = asyncio.create_task(self.worker.run(self._stop))

    def cpu_seconds(self) -> float:
        return 0.0  # included in the bench process

    def check_alive(self) -> None:
        if self._task is not None and self._task.done():
            self._task.result()
            raise RuntimeError("the in-process worker stopped")

    def log_tail(self, lines: int = 30) -> str:
        return ""

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            await asyncio.wait_for(self._task, 25)
        await self.wakeup.close()
        await self.sender.__aexit__(None, None, None)
        await self.database.dispose()


Worker = SubprocessWorker | InProcessWorker


# --------------------------------------------------------------------------- CPU


class CpuMeter:
    def __init__(self, worker: Worker, postmaster_pid: int | None) -> None:
        self.worker = worker
        self.postmaster = psutil.Process(postmaster_pid) if postmaster_pid else None

    def snapshot(self) -> dict[str, float]:
        machine = psutil.cpu_times()
        return {
            "worker": self.worker.cpu_seconds(),
            "postgres": self._postgres(),
            "bench": time.process_time(),
            "machine": sum(
                getattr(machine, name, 0.0)
                for name in ("user", "nice", "system", "irq", "softirq", "steal")
            ),
            "wall": time.perf_counter(),
        }

    def _postgres(self) -> float:
        if self.postmaster is None:
            return float("nan")
        own = self.postmaster.cpu_times()
        total = own.user + own.system + own.children_user + own.children_system
        for child in self.postmaster.children(recursive=True):
            try:
                times = child.cpu_times()
            except psutil.NoSuchProcess:
                continue
            total += times.user + times.system
        return float(total)


def cpu_report(
    before: dict[str, float], after: dict[str, float], deliveries: int
) -> dict[str, Any]:
    seconds = after["wall"] - before["wall"]
    spent = {k: after[k] - before[k] for k in ("worker", "postgres", "bench", "machine")}
    own = spent["worker"] + spent["postgres"] + spent["bench"]
    return {
        "seconds": round(seconds, 2),
        "cores_busy": {k: round(v / seconds, 2) for k, v in spent.items()}
        | {"other": round((spent["machine"] - own) / seconds, 2)},
        "ms_per_delivery": {
            k: round(spent[k] * 1e3 / deliveries, 3) if deliveries else None
            for k in ("worker", "postgres", "bench")
        },
    }


def postmaster_pid(data_dir: Path) -> int | None:
    try:
        return int((data_dir / "pgdata" / "postmaster.pid").read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        return None


# --------------------------------------------------------------------------- phases


def percentile(sorted_values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile."""
    if not sorted_values:
        return None
    index = min(len(sorted_values) - 1, max(0, round(fraction * len(sorted_values)) - 1))
    return sorted_values[index]


def latency_summary(latencies_ms: list[float]) -> dict[str, float | None]:
    ordered = sorted(latencies_ms)
    return {
        "p50_ms": _round(percentile(ordered, 0.50)),
        "p95_ms": _round(percentile(ordered, 0.95)),
        "p99_ms": _round(percentile(ordered, 0.99)),
        "max_ms": _round(ordered[-1] if ordered else None),
        "mean_ms": _round(statistics.fmean(ordered) if ordered else None),
    }


async def warm_up(
    database: Database, org_id: str, receiver: Receiver, worker: Worker, seconds: float
) -> float:
    """Publish single events until the worker delivers one; returns seconds waited."""
    started = time.perf_counter()
    deadline = started + seconds
    while time.perf_counter() < deadline:
        worker.check_alive()
        event_id, _ = await publish_one(database, org_id, 0)
        if await receiver.wait_for({event_id}, 2.0):
            # A few more, so that connections and caches are warm on both sides.
            ids = [(await publish_one(database, org_id, i))[0] for i in range(20)]
            await receiver.wait_for(set(ids), 10.0)
            return time.perf_counter() - started
    raise RuntimeError(f"the worker delivered nothing in {seconds:.0f} s:\n{worker.log_tail()}")


async def throughput_phase(
    database: Database, org_id: str, receiver: Receiver, meter: CpuMeter, args: argparse.Namespace
) -> dict[str, Any]:
    await asyncio.sleep(args.settle)
    record_started = time.perf_counter()
    ids, committed = await publish_many(database, org_id, args.events)
    record_seconds = time.perf_counter() - record_started
    before = meter.snapshot()
    complete = await receiver.wait_for(set(ids), args.timeout)
    after = meter.snapshot()
    arrivals = sorted(receiver.arrivals[i] for i in ids if i in receiver.arrivals)
    delivered = len(arrivals)
    window = (arrivals[-1] - committed) if arrivals else float("nan")
    spread = (arrivals[-1] - arrivals[0]) if len(arrivals) > 1 else float("nan")
    return {
        "events": args.events,
        "delivered": delivered,
        "complete": complete,
        "record_seconds": round(record_seconds, 2),
        "record_events_per_s": round(args.events / record_seconds, 1),
        "first_delivery_after_commit_ms": _round((arrivals[0] - committed) * 1e3)
        if arrivals
        else None,
        "seconds_commit_to_last": _round(window),
        "deliveries_per_s": _round(delivered / window) if arrivals else 0.0,
        "deliveries_per_s_first_to_last": _round((delivered - 1) / spread)
        if len(arrivals) > 1
        else None,
        "cpu": cpu_report(before, after, delivered),
    }


async def latency_phase(
    database: Database, org_id: str, receiver: Receiver, meter: CpuMeter, args: argparse.Namespace
) -> dict[str, Any]:
    await asyncio.sleep(args.settle)
    total = int(args.rate * args.duration)
    commits: dict[str, float] = {}
    behind = 0.0
    before = meter.snapshot()
    started = time.perf_counter()
    for i in range(total):
        due = started + i / args.rate
        now = time.perf_counter()
        if due > now:
            await asyncio.sleep(due - now)
        else:
            behind = max(behind, now - due)
        event_id, committed = await publish_one(database, org_id, i)
        commits[event_id] = committed
    publish_seconds = time.perf_counter() - started
    complete = await receiver.wait_for(set(commits), args.timeout)
    after = meter.snapshot()
    latencies = [
        (receiver.arrivals[event_id] - committed) * 1e3
        for event_id, committed in commits.items()
        if event_id in receiver.arrivals
    ]
    # p50/p99 per 5 s of publishing (events are in publishing order), to show drift.
    per_window = max(1, int(args.rate * 5))
    windows = [
        {"p50_ms": latency_summary(chunk)["p50_ms"], "p99_ms": latency_summary(chunk)["p99_ms"]}
        for chunk in (latencies[i : i + per_window] for i in range(0, len(latencies), per_window))
    ]
    return {
        "events": total,
        "delivered": len(latencies),
        "complete": complete,
        "target_rate": args.rate,
        "achieved_rate": round(total / publish_seconds, 1),
        "publisher_max_behind_ms": round(behind * 1e3, 1),
        **latency_summary(latencies),
        "per_5s": windows,
        "cpu": cpu_report(before, after, len(latencies)),
    }


async def database_check(database: Database, webhook_id: str) -> dict[str, Any]:
    async with database.transaction() as session:
        rows = await session.execute(
            text(
                "SELECT status, count(*) AS n, sum(attempts) AS attempts, "
                "count(*) FILTER (WHERE attempts > 1) AS retried "
                "FROM webhook_deliveries WHERE endpoint_id = :id GROUP BY status"
            ),
            {"id": webhook_id},
        )
        by_status = {
            r.status: {"count": r.n, "attempts": int(r.attempts), "retried": r.retried}
            for r in rows
        }
        info = {
            name: (await session.execute(text(f"SHOW {name}"))).scalar()
            for name in (
                "server_version",
                "shared_buffers",
                "synchronous_commit",
                "autovacuum",
                "autovacuum_naptime",
            )
        }
        # Whether autovacuum refreshed the planner statistics during the run (it matters:
        # see docs/benchmarks.md, "Webhook delivery").
        table = (
            await session.execute(
                text(
                    "SELECT n_live_tup, n_dead_tup, autoanalyze_count, autovacuum_count, "
                    "last_autoanalyze, last_autovacuum FROM pg_stat_user_tables "
                    "WHERE relname = 'webhook_deliveries'"
                )
            )
        ).one()
        stats = {k: str(v) if isinstance(v, datetime) else v for k, v in table._mapping.items()}
    return {"deliveries_by_status": by_status, "postgres": info, "webhook_deliveries": stats}


# --------------------------------------------------------------------------- driver


async def run(args: argparse.Namespace, url: str, data_dir: Path) -> dict[str, Any]:
    await upgrade(url)
    master_key = SecretBox.generate_master_key()
    box = SecretBox(master_key)
    database = Database(url, pool_size=4, max_overflow=4)
    receiver = Receiver()
    try:
        async with running_receiver(receiver):
            org_id, webhook_id, secret = await create_org_and_endpoint(
                database, box, f"http://{HOST}:{receiver.port}/"
            )
            receiver.set_secret(secret)
            worker: Worker
            if args.worker == "subprocess":
                worker = SubprocessWorker(url, master_key, data_dir, args.worker_env)
            else:
                worker = InProcessWorker(url, box)
                await worker.start()
            try:
                print(f"worker: {worker.kind} (pid {worker.pid}); warming up ...", flush=True)
                warmup_seconds = await warm_up(database, org_id, receiver, worker, 60.0)
                meter = CpuMeter(worker, postmaster_pid(data_dir))
                results: dict[str, Any] = {}
                if "throughput" in args.phases:
                    print(f"throughput: {args.events:,} events in one transaction", flush=True)
                    results["throughput"] = await throughput_phase(
                        database, org_id, receiver, meter, args
                    )
                    _print_phase("throughput", results["throughput"])
                    worker.check_alive()
                if "latency" in args.phases:
                    print(
                        f"latency: {args.rate:g} events/s for {args.duration:g} s, "
                        "one per transaction",
                        flush=True,
                    )
                    results["latency"] = await latency_phase(
                        database, org_id, receiver, meter, args
                    )
                    _print_phase("latency", results["latency"])
                    worker.check_alive()
            finally:
                await worker.stop()
            check = await database_check(database, webhook_id)
            worker_log = worker.log_tail(10)
    finally:
        await database.dispose()
    return {
        "worker": {"kind": worker.kind, "env": worker.env_overrides, "log_tail": worker_log},
        "warmup_seconds": round(warmup_seconds, 2),
        **results,
        "receiver": {
            "requests": receiver.requests,
            "unique_events": len(receiver.arrivals),
            "duplicates": receiver.duplicates,
            "bad_signatures": receiver.bad_signatures,
        },
        "database": check,
    }


def _print_phase(name: str, row: dict[str, Any]) -> None:
    if name == "throughput":
        print(
            f"  {row['delivered']:,}/{row['events']:,} delivered, "
            f"{row['deliveries_per_s']} deliveries/s (recording took {row['record_seconds']} s)",
            flush=True,
        )
    else:
        print(
            f"  {row['delivered']:,}/{row['events']:,} delivered, p50 {row['p50_ms']} ms, "
            f"p95 {row['p95_ms']} ms, p99 {row['p99_ms']} ms",
            flush=True,
        )


def print_table(summary: dict[str, Any], runs: list[dict[str, Any]]) -> None:
    print()
    header = (
        f"{'phase':<11} {'result (median run)':<36} {'goal':<20} "
        f"{'cpu ms/delivery wrk/pg/bench':>28} {'other cores':>11}"
    )
    print(header)
    print("-" * len(header))
    for name in ("throughput", "latency"):
        row = summary.get(name)
        if row is None:
            continue
        cpu = row["cpu"]["ms_per_delivery"]
        cpu_text = "/".join(_fmt(cpu[k], 2) for k in ("worker", "postgres", "bench"))
        if name == "throughput":
            text_ = f"{row['deliveries_per_s']} deliveries/s ({row['delivered']}/{row['events']})"
            ok = (row["deliveries_per_s"] or 0) >= GOAL_DELIVERIES_PER_S and row["complete"]
            goal = f">= {GOAL_DELIVERIES_PER_S:,.0f}/s: {'met' if ok else 'MISSED'}"
        else:
            text_ = f"p50 {row['p50_ms']} / p95 {row['p95_ms']} / p99 {row['p99_ms']} ms"
            ok = row["p99_ms"] is not None and row["p99_ms"] < GOAL_P99_MS and row["complete"]
            goal = f"p99 < {GOAL_P99_MS:.0f} ms: {'met' if ok else 'MISSED'}"
        other = row["cpu"]["cores_busy"]["other"]
        print(f"{name:<11} {text_:<36} {goal:<20} {cpu_text:>28} {_fmt(other, 2):>11}")
        if len(row["all_runs"]) > 1:
            print(f"{'':<11} all runs: {row['all_runs']}")
    requests = sum(r["receiver"]["requests"] for r in runs)
    duplicates = sum(r["receiver"]["duplicates"] for r in runs)
    bad = sum(r["receiver"]["bad_signatures"] for r in runs)
    statuses: dict[str, int] = {}
    for r in runs:
        for status, v in r["database"]["deliveries_by_status"].items():
            statuses[status] = statuses.get(status, 0) + v["count"]
    retried = sum(
        v["retried"] for r in runs for v in r["database"]["deliveries_by_status"].values()
    )
    print(
        f"\nreceiver: {requests} requests, {duplicates} duplicates, {bad} bad signatures; "
        f"database: {statuses}, {retried} needed more than one attempt"
    )
    print()


def _round(value: float | None, digits: int = 1) -> float | None:
    if value is None or value != value:
        return None
    return round(value, digits)


def _fmt(value: float | None, digits: int) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def machine_info() -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=5000, help="throughput backlog size")
    parser.add_argument("--rate", type=float, default=100.0, help="latency phase events/s")
    parser.add_argument("--duration", type=float, default=20.0, help="latency phase seconds")
    parser.add_argument(
        "--phases", default="throughput,latency", help="comma-separated: throughput,latency"
    )
    parser.add_argument(
        "--worker", choices=("subprocess", "inprocess"), default="subprocess",
        help="`vozagent worker` child process (default) or a worker on this event loop",
    )  # fmt: skip
    parser.add_argument(
        "--worker-env", action="append", default=[], metavar="NAME=VALUE",
        help="extra environment for the subprocess worker, e.g. "
        "VOZAGENT_WEBHOOK_PER_ENDPOINT_IN_FLIGHT=64 (repeatable)",
    )  # fmt: skip
    parser.add_argument(
        "--timeout", type=float, default=120.0, help="max seconds to wait for a phase's deliveries"
    )
    parser.add_argument("--settle", type=float, default=2.0, help="idle seconds before each phase")
    parser.add_argument(
        "--repeat", type=int, default=1,
        help="whole runs (fresh database each); the median run per phase is reported",
    )  # fmt: skip
    parser.add_argument(
        "--quiet-wait", type=float, default=0.0, metavar="SECONDS",
        help="before each run, wait up to this long for other processes to go idle",
    )  # fmt: skip
    parser.add_argument(
        "--quiet-threshold", type=float, default=0.2, metavar="CORES",
        help="'idle' for --quiet-wait: fewer busy cores than this (default 0.2)",
    )  # fmt: skip
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    args.phases = {p.strip() for p in args.phases.split(",") if p.strip()}
    if not args.phases <= {"throughput", "latency"}:
        parser.error("--phases takes throughput and/or latency")
    if min(args.events, args.rate, args.duration, args.timeout, args.repeat) <= 0:
        parser.error("--events, --rate, --duration, --timeout and --repeat must be positive")

    started = time.perf_counter()
    runs = []
    for number in range(1, args.repeat + 1):
        if args.repeat > 1:
            print(f"=== run {number}/{args.repeat}", flush=True)
        quiet = wait_for_quiet(args.quiet_wait, args.quiet_threshold) if args.quiet_wait else None
        # Short path: the PostgreSQL unix socket path must stay under ~100 bytes.
        with tempfile.TemporaryDirectory(prefix="vzw") as temp:
            data_dir = Path(temp)
            embedded = EmbeddedPostgres(data_dir)
            url = embedded.start()
            try:
                result = asyncio.run(run(args, url, data_dir))
            finally:
                embedded.stop()
        result["quiet_wait"] = quiet
        runs.append(result)
    total_seconds = time.perf_counter() - started
    summary = summarize(runs)
    print_table(summary, runs)
    document = {
        "generated_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": machine_info(),
        "settings": {
            "events": args.events,
            "rate": args.rate,
            "duration_s": args.duration,
            "repeat": args.repeat,
            "worker": args.worker,
            "worker_env": args.worker_env,
            "endpoints": 1,
            "receiver": "aiohttp on 127.0.0.1 in the bench process, 204, verifies signatures",
        },
        "goals": {"deliveries_per_s": GOAL_DELIVERIES_PER_S, "p99_ms": GOAL_P99_MS},
        "total_seconds": round(total_seconds, 1),
        "summary": summary,
        "runs": runs,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(document, indent=2) + "\n")
    print(f"total {total_seconds:.0f} s; wrote {args.output}")
    return 0


def summarize(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The median run per phase: by deliveries/s for throughput, by p99 for latency."""
    summary: dict[str, Any] = {}
    for phase, key in (("throughput", "deliveries_per_s"), ("latency", "p99_ms")):
        rows = [r[phase] for r in runs if phase in r]
        if rows:
            ordered = sorted(rows, key=lambda r: r[key] if r[key] is not None else float("inf"))
            summary[phase] = {
                **ordered[(len(ordered) - 1) // 2],
                "all_runs": [r[key] for r in rows],
            }
    return summary


def machine_busy_cores(seconds: float) -> float:
    """Average number of busy cores over ``seconds`` (all processes)."""
    before = psutil.cpu_times()
    time.sleep(seconds)
    after = psutil.cpu_times()
    busy = ("user", "nice", "system", "irq", "softirq", "steal")
    return sum(getattr(after, f, 0.0) - getattr(before, f, 0.0) for f in busy) / seconds


def wait_for_quiet(limit: float, threshold: float) -> dict[str, float]:
    """Wait (at most ``limit`` s) until other processes leave the CPUs nearly idle."""
    started = time.monotonic()
    load = machine_busy_cores(2.0)
    while load > threshold and time.monotonic() - started < limit:
        load = machine_busy_cores(2.0)
    return {"waited_s": round(time.monotonic() - started, 1), "busy_cores_before": round(load, 2)}


if __name__ == "__main__":
    sys.exit(main())
