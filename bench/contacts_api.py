"""Throughput of ``GET /v1/contacts`` on a real server, next to a bare framework baseline.

A benchmark, not a test (pytest never collects it). ``make bench`` runs it with the
defaults; ``.venv/bin/python bench/contacts_api.py --help`` lists the knobs.

What it does, all on 127.0.0.1:

1. Starts the embedded PostgreSQL in ``--data-dir`` (default ``bench/.data``), applies
   the migrations, and bulk-loads ``--contacts`` rows (default 1,000,000) for one
   organization with a single ``INSERT ... SELECT generate_series``. The data set is
   deterministic and cached: a later run on the same data dir skips the load.
2. Starts ``vozagent serve --database-url ...`` as a subprocess (rate limiting off),
   and a bare FastAPI app on uvicorn (this file, ``--serve-baseline``; uvicorn defaults
   with its access log on, as the server also logs one line per request), returning 50
   static contact-like objects: no database, no auth.
3. For each scenario: a warm-up, then ``--duration`` seconds of closed-loop load from
   ``--concurrency`` workers (an in-process httpx client on uvloop, or ``wrk`` with
   ``--client wrk``). Records requests/s, latency percentiles, errors, and the CPU time
   the client, the API process and PostgreSQL each spent per request.
4. Runs ``EXPLAIN (ANALYZE, BUFFERS)`` on the SQL the repository issues for each list
   scenario (captured from the real repository code) to separate database time.

Prints a table and writes ``bench/results/contacts_api.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlencode

import asyncpg
import httpx
import psutil

from vozagent.core.pagination import Page
from vozagent.domain.organizations.service import OrganizationService
from vozagent.storage.db import Database
from vozagent.storage.embedded import EmbeddedPostgres
from vozagent.storage.migrate import upgrade
from vozagent.storage.repositories.contacts import ContactRepository

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = ROOT / "bench" / ".data"
DEFAULT_OUTPUT = ROOT / "bench" / "results" / "contacts_api.json"
DATASET_MARKER = "bench-dataset.json"
# Bump when the generated rows change shape, so cached data dirs get reloaded.
DATASET_VERSION = 1
ORG_NAME = "bench: contacts"
HOST = "127.0.0.1"
OWN_CPU = ("client", "server", "postgres")
# A term that matches about 1 contact in 20 (first names cycle through 20 values).
COMMON_SEARCH = "maria"
FIRST_NAMES = [
    "Maria", "James", "Ana", "John", "Sofia", "Robert", "Lucia", "Michael", "Elena", "David",
    "Carmen", "William", "Laura", "Richard", "Paula", "Joseph", "Isabel", "Thomas", "Marta",
    "Daniel",
]  # fmt: skip
LAST_NAMES = [
    "Garcia", "Smith", "Rodriguez", "Johnson", "Martinez", "Williams", "Lopez", "Brown",
    "Gonzalez", "Jones", "Hernandez", "Miller", "Perez", "Davis", "Sanchez", "Wilson",
    "Ramirez", "Moore", "Torres", "Taylor", "Flores", "Anderson", "Rivera",
]  # fmt: skip
COMPANIES = ["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay", "Stark"]


# --------------------------------------------------------------------------- scenarios


@dataclass(frozen=True)
class Scenario:
    name: str
    target: str  # "baseline" or "server"
    path: str
    params: dict[str, str] = field(default_factory=dict)
    auth: bool = True
    # For EXPLAIN: the repository call the endpoint makes (None: no list query).
    page: Page | None = None
    search: str | None = None
    tags: list[str] | None = None
    note: str = ""

    @property
    def url_path(self) -> str:
        return self.path + ("?" + urlencode(self.params) if self.params else "")


def build_scenarios(contacts: int) -> list[Scenario]:
    rare_phone = f"{contacts // 2:07d}"  # one contact's phone number (E.164 tail)
    deep = max(0, min(10_000, contacts - 50))
    very_deep = max(0, min(500_000, contacts - 50))
    return [
        Scenario(
            "bare-static", "baseline", "/contacts", auth=False,
            note="bare FastAPI: 50 static dicts, no DB/auth",
        ),
        Scenario(
            "bare-model", "baseline", "/contacts-model", auth=False,
            note="bare FastAPI: 50 in-memory rows through ContactRead",
        ),
        Scenario("healthz", "server", "/healthz", auth=False, note="one DB transaction, no auth"),
        Scenario(
            "auth-only", "server", "/v1/contacts", {"limit": "0"},
            note="auth + routing, no list query (limit=0)",
        ),
        Scenario("list-50", "server", "/v1/contacts", page=Page(50, 0), note="limit=50 offset=0"),
        Scenario(
            "list-100", "server", "/v1/contacts", {"limit": "100"},
            page=Page(100, 0), note="limit=100",
        ),
        Scenario(
            f"offset-{deep}", "server", "/v1/contacts", {"offset": str(deep), "limit": "50"},
            page=Page(50, deep), note="deep page",
        ),
        Scenario(
            f"offset-{very_deep}", "server", "/v1/contacts",
            {"offset": str(very_deep), "limit": "50"},
            page=Page(50, very_deep), note="very deep page",
        ),
        Scenario(
            "search-common", "server", "/v1/contacts", {"search": COMMON_SEARCH},
            page=Page(50, 0), search=COMMON_SEARCH, note="~5% of rows match",
        ),
        Scenario(
            "search-rare", "server", "/v1/contacts", {"search": rare_phone},
            page=Page(50, 0), search=rare_phone, note="1 row matches",
        ),
        Scenario(
            "tags-vip", "server", "/v1/contacts", {"tags": "vip"},
            page=Page(50, 0), tags=["vip"], note="1% of rows carry the tag",
        ),
    ]  # fmt: skip


# --------------------------------------------------------------------------- data set


LOAD_SQL = """
INSERT INTO contacts (id, org_id, first_name, last_name, email, phone_number, company, tags,
                      notes, source, address, created_at, updated_at)
