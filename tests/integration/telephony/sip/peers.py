"""Test helpers for the SIP carrier: a recording CarrierEvents that runs a tiny conversation,
and the far ends (baresip, sipp) started as real processes on loopback."""

from __future__ import annotations

import asyncio
import json
import math
import shutil
import socket
import struct
import subprocess
import wave
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from vozagent.telephony.carrier import (
    CarrierAccount,
    CarrierContext,
    DialRequest,
    InboundAnswer,
    InboundCall,
    StatusUpdate,
)
from vozagent.voice.audio import PIPELINE_RATE
from vozagent.voice.media import AudioReceived, DtmfReceived, LinkClosed, MediaLink

TONE_HZ = 440
TONE_SECONDS = 1.5


def tone(seconds: float = TONE_SECONDS, hz: int = TONE_HZ, rate: int = PIPELINE_RATE) -> bytes:
    count = int(seconds * rate)
    return b"".join(
        struct.pack("<h", int(12000 * math.sin(2 * math.pi * hz * i / rate))) for i in range(count)
    )


@dataclass
class RecordingEvents:
    """A CarrierEvents that records what the carrier reports and talks on the link."""

    listen_seconds: float = 3.0
    hang_up_when_done: bool = True
    answer: InboundAnswer = field(default_factory=lambda: InboundAnswer(call_id="in-1"))
    statuses: list[StatusUpdate] = field(default_factory=list)
    inbound_calls: list[InboundCall] = field(default_factory=list)
    heard: bytearray = field(default_factory=bytearray)
    dtmf: list[str] = field(default_factory=list)
    closed_by: str | None = None
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def status(self, update: StatusUpdate) -> None:
        self.statuses.append(update)
        self._changed.set()

    async def media(self, call_id: str, link: MediaLink) -> None:
        link.play(tone())
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.listen_seconds
        while self.closed_by is None:
            try:
                async with asyncio.timeout_at(deadline):
                    event = await link.receive()
            except TimeoutError:
                break
            if isinstance(event, AudioReceived):
                self.heard.extend(event.pcm)
            elif isinstance(event, DtmfReceived):
                self.dtmf.append(event.digit)
            elif isinstance(event, LinkClosed):
                self.closed_by = event.reason
        if self.hang_up_when_done:
            await link.close()

    async def inbound(self, call: InboundCall) -> InboundAnswer:
        self.inbound_calls.append(call)
        return self.answer

    async def account_for_call(self, call_id: str) -> CarrierAccount | None:
        return None

    async def account_for_number(self, provider: str, number: str) -> CarrierAccount | None:
        return None

    @property
    def status_names(self) -> list[str]:
        return [update.status for update in self.statuses]

    async def wait_for_status(self, status: str, within: float = 10.0) -> StatusUpdate:
        async with asyncio.timeout(within):
            while True:
                for update in self.statuses:
                    if update.status == status:
                        return update
                self._changed.clear()
                await self._changed.wait()

    async def wait_for_end(self, within: float = 15.0) -> StatusUpdate:
        """The first final status (anything but ringing / in-progress)."""
        async with asyncio.timeout(within):
            while True:
                for update in self.statuses:
                    if update.status not in ("ringing", "in-progress"):
                        return update
                self._changed.clear()
                await self._changed.wait()


def make_context(events: RecordingEvents, http: aiohttp.ClientSession) -> CarrierContext:
    settings = {"sip_bind_host": "127.0.0.1", "sip_bind_port": 0, "sip_rtp_ports": (0, 0)}
    return CarrierContext(
        events=events, public_url="http://127.0.0.1", http=http, settings=settings
    )


def dial(
    port: int, *, to: str = "+15550001111", ring_timeout: int = 10, **creds: str
) -> DialRequest:
    credentials = {"host": "127.0.0.1", "port": port, "transport": "udp", **creds}
    return DialRequest(
        call_id="out-1",
        to=to,
        from_="+15559998888",
        account=CarrierAccount(provider="sip", credentials=credentials),
        ring_timeout_seconds=ring_timeout,
    )


def free_port(kind: int = socket.SOCK_DGRAM) -> int:
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def require(binary: str) -> str:
    import pytest

    path = shutil.which(binary)
    if path is None:
        pytest.skip(f"{binary} is not installed (Debian package needed for this interop test)")
    return path


async def stop_process(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.terminate()
        try:
            async with asyncio.timeout(5):
                await process.wait()
        except TimeoutError:
            process.kill()
            await process.wait()


def write_wav(path: Path, pcm: bytes, rate: int) -> None:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm)


def read_wav(path: Path) -> tuple[bytes, int]:
    with wave.open(str(path), "rb") as source:
        return source.readframes(source.getnframes()), source.getframerate()


