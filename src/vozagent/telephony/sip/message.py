"""SIP messages (RFC 3261 §7): parsing datagrams, building requests and responses.

Only what a user agent needs: a start line, ordered headers (compact forms understood) and a
body. Header values are kept as text; the helpers below pull out the parts we act on
(tags, the user part of a URI, the Via branch, CSeq).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field

SIP_VERSION = "SIP/2.0"
# RFC 3261 §7.3.3: the single-letter forms a peer may use instead of the full names.
COMPACT_NAMES = {
    "i": "call-id",
    "f": "from",
    "t": "to",
    "v": "via",
    "m": "contact",
    "l": "content-length",
    "c": "content-type",
    "k": "supported",
    "s": "subject",
    "e": "content-encoding",
}
# RFC 3261 §8.1.1.7: every branch we generate starts with the magic cookie.
BRANCH_COOKIE = "z9hG4bK"
_URI = re.compile(r"sips?:(?:(?P<user>[^@;>\s]+)@)?(?P<host>[^;>:\s]+)(?::(?P<port>\d+))?")


class SipParseError(ValueError):
    """A datagram that is not a SIP message we can read."""


def _canonical(name: str) -> str:
    lowered = name.strip().lower()
    return COMPACT_NAMES.get(lowered, lowered)


@dataclass
class SipMessage:
    start_line: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    # -- start line ------------------------------------------------------------------

    @property
    def is_request(self) -> bool:
        return not self.start_line.startswith(SIP_VERSION)

    @property
    def method(self) -> str:
        return self.start_line.split(" ", 1)[0] if self.is_request else self.cseq[1]

    @property
    def uri(self) -> str:
        return self.start_line.split(" ")[1]

    @property
    def status(self) -> int:
        return int(self.start_line.split(" ")[1]) if not self.is_request else 0

    @property
    def reason(self) -> str:
        parts = self.start_line.split(" ", 2)
        return parts[2] if len(parts) > 2 else ""

    # -- headers ---------------------------------------------------------------------

    def get(self, name: str) -> str | None:
        wanted = _canonical(name)
        return next((value for key, value in self.headers if _canonical(key) == wanted), None)

    def get_all(self, name: str) -> list[str]:
        """Every value of a header, splitting comma-joined lists (Via, Record-Route)."""
        wanted = _canonical(name)
        values: list[str] = []
        for key, value in self.headers:
            if _canonical(key) == wanted:
                values.extend(split_list(value))
        return values

    def header(self, name: str) -> str:
        value = self.get(name)
        if value is None:
            raise SipParseError(f"missing {name} header")
        return value

    def set(self, name: str, value: str) -> None:
        wanted = _canonical(name)
        self.headers = [(k, v) for k, v in self.headers if _canonical(k) != wanted]
        self.headers.append((name, value))

    @property
    def call_id(self) -> str:
        return self.header("Call-ID")

    @property
    def cseq(self) -> tuple[int, str]:
        number, _, method = self.header("CSeq").strip().partition(" ")
        return int(number), method.strip()

    @property
    def branch(self) -> str:
        vias = self.get_all("Via")
        return param(vias[0], "branch") or "" if vias else ""

    def encode(self) -> bytes:
        lines = [self.start_line]
        lines += [f"{k}: {v}" for k, v in self.headers if _canonical(k) != "content-length"]
        lines.append(f"Content-Length: {len(self.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + self.body


def parse(data: bytes) -> SipMessage:
    head, separator, body = data.partition(b"\r\n\r\n")
    if not separator:
        head, separator, body = data.partition(b"\n\n")
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as error:
        raise SipParseError("headers are not UTF-8") from error
    lines = _unfold(text.replace("\r\n", "\n").split("\n"))
    if not lines or not _valid_start_line(lines[0]):
        raise SipParseError("not a SIP start line")
    message = SipMessage(lines[0].strip())
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon or not name.strip():
            raise SipParseError(f"bad header line {line!r}")
        message.headers.append((name.strip(), value.strip()))
    length = message.get("Content-Length")
    # On UDP the Content-Length bounds the body (RFC 3261 §18.3); trailing bytes are dropped.
    message.body = body[: int(length)] if length and length.strip().isdigit() else body
    return message


def _unfold(lines: list[str]) -> list[str]:
    """Join continuation lines (leading whitespace) onto the header they continue."""
    out: list[str] = []
    for line in lines:
        if line[:1] in (" ", "\t") and out:
            out[-1] += " " + line.strip()
        elif line:
            out.append(line)
    return out


def _valid_start_line(line: str) -> bool:
    parts = line.split(" ")
    if line.startswith(SIP_VERSION):
        return len(parts) >= 2 and parts[1].isdigit() and len(parts[1]) == 3
    return len(parts) == 3 and parts[2].strip() == SIP_VERSION


def split_list(value: str) -> list[str]:
    """Split a comma-separated header value, leaving commas inside quotes or <> alone."""
    items: list[str] = []
    current: list[str] = []
    depth, quoted = 0, False
    for char in value:
        if char == '"':
            quoted = not quoted
        elif char == "<" and not quoted:
            depth += 1
        elif char == ">" and not quoted:
            depth -= 1
        if char == "," and not quoted and depth == 0:
            items.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    items.append("".join(current).strip())
    return [item for item in items if item]


def param(value: str, name: str) -> str | None:
    """A header parameter (``;tag=..``, ``;branch=..``), outside any ``<uri>`` part."""
    tail = value.rsplit(">", 1)[-1]
    for part in tail.split(";")[1:]:
        key, _, found = part.partition("=")
        if key.strip().lower() == name:
            return found.strip()
    return None


def uri_of(value: str) -> str:
    """The URI of a name-addr (``"Bob" <sip:bob@host>;tag=1``) or addr-spec."""
    if "<" in value:
        return value.split("<", 1)[1].split(">", 1)[0].strip()
    return value.split(";", 1)[0].strip()


def uri_user(value: str) -> str:
    match = _URI.search(uri_of(value))
    return match.group("user") or "" if match else ""


def uri_host_port(uri: str, default_port: int = 5060) -> tuple[str, int]:
    match = _URI.search(uri_of(uri))
    if match is None:
        raise SipParseError(f"not a SIP URI: {uri!r}")
    return match.group("host"), int(match.group("port") or default_port)


def new_tag() -> str:
    return secrets.token_hex(6)


def new_branch() -> str:
    return BRANCH_COOKIE + secrets.token_hex(8)


def new_call_id(host: str) -> str:
    return f"{secrets.token_hex(12)}@{host}"


def build_response(
    request: SipMessage,
    status: int,
    reason: str,
    *,
    to_tag: str | None = None,
    extra: list[tuple[str, str]] | None = None,
    body: bytes = b"",
) -> SipMessage:
    """A response copying what RFC 3261 §8.2.6.2 says to copy from the request."""
    response = SipMessage(f"{SIP_VERSION} {status} {reason}")
    for name, value in request.headers:
        if _canonical(name) in ("via", "from", "call-id", "cseq", "record-route"):
            response.headers.append((name, value))
    to = request.header("To")
    if to_tag and param(to, "tag") is None:
        to = f"{to};tag={to_tag}"
    response.headers.append(("To", to))
    response.headers.extend(extra or [])
    response.body = body
    return response