SELECT md5('bench-contact-' || i)::uuid::text,
       $1,
       fn,
       ln,
       lower(fn) || '.' || lower(ln) || i || '@example.com',
       '+1555' || lpad(i::text, 7, '0'),
       CASE WHEN i % 3 = 0 THEN NULL ELSE ($4::text[])[1 + i % cardinality($4::text[])] END,
       CASE WHEN i % 100 = 0 THEN ARRAY['vip', 'customer']
            WHEN i % 10 = 0 THEN ARRAY['customer']
            WHEN i % 2 = 0 THEN ARRAY['lead']
            ELSE ARRAY[]::text[] END,
       CASE WHEN i % 5 = 0 THEN 'Prefers a call after 5pm; asked about pricing.' END,
       (ARRAY['import', 'web', 'call'])[1 + i % 3],
       CASE WHEN i % 4 = 0 THEN i || ' Main Street, Springfield' END,
       ts,
       ts
FROM generate_series(1, $5::int) AS i,
     LATERAL (SELECT ($2::text[])[1 + i % cardinality($2::text[])] AS fn,
                     ($3::text[])[1 + (i / 7) % cardinality($3::text[])] AS ln,
                     -- Two rows share each timestamp, so the id tiebreak matters too.
                     timestamptz '2024-01-01 00:00:00+00' + (i / 2) * interval '30 seconds'
                         AS ts) AS row_values