class Baresip:
    """baresip with an auto-answer account, a WAV prompt, recordings and ctrl_tcp."""

    def __init__(self, directory: Path, prompt: Path) -> None:
        self.directory = directory
        self.recordings = directory / "rec"
        self.recordings.mkdir()
        self.sip_port = free_port()
        self.ctrl_port = free_port(socket.SOCK_STREAM)
        (directory / "config").write_text(
            "\n".join(
                [
                    "poll_method epoll",
                    f"sip_listen 127.0.0.1:{self.sip_port}",
                    "net_interface 127.0.0.1",
                    f"audio_source aufile,{prompt}",
                    "module_path /usr/lib/baresip/modules",
                    "module g711.so",
                    "module aufile.so",
                    "module sndfile.so",
                    f"snd_path {self.recordings}",
                    "module_app account.so",
                    "module_app menu.so",
                    "module_app ctrl_tcp.so",
                    f"ctrl_tcp_listen 127.0.0.1:{self.ctrl_port}",
                    "",
                ]
            )
        )
        (directory / "accounts").write_text(
            f"<sip:agent@127.0.0.1:{self.sip_port}>;regint=0;answermode=auto;"
            "audio_codecs=PCMU,PCMA\n"
        )
        self.process: asyncio.subprocess.Process | None = None
        self.events: list[dict[str, object]] = []
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def start(self) -> None:
        with (self.directory / "baresip.log").open("wb") as log:
            self.process = await asyncio.create_subprocess_exec(
                require("baresip"),
                "-f",
                str(self.directory),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        for _ in range(100):  # up to 5 s for ctrl_tcp to listen
            try:
                self._reader, self._writer = await asyncio.open_connection(
                    "127.0.0.1", self.ctrl_port
                )
                return
            except OSError:
                await asyncio.sleep(0.05)
        raise RuntimeError("baresip did not start: " + self.log())

    def log(self) -> str:
        return (self.directory / "baresip.log").read_text(errors="replace")

    async def command(self, command: str, params: str = "") -> None:
        assert self._writer is not None
        body = json.dumps({"command": command, "params": params, "token": "t"}).encode()
        self._writer.write(f"{len(body)}:".encode() + body + b",")
        await self._writer.drain()

    async def wait_event(self, kind: str, within: float = 10.0) -> dict[str, object]:
        """Read ctrl_tcp netstrings until an event of ``kind`` (e.g. CALL_CLOSED)."""
        assert self._reader is not None
        async with asyncio.timeout(within):
            while True:
                length = int((await self._reader.readuntil(b":"))[:-1])
                message = json.loads((await self._reader.readexactly(length + 1))[:-1])
                if message.get("event"):
                    self.events.append(message)
                    if message.get("type") == kind:
                        return dict(message)

    def recording(self, suffix: str) -> Path:
        """The newest ``*-dec.wav`` (what baresip heard) or ``*-enc.wav`` (what it sent)."""
        files = sorted(self.recordings.glob(f"*{suffix}.wav"), key=lambda p: p.stat().st_mtime)
        assert files, f"baresip wrote no *{suffix}.wav: {list(self.recordings.iterdir())}"
        return files[-1]

    async def stop(self) -> None:
        if self._writer is not None:
            self._writer.close()
        if self.process is not None:
            await stop_process(self.process)


SCENARIOS = Path(__file__).parent / "scenarios"


class Sipp:
    """sipp running one UAS scenario for a single call; its exit code says if it passed."""

    def __init__(
        self, directory: Path, scenario: str, fill: dict[str, str] | None = None, **keys: str
    ) -> None:
        """``fill`` replaces ``{name}`` in the scenario (sipp checks status codes on load,
        before it would substitute ``-key`` values); ``keys`` become sipp ``-key`` values."""
        self.directory = directory
        self.port = free_port()
        text = (SCENARIOS / scenario).read_text()
        for name, value in (fill or {}).items():
            text = text.replace("{" + name + "}", value)
        scenario_file = directory / scenario
        scenario_file.write_text(text)
        self.args = [
            require("sipp"),
            "-sf",
            str(scenario_file),
            "-i",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-mi",
            "127.0.0.1",
            "-mp",
            str(free_port()),
            "-m",
            "1",
            "-timeout",
            "20",
            "-timeout_error",
            "-nostdin",
            "-trace_err",
            "-trace_msg",
        ]
        for name, value in keys.items():
            self.args += ["-key", name, value]
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        with (self.directory / "sipp.log").open("wb") as log:
            self.process = await asyncio.create_subprocess_exec(
                *self.args,
                cwd=self.directory,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    async def finished(self, within: float = 20.0) -> int:
        """sipp's exit code: 0 when the scenario ran to its end."""
        assert self.process is not None
        async with asyncio.timeout(within):
            return await self.process.wait()

    def log(self) -> str:
        texts = [p.read_text(errors="replace") for p in sorted(self.directory.glob("*.log"))]
        return "\n".join(texts)[-6000:]

    async def stop(self) -> None:
        if self.process is not None:
            await stop_process(self.process)
