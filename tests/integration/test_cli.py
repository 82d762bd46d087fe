"""The ``vozagent`` command line, run as real subprocesses on a fresh data dir."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]

VOZAGENT = str(Path(sys.executable).with_name("vozagent"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [VOZAGENT, *args, "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=120,
        env=_env(),
    )


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOZAGENT_")}
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _wait_ready(base: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, "serve exited early"
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError("serve did not become ready in 60 s")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, str]]:
    data_dir = tmp_path_factory.mktemp("cli")
    port = _free_port()
    process = subprocess.Popen(
        [VOZAGENT, "serve", "--data-dir", str(data_dir), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=_env(),
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base, process)
        banner = ""
        assert process.stdout is not None
        while "export VOZAGENT_API_KEY=" not in banner:
            banner += process.stdout.readline()
        key = banner.split("export VOZAGENT_API_KEY=")[1].split()[0]
        yield base, data_dir, key
    finally:
        process.send_signal(signal.SIGTERM)
        exit_code = process.wait(timeout=30)
        if process.stdout is not None:
            process.stdout.close()
    assert exit_code == 0
    # Stopped cleanly: the embedded server went down with the last handle.
    assert not (data_dir / "pgdata" / "postmaster.pid").exists()


def test_first_start_prints_a_working_key(served: tuple[str, Path, str]) -> None:
    base, _, key = served
    response = httpx.get(f"{base}/v1/assistants", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200
    assert "Voz" in {a["name"] for a in response.json()}


def test_spec_outbound_example_works_out_of_the_box(served: tuple[str, Path, str]) -> None:
    base, _, key = served
    response = httpx.post(
        f"{base}/v1/calls/outbound",
        headers={"Authorization": f"Bearer {key}"},
        json={
            "phone_number": "+15551234567",
            "assistant_name": "Voz",
            "first_name": "John",
            "last_name": "Smith",
            "notes": "Interested in a kitchen remodel quote",
        },
    )
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "queued"


def test_second_serve_on_the_same_data_dir_refuses(served: tuple[str, Path, str]) -> None:
    base, data_dir, _ = served
    result = subprocess.run(
        [VOZAGENT, "serve", "--data-dir", str(data_dir), "--port", str(_free_port())],
        capture_output=True,
        text=True,
        timeout=60,
        env=_env(),
    )
    assert result.returncode == 1
    assert "already using" in result.stderr
    assert httpx.get(f"{base}/healthz").status_code == 200  # the first one is unharmed


def test_keys_and_orgs_while_serving(served: tuple[str, Path, str]) -> None:
    base, data_dir, _ = served
    org = _run("orgs", "create", "--name", "Acme", "--plan", "growth", data_dir=data_dir)
    assert org.returncode == 0, org.stderr
    org_id = org.stdout.strip().splitlines()[-1]
    assert org_id.startswith("org-")
    created = _run(
        "keys",
        "create",
        "--name",
        "ci",
        "--org",
        org_id,
        "--scopes",
        "contacts:read",
        data_dir=data_dir,
    )
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip().splitlines()[-1]
    assert key.startswith("gw_")
    headers = {"Authorization": f"Bearer {key}"}
    assert httpx.get(f"{base}/v1/contacts", headers=headers).json() == []  # a new, empty org
    assert httpx.get(f"{base}/v1/calls", headers=headers).status_code == 403
    listed = _run("keys", "list", "--org", org_id, data_dir=data_dir)
    assert key not in listed.stdout and key[-4:] in listed.stdout
    key_id = listed.stdout.split()[0]
    assert _run("keys", "revoke", key_id, "--org", org_id, data_dir=data_dir).returncode == 0
    assert httpx.get(f"{base}/v1/contacts", headers=headers).status_code == 401


def test_bad_cli_input_is_a_clear_error(served: tuple[str, Path, str]) -> None:
    _, data_dir, _ = served
    bad_plan = _run("orgs", "create", "--name", "X", "--plan", "platinum", data_dir=data_dir)
    assert bad_plan.returncode == 2 and "Unknown plan" in bad_plan.stderr
    bad_scope = _run("keys", "create", "--name", "x", "--scopes", "calls:fly", data_dir=data_dir)
    assert bad_scope.returncode == 2 and "unknown scopes" in bad_scope.stderr
    no_org = _run("keys", "create", "--name", "x", "--org", "org-missing", data_dir=data_dir)
    assert no_org.returncode == 2 and "organization" in no_org.stderr


def test_keys_create_without_a_running_server(tmp_path: Path) -> None:
    created = _run("keys", "create", "--name", "offline", data_dir=tmp_path)
    assert created.returncode == 0, created.stderr
    assert created.stdout.strip().splitlines()[-1].startswith("gw_")
    upgraded = _run("db", "upgrade", data_dir=tmp_path)
    assert upgraded.returncode == 0 and "up to date" in upgraded.stdout
    assert not (tmp_path / "pgdata" / "postmaster.pid").exists()