"""


def pg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def prepare_dataset(url: str, data_dir: Path, contacts: int, reload: bool) -> dict[str, Any]:
    """Migrate, (re)load the contacts when needed, and make a fresh API key."""
    started = time.perf_counter()
    await upgrade(url)
    marker_path = data_dir / DATASET_MARKER
    marker = json.loads(marker_path.read_text()) if marker_path.exists() else {}
    connection = await asyncpg.connect(pg_dsn(url))
    try:
        org_id = marker.get("org_id")
        cached = (
            not reload
            and marker.get("contacts") == contacts
            and marker.get("version") == DATASET_VERSION
            and org_id is not None
            and await connection.fetchval("SELECT count(*) FROM contacts WHERE org_id = $1", org_id)
            == contacts
        )
        load_seconds = 0.0
        if not cached:
            print(f"loading {contacts:,} contacts (one-time; cached in {data_dir}) ...", flush=True)
            await connection.execute("DELETE FROM organizations WHERE name = $1", ORG_NAME)
            marker_path.unlink(missing_ok=True)
            org_id = await _create_org(url)
            load_started = time.perf_counter()
            await _bulk_load(connection, org_id, contacts)
            load_seconds = time.perf_counter() - load_started
            marker = {"version": DATASET_VERSION, "org_id": org_id, "contacts": contacts}
            marker_path.write_text(json.dumps(marker))
            print(f"  loaded in {load_seconds:.1f} s", flush=True)
        else:
            print(f"reusing {contacts:,} cached contacts in {data_dir}", flush=True)
        api_key = await _create_key(url, org_id)
        server_info = {
            "version": await connection.fetchval("SHOW server_version"),
            "shared_buffers": await connection.fetchval("SHOW shared_buffers"),
            "work_mem": await connection.fetchval("SHOW work_mem"),
            "table_size": await connection.fetchval(
                "SELECT pg_size_pretty(pg_total_relation_size('contacts'))"
            ),
        }
    finally:
        await connection.close()
    return {
        "org_id": org_id,
        "api_key": api_key,
        "reused_cache": cached,
        "load_seconds": round(load_seconds, 1),
        "prepare_seconds": round(time.perf_counter() - started, 1),
        "postgres": server_info,
    }


async def _create_org(url: str) -> str:
    database = Database(url, pool="null")
    try:
        async with database.transaction() as session:
            org = await OrganizationService(session).create_organization(ORG_NAME, "enterprise")
            return org.id
    finally:
        await database.dispose()


async def _create_key(url: str, org_id: str) -> str:
    database = Database(url, pool="null")
    try:
        async with database.transaction() as session:
            created = await OrganizationService(session).create_key(org_id, "bench key")
            return created.plaintext
    finally:
        await database.dispose()


async def _bulk_load(connection: asyncpg.Connection, org_id: str, contacts: int) -> None:
    """One INSERT ... SELECT; secondary indexes are dropped and rebuilt around it (faster)."""
    rebuild = await connection.fetch(
        """
        SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS definition
        FROM pg_index i
        WHERE i.indrelid = 'contacts'::regclass
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
        """
    )
    async with connection.transaction():
        await connection.execute("SET LOCAL maintenance_work_mem = '256MB'")
        await connection.execute("SET LOCAL synchronous_commit = off")
        for index in rebuild:
            await connection.execute(f"DROP INDEX {index['name']}")
        await connection.execute(
            LOAD_SQL, org_id, FIRST_NAMES, LAST_NAMES, COMPANIES, contacts, timeout=3600
        )
        for index in rebuild:
            await connection.execute(index["definition"], timeout=3600)
    await connection.execute("VACUUM (ANALYZE) contacts", timeout=3600)


# --------------------------------------------------------------------------- EXPLAIN


class _CapturingSession:
    """Stands in for an AsyncSession: records the statement, returns no rows."""

    def __init__(self) -> None:
        self.statements: list[Any] = []

    async def execute(self, statement: Any, *args: Any, **kwargs: Any) -> Any:
        self.statements.append(statement)
        return SimpleNamespace(scalars=lambda: SimpleNamespace(all=lambda: []))


async def captured_sql(org_id: str, scenario: Scenario) -> tuple[str, list[Any]]:
    """The SQL (and arguments) the real repository issues for this scenario."""
    from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect

    session = _CapturingSession()
    repository = ContactRepository(session, org_id)  # type: ignore[arg-type]
    assert scenario.page is not None
    await repository.search(scenario.page, search=scenario.search, tags=scenario.tags)
    compiled = session.statements[-1].compile(dialect=asyncpg_dialect())
    params = compiled.construct_params()
    names = compiled.positiontup or []
    return str(compiled), [params[name] for name in names]


async def explain(url: str, org_id: str, scenarios: list[Scenario]) -> dict[str, dict[str, Any]]:
    results: dict[str, dict[str, Any]] = {}
    connection = await asyncpg.connect(pg_dsn(url))
    try:
        for scenario in scenarios:
            if scenario.page is None:
                continue
            try:
                sql, args = await captured_sql(org_id, scenario)
            except Exception as exc:  # the repository changed shape: skip, don't fail the run
                results[scenario.name] = {"error": f"could not capture SQL: {exc!r}"}
                continue
            times = []
            plan_text = ""
            for _ in range(5):
                rows = await connection.fetch(
                    "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql, *args, timeout=600
                )
                document = rows[0][0]
                plan = (json.loads(document) if isinstance(document, str) else document)[0]
                times.append(plan["Execution Time"])
            text_rows = await connection.fetch("EXPLAIN (ANALYZE, BUFFERS) " + sql, *args)
            plan_text = "\n".join(row[0] for row in text_rows)
            results[scenario.name] = {
                "execution_ms_median": round(statistics.median(times), 3),
                "nodes": _node_path(plan["Plan"]),
                "sql": sql,
                "plan": plan_text,
            }
    finally:
        await connection.close()
    return results


def _node_path(node: dict[str, Any]) -> str:
    parts = []
    while True:
        label = node["Node Type"]
        if node.get("Scan Direction") == "Backward":
            label += " Backward"
        if "Index Name" in node:
            label += f" ({node['Index Name']})"
        parts.append(label)
        children = node.get("Plans") or []
        if not children:
            return " > ".join(parts)
        node = children[0]


# --------------------------------------------------------------------------- processes


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@contextmanager
def running(
    command: list[str], log_path: Path, env: dict[str, str], ready_url: str
) -> Iterator[int]:
    """Start a server subprocess, wait until ``ready_url`` answers 200, stop it afterwards."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
        try:
            _wait_ready(process, ready_url, log_path)
            yield process.pid
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


