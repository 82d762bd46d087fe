"""A SIP dialog (RFC 3261 §12): the state two user agents share, and requests within it.

In-dialog requests go to the address the dialog's first message came from or went to (the
trunk, or the calling UA), with the remote target as Request-URI and the route set as Route
headers; that is what a trunk's proxy expects, and it needs no DNS lookup of the Contact.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from vozagent.telephony.sip.message import SipMessage, new_branch, param, uri_of

Address = tuple[str, int]
ALLOW = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO"
USER_AGENT = "vozagent"


@dataclass
class Dialog:
    call_id: str
    local: str  # our From/To header value, with our tag
    remote: str  # theirs; gets their tag once they answer
    remote_target: str  # Request-URI of in-dialog requests (their Contact)
    peer: Address
    via_host: str  # "host:port" we put in Via and Contact
    local_cseq: int = 1
    route_set: list[str] = field(default_factory=list)

    @property
    def contact(self) -> str:
        return f"<sip:vozagent@{self.via_host}>"

    def via(self, branch: str | None = None) -> str:
        return f"SIP/2.0/UDP {self.via_host};branch={branch or new_branch()};rport"

    def request(
        self, method: str, *, cseq: int | None = None, branch: str | None = None
    ) -> SipMessage:
        """A request in this dialog; a new CSeq unless one is given (ACK reuses INVITE's)."""
        if cseq is None:
            self.local_cseq += 1
            cseq = self.local_cseq
        message = SipMessage(f"{method} {self.remote_target} SIP/2.0")
        message.headers += [
            ("Via", self.via(branch)),
            ("Max-Forwards", "70"),
            *[("Route", route) for route in self.route_set],
            ("From", self.local),
            ("To", self.remote),
            ("Call-ID", self.call_id),
            ("CSeq", f"{cseq} {method}"),
            ("User-Agent", USER_AGENT),
        ]
        return message

    def confirm(self, response: SipMessage) -> None:
        """Take the remote tag, target and route set from a 2xx to our INVITE (§12.1.2)."""
        self.remote = response.header("To")
        contact = response.get("Contact")
        if contact:
            self.remote_target = uri_of(contact)
        self.route_set = list(reversed(response.get_all("Record-Route")))

    @property
    def remote_tag(self) -> str | None:
        return param(self.remote, "tag")


def uas_dialog(invite: SipMessage, peer: Address, via_host: str, local_tag: str) -> Dialog:
    """The dialog an INVITE we answer creates (§12.1.1)."""
    contact = invite.get("Contact")
    return Dialog(
        call_id=invite.call_id,
        local=f"{invite.header('To')};tag={local_tag}",
        remote=invite.header("From"),
        remote_target=uri_of(contact) if contact else uri_of(invite.header("From")),
        peer=peer,
        via_host=via_host,
        local_cseq=0,
        route_set=invite.get_all("Record-Route"),
    )
