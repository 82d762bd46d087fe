"""A real page in headless Chromium answers a call: its fake microphone reaches the
conversation, and the conversation's tone reaches the page's speaker worklet.

Chromium runs as a plain subprocess (Playwright and Puppeteer would download browsers);
``--use-file-for-fake-audio-capture`` feeds it a spoken WAV made with espeak-ng as the mic.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.integration.telephony.browser.conftest import PhoneServer, Script, poll_until
from vozagent.telephony.carrier import COMPLETED, IN_PROGRESS, CallHandle, DialRequest
from vozagent.voice.audio import PIPELINE_RATE, rms

pytestmark = pytest.mark.integration
PAGE_NAME = "chromium-test"
# Chromium's start-up on a small machine, then Web Audio and the fake devices warming up.
START_SECONDS = 45.0
AUDIO_SECONDS = 20.0
# Digital silence is 0.0; the fake mic's speech and our 0.3 tone are far above this.
SILENCE_RMS = 0.005


def chromium_binary() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture
def microphone_wav(tmp_path: Path) -> Path:
    """A spoken sentence for the fake microphone (speech passes noise suppression, which
    would fade out a steady tone); a warbling tone if espeak-ng is missing."""
    path = tmp_path / "mic.wav"
    espeak = shutil.which("espeak-ng")
    if espeak is not None:
        text = "Hello, this is the browser phone test. " * 3
        subprocess.run([espeak, "-w", str(path), text], check=True, timeout=30)
        return path
    t = np.arange(3 * PIPELINE_RATE) / PIPELINE_RATE
    warble = np.sin(2 * np.pi * (300 + 100 * np.sin(2 * np.pi * 3 * t)) * t) * 0.4
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(PIPELINE_RATE)
        out.writeframes((warble * 32767).astype("<i2").tobytes())
    return path


@pytest.fixture
def chromium_page(
    phone_server: PhoneServer, microphone_wav: Path, tmp_path: Path
) -> Iterator[Path]:
    """Headless Chromium on the phone page with autoanswer; yields its log file."""
    binary = chromium_binary()
    if binary is None:
        pytest.skip("chromium is not installed (Debian package 'chromium')")
    url = f"{phone_server.base_url}/telephony/browser/phone?name={PAGE_NAME}&autoanswer=1"
    log_path = tmp_path / "chromium.log"
    args = [
        binary,
        "--headless=new",
        "--no-sandbox",
        "--no-first-run",
        "--disable-gpu",
        "--disable-extensions",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={microphone_wav}",
        "--autoplay-policy=no-user-gesture-required",
        "--enable-logging=stderr",
        url,
    ]
    with log_path.open("wb") as log:
        # Its own session, so teardown can end Chromium and every helper process it forked.
        browser = subprocess.Popen(args, stdout=log, stderr=log, start_new_session=True)
    try:
        yield log_path
    finally:
        stop_process_group(browser)


def stop_process_group(process: subprocess.Popen[bytes]) -> None:
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 10)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        try:
            process.wait(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            continue


def tail_of(log_path: Path, size: int = 4000) -> str:
    """The end of Chromium's log, for a failure message."""
    return log_path.read_text(errors="replace")[-size:]


def last_second_rms(pcm: bytearray) -> float:
    return rms(bytes(pcm[-PIPELINE_RATE * 2 :]))


async def test_a_headless_chromium_page_answers_and_talks(
    phone_server: PhoneServer, chromium_page: Path
) -> None:
    carrier, events = phone_server.carrier, phone_server.events
    try:
        await poll_until(lambda: PAGE_NAME in carrier.registered(), START_SECONDS)
    except TimeoutError:
        pytest.fail(f"the page never registered; chromium said:\n{tail_of(chromium_page)}")
    request = DialRequest(
        call_id="call-chromium", to=f"browser:{PAGE_NAME}", from_="+15550001111", account=None
    )
    events.scripts[request.call_id] = Script(tone_seconds=15.0, hold_seconds=30.0)

    reference = await carrier.place_call(request)

    await events.wait_status(request.call_id, IN_PROGRESS)
    await expect_microphone_sound(phone_server, request.call_id, chromium_page)
    await expect_page_heard_tone(phone_server, request.call_id, chromium_page)
    await carrier.hang_up(CallHandle(request.call_id, reference, None))
    end = await events.wait_status(request.call_id, COMPLETED)
    assert end.end_reason == "assistant-hangup"


async def expect_microphone_sound(server: PhoneServer, call_id: str, log_path: Path) -> None:
    """The conversation hears the fake microphone: a second of audio above silence."""
    heard = server.events.heard
    try:
        await poll_until(
            lambda: last_second_rms(heard.get(call_id, bytearray())) > SILENCE_RMS,
            AUDIO_SECONDS,
        )
    except TimeoutError:
        pytest.fail(f"no sound from the page's microphone\n{tail_of(log_path)}")


async def expect_page_heard_tone(server: PhoneServer, call_id: str, log_path: Path) -> None:
    """The page reports receiving the conversation's 0.3 tone (RMS 0.21) and rendering it."""

    def heard_tone() -> bool:
        stats = server.carrier.page_stats(PAGE_NAME)
        return (
            stats is not None
            and stats.call_id == call_id
            and stats.frames_received >= 25
            and stats.rms > 0.1
            and stats.played_rms > 0.05
        )

    try:
        await poll_until(heard_tone, AUDIO_SECONDS)
    except TimeoutError:
        stats = server.carrier.page_stats(PAGE_NAME)
        pytest.fail(f"the page did not hear our tone: {stats}\n{tail_of(log_path)}")
