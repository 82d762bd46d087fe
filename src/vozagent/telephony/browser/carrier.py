"""The ``browser`` carrier: a web page that rings, and answers like a phone (research §4.4).

Open ``/telephony/browser/phone?name=front-desk`` and the page registers over a WebSocket as
the destination ``front-desk`` (a label or an E.164 number). A call placed to
``browser:front-desk`` (or plain ``front-desk``) rings that page; answering it hands a
:class:`~vozagent.telephony.browser.page.BrowserLink` to the conversation. Statuses follow a
carrier's: ``ringing`` -> ``in-progress`` -> ``completed``, or ``busy`` (declined, or the page
is on another call), ``no-answer`` (not answered in time) and ``canceled`` (we hung up first).

Multi-process note: registrations live in memory, in the process whose socket the page is
connected to. With several server processes, a call can only ring a page connected to the
process that places it, so run the browser carrier in one process (the usual local setup)
or pin ``/telephony/browser/ws`` and the dialer to the same one.

There are no user accounts on the page. Any page whose origin matches the server may
register under any name, so expose it only where you trust the network, or set the
``browser_token`` carrier setting and open the page with ``?token=...``.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import secrets
import time
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket

from vozagent.telephony.browser.page import (
    CLOSE_BAD_NAME,
    CLOSE_FORBIDDEN,
    CLOSE_REPLACED,
    BrowserLink,
    PageStats,
    PhonePage,
    parse_stats,
    valid_name,
)
from vozagent.telephony.carrier import (
    BUSY,
    CANCELED,
    COMPLETED,
    IN_PROGRESS,
    NO_ANSWER,
    RINGING,
    CallHandle,
    Carrier,
    CarrierContext,
    CarrierError,
    DialRequest,
    StatusUpdate,
)

log = logging.getLogger(__name__)
STATIC_DIR: Final = Path(__file__).parent / "static"
DESTINATION_PREFIX: Final = "browser:"
ENDED: Final = "ended"


@dataclass(eq=False)
class BrowserCall:
    call_id: str
    reference: str
    page: PhonePage
    state: str = RINGING  # RINGING, IN_PROGRESS or ENDED
    link: BrowserLink | None = None
    answered_at: float | None = None
    ring_timer: asyncio.Task[None] | None = None
    sequence: int = 0


class BrowserCarrier(Carrier):
    name = "browser"

    def __init__(self, context: CarrierContext) -> None:
        super().__init__(context)
        self._pages: dict[str, PhonePage] = {}
        self._calls: dict[str, BrowserCall] = {}  # by reference
        self._tasks: set[asyncio.Task[None]] = set()

    # -- what the app and the dialer see ----------------------------------------------

    def routes(self) -> Sequence[BaseRoute]:
        return (
            Route("/phone", self._serve_page, methods=["GET"]),
            Mount("/static", app=StaticFiles(directory=STATIC_DIR), name="browser-static"),
            WebSocketRoute("/ws", self._serve_socket),
        )

    def registered(self) -> list[str]:
        """The destinations an open page answers for."""
        return sorted(self._pages)

    def page_stats(self, name: str) -> PageStats | None:
        """What the page registered as ``name`` last reported hearing (diagnostics)."""
        page = self._pages.get(name)
        return page.stats if page is not None else None

    async def place_call(self, request: DialRequest) -> str:
        destination = request.to.removeprefix(DESTINATION_PREFIX)
        page = self._pages.get(destination)
        if page is None:
            raise CarrierError(f"no browser phone is registered as {destination}")
        call = BrowserCall(request.call_id, f"browser-{secrets.token_hex(8)}", page)
        if self._call_on(page) is not None:
            call.state = ENDED
            await self._report(call, BUSY, end_reason="busy")
            return call.reference
        self._calls[call.reference] = call
        # Reported before the page hears the ring, so "ringing" never trails "in-progress".
        await self._report(call, RINGING)
        call.ring_timer = self._spawn(self._ring_timeout(call, request.ring_timeout_seconds))
        await page.send_control({"type": "ring", "call_id": call.call_id, "from": request.from_})
        return call.reference

    async def hang_up(self, handle: CallHandle) -> None:
        call = self._calls.get(handle.reference or "") or self._call_by_id(handle.call_id)
        if call is None:
            return
        if call.state == RINGING:
            await self._end(call, CANCELED, "canceled")
        else:
            await self._end(call, COMPLETED, "assistant-hangup")
        await call.page.send_control({"type": "hangup", "call_id": call.call_id})

    async def stop(self) -> None:
        for call in list(self._calls.values()):
            await self.hang_up(CallHandle(call.call_id, call.reference, None))
        for page in list(self._pages.values()):
            await page.close()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # -- HTTP and WebSocket ------------------------------------------------------------

    async def _serve_page(self, request: Request) -> Response:
        return FileResponse(STATIC_DIR / "phone.html", headers={"Cache-Control": "no-store"})

    async def _serve_socket(self, socket: WebSocket) -> None:
        name = socket.query_params.get("name", "")
        if not self._allowed(socket):
            await socket.close(CLOSE_FORBIDDEN)
            return
        if not valid_name(name):
            await socket.close(CLOSE_BAD_NAME)
            return
        await socket.accept()
        page = PhonePage(name, socket)
        await self._register(page)
        try:
            await self._read_page(page)
        finally:
            await self._page_gone(page)

    def _allowed(self, socket: WebSocket) -> bool:
        # Browsers send Origin on WebSockets and never enforce same-origin on them, so this
        # check is what stops another site open in the same browser from registering.
        origin = socket.headers.get("origin")
        if origin is not None:
            allowed = {socket.headers.get("host"), urlsplit(self.context.public_url).netloc}
            if urlsplit(origin).netloc not in allowed:
                return False
        token = str(self.context.settings.get("browser_token") or "")
        return not token or hmac.compare_digest(socket.query_params.get("token", ""), token)

    async def _register(self, page: PhonePage) -> None:
        previous = self._pages.get(page.name)
        self._pages[page.name] = page
        if previous is not None:
            # The newest page wins (a reloaded tab); the old one is told why it was dropped.
            await previous.send_control({"type": "replaced"})
            await previous.close(CLOSE_REPLACED)
        await page.send_control({"type": "registered", "name": page.name})

    async def _read_page(self, page: PhonePage) -> None:
        while True:
            message = await page.socket.receive()
            if message["type"] == "websocket.disconnect":
                return
            if message.get("bytes") is not None:
                call = self._call_on(page)
                if call is not None and call.link is not None:
                    call.link.feed_audio(message["bytes"])
            elif message.get("text") is not None:
                await self._page_said(page, message["text"])

    async def _page_said(self, page: PhonePage, text: str) -> None:
        try:
            message = json.loads(text)
        except json.JSONDecodeError:
            return
        if not isinstance(message, dict):
            return
        kind = message.get("type")
        if kind == "stats":
            page.stats = parse_stats(message) or page.stats
            return
        call = self._call_on(page)
        if call is None or message.get("call_id", call.call_id) != call.call_id:
            return  # about a call that is already over
        if kind == "answer":
            await self._answered(call)
        elif kind in ("decline", "hangup"):
            await self._page_hung_up(call)
        elif kind == "dtmf" and call.link is not None:
            call.link.feed_dtmf(message.get("digit"))

    async def _page_gone(self, page: PhonePage) -> None:
        if self._pages.get(page.name) is page:
            del self._pages[page.name]
        call = self._call_on(page)
        if call is None:
            return
        if call.state == RINGING:
            # The phone vanished while ringing: nobody answered.
            await self._end(call, NO_ANSWER, "no-answer")
        else:
            await self._end(call, COMPLETED, "customer-hangup", remote=True)

    # -- the call's life ---------------------------------------------------------------

    async def _answered(self, call: BrowserCall) -> None:
        if call.state != RINGING:
            return
        call.state = IN_PROGRESS
        call.answered_at = time.monotonic()
        self._cancel_ring_timer(call)
        call.link = BrowserLink(call.call_id, call.page)
        await self._report(call, IN_PROGRESS)
        self._spawn(self._converse(call, call.link))

    async def _page_hung_up(self, call: BrowserCall) -> None:
        if call.state == RINGING:
            await self._end(call, BUSY, "declined")
        else:
            await self._end(call, COMPLETED, "customer-hangup", remote=True)

    async def _converse(self, call: BrowserCall, link: BrowserLink) -> None:
        link.start()
        try:
            await self.context.events.media(call.call_id, link)
        except Exception:  # the conversation's failure must not leave the page in a call
            log.exception("browser call %s: conversation failed", call.call_id)
        finally:
            # The conversation is over; a page left on the line would hear nothing.
            if call.state == IN_PROGRESS:
                await self.hang_up(CallHandle(call.call_id, call.reference, None))
            await link.close()

    async def _ring_timeout(self, call: BrowserCall, seconds: float) -> None:
        await asyncio.sleep(seconds)
        if call.state == RINGING:
            call.ring_timer = None  # this task: do not let _end cancel it mid-report
            await self._end(call, NO_ANSWER, "no-answer")
            await call.page.send_control({"type": "hangup", "call_id": call.call_id})

    async def _end(
        self, call: BrowserCall, status: str, reason: str, *, remote: bool = False
    ) -> None:
        if call.state == ENDED:
            return
        call.state = ENDED
        self._calls.pop(call.reference, None)
        self._cancel_ring_timer(call)
        if call.link is not None:
            await (call.link.remote_hangup() if remote else call.link.close())
        duration = None
        if call.answered_at is not None:
            duration = round(time.monotonic() - call.answered_at)
        await self._report(call, status, end_reason=reason, duration_seconds=duration)

    async def _report(self, call: BrowserCall, status: str, **details: Any) -> None:
        call.sequence += 1
        update = StatusUpdate(
            call_id=call.call_id,
            status=status,
            reference=call.reference,
            occurred_at=datetime.now(UTC),
            sequence=call.sequence,
            **details,
        )
        await self.context.events.status(update)

    # -- bookkeeping -------------------------------------------------------------------

    def _call_on(self, page: PhonePage) -> BrowserCall | None:
        return next((c for c in self._calls.values() if c.page is page), None)

    def _call_by_id(self, call_id: str) -> BrowserCall | None:
        return next((c for c in self._calls.values() if c.call_id == call_id), None)

    def _cancel_ring_timer(self, call: BrowserCall) -> None:
        timer, call.ring_timer = call.ring_timer, None
        if timer is not None and timer is not asyncio.current_task():
            timer.cancel()

    def _spawn(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task
