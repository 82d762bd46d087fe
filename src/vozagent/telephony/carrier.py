"""The interface every carrier implements, and what it reports back.

A carrier does call control (place, hang up, find a call after a crash) and owns its
callbacks and media sockets, mounted under ``/telephony/<name>``. It never touches the
database: it reports through :class:`CarrierEvents`, which the call runtime implements, and
gets credentials through it. Carriers are leaves: adding one never changes the dialer.
"""

from __future__ import annotations

import hashlib
import hmac
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Final, Protocol

import aiohttp
from starlette.routing import BaseRoute

from vozagent.voice.media import MediaLink

# The call statuses a carrier may report, in the API's own spelling.
RINGING: Final = "ringing"
IN_PROGRESS: Final = "in-progress"
COMPLETED: Final = "completed"
BUSY: Final = "busy"
NO_ANSWER: Final = "no-answer"
FAILED: Final = "failed"
CANCELED: Final = "canceled"
VOICEMAIL: Final = "voicemail"
CARRIER_STATUSES: Final = (
    RINGING,
    IN_PROGRESS,
    COMPLETED,
    BUSY,
    NO_ANSWER,
    FAILED,
    CANCELED,
    VOICEMAIL,
)


@dataclass(frozen=True, slots=True)
class CarrierAccount:
    """A credentials entry (``/v1/telephony-credentials``), decrypted for the carrier only."""

    provider: str
    credentials: Mapping[str, Any]
    api_base_url: str | None = None


@dataclass(frozen=True, slots=True)
class DialRequest:
    call_id: str
    to: str  # E.164, or a carrier-specific destination such as "browser:front-desk"
    from_: str  # the caller id, E.164
    account: CarrierAccount | None
    ring_timeout_seconds: int = 30
    detect_voicemail: bool = True
    # Carrier-specific extras, e.g. {"sandbox_persona": {...}} for the sandbox.
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CallHandle:
    """What a carrier needs to act on a call it placed or answered."""

    call_id: str
    reference: str | None  # the carrier's own id (Twilio CallSid, Telnyx call_control_id, ...)
    account: CarrierAccount | None


@dataclass(frozen=True, slots=True)
class StatusUpdate:
    call_id: str
    status: str  # one of CARRIER_STATUSES
    reference: str | None = None
    occurred_at: datetime | None = None
    # The carrier's own ordering (Twilio SequenceNumber), when it has one.
    sequence: int | None = None
    # Why the call ended: "customer-hangup", "assistant-hangup", "busy", "no-answer",
    # "voicemail", "canceled", "carrier-error: ...", "declined".
    end_reason: str | None = None
    answered_by: str | None = None  # human | machine | fax | unknown
    duration_seconds: int | None = None


@dataclass(frozen=True, slots=True)
class InboundCall:
    provider: str
    to: str
    from_: str
    reference: str


@dataclass(frozen=True, slots=True)
class InboundAnswer:
    """The runtime's decision on an inbound call: a call id to answer with, or a refusal."""

    call_id: str | None
    refusal: str | None = None


class CarrierEvents(Protocol):
    """Implemented by the call runtime (workers); the carrier's only way to the domain."""

    async def status(self, update: StatusUpdate) -> None:
        """Record a status change; duplicates and stale (out-of-order) updates are ignored."""

    async def media(self, call_id: str, link: MediaLink) -> None:
        """Run the conversation on ``link``; returns when it is over."""

    async def inbound(self, call: InboundCall) -> InboundAnswer:
        """A call arrived for ``call.to``: create the call record or refuse."""

    async def account_for_call(self, call_id: str) -> CarrierAccount | None:
        """The credentials of the number a call goes through (to verify its callbacks)."""

    async def account_for_number(self, provider: str, number: str) -> CarrierAccount | None:
        """The credentials of one of our numbers (to verify an inbound webhook)."""


@dataclass(frozen=True, slots=True)
class CarrierContext:
    events: CarrierEvents
    # Our externally reachable base URL (VOZAGENT_PUBLIC_URL), for every callback, TwiML
    # and media URL handed to a carrier.
    public_url: str
    # For carrier REST calls: goes through the SSRF guard, since api_base_url is user input.
    http: aiohttp.ClientSession
    # Signs the single-use tokens that authenticate our own media URLs (HMAC key).
    signing_key: bytes = b""
    # Per-carrier settings (SIP bind address, ...), from VOZAGENT_* settings.
    settings: Mapping[str, Any] = field(default_factory=dict)


class CarrierError(Exception):
    """A dial the carrier refused or could not take.

    ``retryable`` is for trouble reaching the carrier (the dialer tries again later);
    otherwise the call fails with ``reason``.
    """

    def __init__(self, reason: str, *, retryable: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable


class Carrier(ABC):
    name: ClassVar[str]

    def __init__(self, context: CarrierContext) -> None:
        self.context = context

    @property
    def base_url(self) -> str:
        """Where this carrier's routes are reachable from the outside."""
        return f"{self.context.public_url.rstrip('/')}/telephony/{self.name}"

    async def start(self) -> None:
        """Bind sockets, start background tasks (SIP listens for requests here)."""
        return None

    async def stop(self) -> None:
        """Hang up what is still up and release sockets."""
        return None

    @abstractmethod
    async def place_call(self, request: DialRequest) -> str:
        """Start dialling; returns the carrier's reference. Status arrives via events."""

    @abstractmethod
    async def hang_up(self, handle: CallHandle) -> None:
        """End the call in any state (cancel while ringing); a no-op when already over."""

    async def find_call(self, request: DialRequest, since: datetime) -> str | None:
        """After a crash: the reference of a call the carrier already has for this dial.

        The dialer asks before dialling again a call whose previous claim was lost (the
        worker died between asking the carrier and recording its answer), so a call is
        never placed twice. ``since`` is when the lost claim was made. Carriers whose calls
        cannot outlive our process (the sandbox, SIP, browser) keep this default.
        """
        return None

    def routes(self) -> Sequence[BaseRoute]:
        """HTTP and WebSocket routes, mounted under ``/telephony/<name>``."""
        return ()


def media_token(signing_key: bytes, call_id: str) -> str:
    """The token a carrier's media socket must present for ``call_id`` (HMAC-SHA256)."""
    return hmac.new(signing_key, f"media:{call_id}".encode(), hashlib.sha256).hexdigest()


def media_token_valid(signing_key: bytes, call_id: str, token: str) -> bool:
    return bool(signing_key) and hmac.compare_digest(media_token(signing_key, call_id), token)