def _wait_ready(process: subprocess.Popen[bytes], url: str, log_path: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early; see {log_path}:\n{log_path.read_text()}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"server did not become ready in 60 s; see {log_path}")


class CpuMeter:
    """CPU seconds (user + system) spent by the client, the API process and PostgreSQL."""

    def __init__(self, server_pid: int, postmaster_pid: int | None, url: str) -> None:
        self.server = psutil.Process(server_pid)
        self.postmaster = psutil.Process(postmaster_pid) if postmaster_pid else None
        self.dsn = pg_dsn(url)
        self.psql: str | None = None
        if self.postmaster is not None:
            candidate = Path(self.postmaster.exe()).with_name("psql")
            self.psql = str(candidate) if candidate.exists() else None

    def snapshot(self, client_children: bool) -> dict[str, float]:
        if client_children:  # wrk: a child process, counted once it has been waited for
            usage = os.times()
            client = usage.children_user + usage.children_system
        else:
            client = time.process_time()
        server_times = self.server.cpu_times()
        machine = psutil.cpu_times()
        return {
            "client": client,
            "server": server_times.user + server_times.system,
            "postgres": self._postgres(),
            # Everything busy on the machine; minus the above, what other processes used.
            "machine": machine.user
            + machine.nice
            + machine.system
            + getattr(machine, "irq", 0.0)
            + getattr(machine, "softirq", 0.0)
            + getattr(machine, "steal", 0.0),
            "db_sessions": self._sessions(),
        }

    def _sessions(self) -> float:
        """Connections ever opened to the database (each query here opens one more)."""
        if self.psql is None:
            return float("nan")
        done = subprocess.run(
            [self.psql, "-XAtc", "SELECT sessions FROM pg_stat_database "
             "WHERE datname = current_database()", self.dsn],
            capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        try:
            return float(done.stdout.strip())
        except ValueError:
            return float("nan")

    def _postgres(self) -> float:
        if self.postmaster is None:
            return float("nan")
        own = self.postmaster.cpu_times()
        # Live backends, plus the ones that already exited (reaped by the postmaster).
        total = own.user + own.system + own.children_user + own.children_system
        for child in self.postmaster.children(recursive=True):
            try:
                times = child.cpu_times()
            except psutil.NoSuchProcess:
                continue
            total += times.user + times.system
        return total


def postmaster_pid(data_dir: Path) -> int | None:
    pid_file = data_dir / "pgdata" / "postmaster.pid"
    try:
        return int(pid_file.read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        return None


# --------------------------------------------------------------------------- load generators


@dataclass
class Measurement:
    requests: int
    seconds: float
    latencies: list[float]
    errors: dict[str, int]
    p50_ms: float | None = None
    p90_ms: float | None = None
    p99_ms: float | None = None
    max_ms: float | None = None


async def _httpx_phase(
    client: httpx.AsyncClient, url: str, concurrency: int, seconds: float, max_requests: int
) -> Measurement:
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    issued = 0
    started = time.perf_counter()
    deadline = started + seconds

    async def worker() -> None:
        nonlocal issued
        while issued < max_requests and time.perf_counter() < deadline:
            issued += 1
            sent = time.perf_counter()
            try:
                response = await client.get(url)
            except httpx.HTTPError as exc:
                errors[type(exc).__name__] += 1
                continue
            elapsed = time.perf_counter() - sent
            if response.status_code == 200:
                latencies.append(elapsed)
            else:
                errors[f"HTTP {response.status_code}"] += 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return Measurement(len(latencies), time.perf_counter() - started, latencies, dict(errors))


async def _httpx_run(
    url: str, headers: dict[str, str], args: argparse.Namespace, meter: CpuMeter
) -> tuple[Measurement, dict[str, float]]:
    limits = httpx.Limits(
        max_connections=args.concurrency, max_keepalive_connections=args.concurrency
    )
    timeout = httpx.Timeout(args.request_timeout)
    async with httpx.AsyncClient(headers=headers, limits=limits, timeout=timeout) as client:
        await _httpx_phase(client, url, args.concurrency, args.warmup, args.max_requests)
        before = meter.snapshot(client_children=False)
        measured = await _httpx_phase(
            client, url, args.concurrency, args.duration, args.max_requests
        )
        after = meter.snapshot(client_children=False)
    return measured, {k: after[k] - before[k] for k in before}


def run_httpx(
    url: str, headers: dict[str, str], args: argparse.Namespace, meter: CpuMeter
) -> tuple[Measurement, dict[str, float]]:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvicorn[standard] brings it
        return asyncio.run(_httpx_run(url, headers, args, meter))
    return uvloop.run(_httpx_run(url, headers, args, meter))


_WRK_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}


def run_wrk(
    url: str, headers: dict[str, str], args: argparse.Namespace, meter: CpuMeter
) -> tuple[Measurement, dict[str, float]]:
    base = [
        "wrk",
        "-t1",
        f"-c{args.concurrency}",
        "--latency",
        f"--timeout={max(1, round(args.request_timeout))}s",
    ]
    for name, value in headers.items():
        base += ["-H", f"{name}: {value}"]
    warmup = max(1, round(args.warmup))
    subprocess.run([*base, f"-d{warmup}s", url], check=True, capture_output=True)
    before = meter.snapshot(client_children=True)
    output = subprocess.run(
        [*base, f"-d{max(1, round(args.duration))}s", url],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    after = meter.snapshot(client_children=True)
    total = re.search(r"(\d+) requests in ([\d.]+)(\w+)", output)
    if total is None:
        raise RuntimeError(f"unexpected wrk output:\n{output}")
    seconds = float(total.group(2)) * _WRK_UNITS[total.group(3)] / 1e3
    errors: dict[str, int] = {}
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if non_2xx:
        errors["non-2xx"] = int(non_2xx.group(1))
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    if sockets:
        for label, count in zip(
            ("connect", "read", "write", "timeout"), sockets.groups(), strict=True
        ):
            if int(count):
                errors[f"socket {label}"] = int(count)
    ok = int(total.group(1)) - errors.get("non-2xx", 0)
    measurement = Measurement(ok, seconds, [], errors)
    for label, attr in (("50%", "p50_ms"), ("90%", "p90_ms"), ("99%", "p99_ms")):
        found = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s|m)\s*$", output, re.MULTILINE)
        if found:
            setattr(measurement, attr, float(found.group(1)) * _WRK_UNITS[found.group(2)])
    latency_max = re.search(r"Latency\s+\S+\s+\S+\s+([\d.]+)(us|ms|s|m)", output)
    if latency_max:
        measurement.max_ms = float(latency_max.group(1)) * _WRK_UNITS[latency_max.group(2)]
    return measurement, {k: after[k] - before[k] for k in before}


def percentile(sorted_values: list[float], fraction: float) -> float | None:
    if not sorted_values:
        return None
    index = min(len(sorted_values) - 1, max(0, round(fraction * len(sorted_values)) - 1))
    return sorted_values[index] * 1e3


# --------------------------------------------------------------------------- baseline app


def serve_baseline(port: int) -> None:
    """A bare FastAPI app on uvicorn: default settings, one access-log line per request."""
    import uvicorn
    from fastapi import FastAPI

    from vozagent.domain.contacts.schemas import ContactRead

    created = datetime(2024, 1, 1, tzinfo=UTC)
    rows = [
        SimpleNamespace(
            id=f"00000000-0000-4000-8000-{i:012d}",
            first_name=FIRST_NAMES[i % len(FIRST_NAMES)],
            last_name=LAST_NAMES[i % len(LAST_NAMES)],
            email=f"contact{i}@example.com",
            phone_number=f"+1555{i:07d}",
            company=COMPANIES[i % len(COMPANIES)] if i % 3 else None,
            tags=["lead"] if i % 2 == 0 else [],
            notes="Prefers a call after 5pm; asked about pricing." if i % 5 == 0 else None,
            source="import",
            address=f"{i} Main Street, Springfield" if i % 4 == 0 else None,
            created_at=created + timedelta(seconds=30 * i),
            updated_at=created + timedelta(seconds=30 * i),
        )
        for i in range(50)
    ]
    static = [
        {
            **vars(row),
            "created_at": row.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "updated_at": row.updated_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        for row in rows
    ]
    app = FastAPI()

    @app.get("/contacts")
    async def contacts_static() -> Any:
        return static

    @app.get("/contacts-model", response_model=list[ContactRead])
    async def contacts_model() -> list[ContactRead]:
        return [ContactRead.model_validate(row) for row in rows]

    @app.get("/healthz")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    uvicorn.Server(uvicorn.Config(app, host=HOST, port=port, log_level="info")).run()


# --------------------------------------------------------------------------- driver


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


def machine_busy_cores(seconds: float) -> float:
    """Average number of busy cores over ``seconds`` (all processes)."""
    before = psutil.cpu_times()
    time.sleep(seconds)
    after = psutil.cpu_times()
    busy = ("user", "nice", "system", "irq", "softirq", "steal")
    return sum(getattr(after, f, 0.0) - getattr(before, f, 0.0) for f in busy) / seconds


def wait_for_quiet(limit: float, threshold: float) -> tuple[float, float]:
    """Wait (at most ``limit`` s) until other processes leave the CPUs nearly idle."""
    started = time.monotonic()
    load = machine_busy_cores(2.0)
    while load > threshold and time.monotonic() - started < limit:
        load = machine_busy_cores(2.0)
    return round(time.monotonic() - started, 1), round(load, 2)


def measure(
    scenario: Scenario, base_url: str, api_key: str, args: argparse.Namespace, meter: CpuMeter
) -> dict[str, Any]:
    waited, idle_load = (0.0, None)
    if args.quiet_wait > 0:
        waited, idle_load = wait_for_quiet(args.quiet_wait, args.quiet_threshold)
    headers = {"Authorization": f"Bearer {api_key}"} if scenario.auth else {}
    url = base_url + scenario.url_path
    runner = run_wrk if args.client == "wrk" else run_httpx
    measured, cpu = runner(url, headers, args, meter)
    if measured.latencies:
        ordered = sorted(measured.latencies)
        measured.p50_ms = percentile(ordered, 0.50)
        measured.p90_ms = percentile(ordered, 0.90)
        measured.p99_ms = percentile(ordered, 0.99)
        measured.max_ms = ordered[-1] * 1e3
    served = measured.requests
    if not served:  # wrk drops the requests still in flight when the duration ends
        measured.p50_ms = measured.p90_ms = measured.p99_ms = measured.max_ms = None
    return {
        "scenario": scenario.name,
        "target": scenario.target,
        "path": scenario.url_path,
        "note": scenario.note,
        "requests": measured.requests,
        "seconds": round(measured.seconds, 2),
        "rps": round(measured.requests / measured.seconds, 1) if measured.seconds else 0.0,
        "p50_ms": _round(measured.p50_ms),
        "p90_ms": _round(measured.p90_ms),
        "p99_ms": _round(measured.p99_ms),
        "max_ms": _round(measured.max_ms),
        "errors": sum(measured.errors.values()),
        "error_kinds": measured.errors,
        "quiet_wait": {"waited_s": waited, "busy_cores_before": idle_load},
        "cpu_ms_per_request": {
            k: _round(cpu[k] * 1e3 / served) if served else None for k in OWN_CPU
        },
        # Cores busy on average; "other" is what processes outside the benchmark used.
        "cpu_cores_busy": {k: _round(cpu[k] / measured.seconds) for k in (*OWN_CPU, "machine")}
        | {"other": _round((cpu["machine"] - sum(cpu[k] for k in OWN_CPU)) / measured.seconds)},
        # The psql probe itself opens one session per reading.
        "db_connections_opened": None
        if cpu["db_sessions"] != cpu["db_sessions"]
        else int(cpu["db_sessions"]) - 1,
    }


def _round(value: float | None) -> float | None:
    if value is None or value != value:  # None or NaN
        return None
    return round(value, 3)


def print_table(rows: list[dict[str, Any]], explains: dict[str, dict[str, Any]]) -> None:
    bare = next((r["rps"] for r in rows if r["scenario"] == "bare-static"), None)
    header = (
        f"{'scenario':<15} {'req/s':>8} {'vs bare':>8} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'errors':>6} {'cpu ms/req client/api/pg':>26} {'SQL ms':>8}"
    )
    print()
    print(header)
    print("-" * len(header))
    for row in rows:
        ratio = f"{row['rps'] / bare:.2f}x" if bare else "-"
        cpu = row["cpu_ms_per_request"]
        cpu_text = "/".join(_fmt(cpu.get(k), 2) for k in ("client", "server", "postgres"))
        sql = explains.get(row["scenario"], {}).get("execution_ms_median")
        print(
            f"{row['scenario']:<15} {row['rps']:>8.1f} {ratio:>8} {_fmt(row['p50_ms'], 2):>8} "
            f"{_fmt(row['p99_ms'], 2):>8} {row['errors']:>6} {cpu_text:>26} {_fmt(sql, 3):>8}"
        )
    print()


def _fmt(value: float | None, digits: int) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--contacts", type=int, default=1_000_000, help="rows to load")
    parser.add_argument(
        "--data-dir", type=Path, default=DEFAULT_DATA_DIR,
        help="embedded PostgreSQL + cached data set ('temp' for a throwaway dir)",
    )  # fmt: skip
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per scenario")
    parser.add_argument("--warmup", type=float, default=2.0, help="warm-up seconds per scenario")
    parser.add_argument("--concurrency", type=int, default=16, help="requests in flight")
    parser.add_argument("--max-requests", type=int, default=1_000_000, help="cap per phase")
    parser.add_argument("--request-timeout", type=float, default=60.0, help="seconds")
    parser.add_argument("--client", choices=("httpx", "wrk"), default="httpx")
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs per scenario; the median run is reported"
    )
    parser.add_argument("--only", help="comma-separated scenario names to run")
    parser.add_argument("--reload", action="store_true", help="reload the data set")
    parser.add_argument(
        "--quiet-wait", type=float, default=0.0, metavar="SECONDS",
        help="before each scenario, wait up to this long for other processes to go idle",
    )  # fmt: skip
    parser.add_argument(
        "--quiet-threshold", type=float, default=0.2, metavar="CORES",
        help="'idle' for --quiet-wait: fewer busy cores than this (default 0.2)",
    )  # fmt: skip
    parser.add_argument("--no-explain", action="store_true", help="skip EXPLAIN ANALYZE")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument(
        "--server-env", action="append", default=[], metavar="NAME=VALUE",
        help="extra environment for the API server, e.g. VOZAGENT_DB_POOL_SIZE=20 (repeatable)",
    )  # fmt: skip
    parser.add_argument("--serve-baseline", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.serve_baseline:
        serve_baseline(args.serve_baseline)
        return 0
    if args.client == "wrk" and shutil.which("wrk") is None:
        parser.error("--client wrk: wrk is not installed (apt-get install wrk)")
    if args.repeat < 1 or args.concurrency < 1 or args.duration <= 0:
        parser.error("--repeat, --concurrency and --duration must be positive")
    if args.contacts < 1 or args.contacts > 9_999_999:
        parser.error("--contacts must be between 1 and 9,999,999")

    scenarios = build_scenarios(args.contacts)
    if args.only:
        wanted = {name.strip() for name in args.only.split(",")}
        unknown = wanted - {s.name for s in scenarios}
        if unknown:
            parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
        scenarios = [s for s in scenarios if s.name in wanted]

    temp_dir = None
    if str(args.data_dir) == "temp":
        # Short path: the PostgreSQL unix socket path must stay under ~100 bytes.
        temp_dir = tempfile.TemporaryDirectory(prefix="vzb")
        args.data_dir = Path(temp_dir.name)
    data_dir = args.data_dir.resolve()
    started = time.perf_counter()
    embedded = EmbeddedPostgres(data_dir)
    url = embedded.start()
    try:
        return _run(args, scenarios, data_dir, url, started)
    finally:
        embedded.stop()
        if temp_dir is not None:
            temp_dir.cleanup()


def _run(
    args: argparse.Namespace, scenarios: list[Scenario], data_dir: Path, url: str, started: float
) -> int:
    dataset = asyncio.run(prepare_dataset(url, data_dir, args.contacts, args.reload))
    explains: dict[str, dict[str, Any]] = {}
    if not args.no_explain:
        explains = asyncio.run(explain(url, dataset["org_id"], scenarios))
    setup_seconds = time.perf_counter() - started

    env = {
        **os.environ,
        "VOZAGENT_RATE_LIMIT_ENABLED": "false",
        "VOZAGENT_DATA_DIR": str(data_dir / "server"),
    }
    env.pop("VOZAGENT_REDIS_URL", None)
    for item in args.server_env:
        name, _, value = item.partition("=")
        env[name] = value
    vozagent = str(Path(sys.executable).with_name("vozagent"))
    postmaster = postmaster_pid(data_dir)
    rows: list[dict[str, Any]] = []
    logs = data_dir / "logs"
    for target in ("baseline", "server"):
        selected = [s for s in scenarios if s.target == target]
        if not selected:
            continue
        port = free_port()
        if target == "baseline":
            command = [sys.executable, str(Path(__file__).resolve()), "--serve-baseline", str(port)]
        else:
            command = [vozagent, "serve", "--host", HOST, "--port", str(port)]
            command += ["--data-dir", str(data_dir / "server"), "--database-url", url]
        base_url = f"http://{HOST}:{port}"
        with running(command, logs / f"{target}.log", env, base_url + "/healthz") as pid:
            meter = CpuMeter(pid, postmaster, url)
            for scenario in selected:
                print(f"running {scenario.name:<15} {scenario.url_path}", flush=True)
                runs = []
                for _ in range(args.repeat):
                    run = measure(scenario, base_url, dataset["api_key"], args, meter)
                    runs.append(run)
                    print(
                        f"  {run['rps']:.1f} req/s, p50 {_fmt(run['p50_ms'], 2)} ms, "
                        f"p99 {_fmt(run['p99_ms'], 2)} ms, errors {run['errors']}",
                        flush=True,
                    )
                # The median run by throughput stands for the scenario; all are kept.
                row = sorted(runs, key=lambda r: r["rps"])[(len(runs) - 1) // 2]
                rows.append({**row, "repeats_rps": [r["rps"] for r in runs]})

    total_seconds = time.perf_counter() - started
    print_table(rows, explains)
    result = {
        "generated_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": machine_info(),
        "settings": {
            "contacts": args.contacts,
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "concurrency": args.concurrency,
            "repeat": args.repeat,
            "client": "wrk -t1" if args.client == "wrk" else "httpx.AsyncClient on uvloop",
            "rate_limit_enabled": False,
            "server_env": args.server_env,
        },
        "dataset": {k: v for k, v in dataset.items() if k != "api_key"},
        "timing": {
            "setup_seconds": round(setup_seconds, 1),
            "total_seconds": round(total_seconds, 1),
        },
        "scenarios": rows,
        "explain": explains,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(f"setup {setup_seconds:.0f} s, total {total_seconds:.0f} s; wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
