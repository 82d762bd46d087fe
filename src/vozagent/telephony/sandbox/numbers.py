"""Which sandbox destination does what (documented in docs/telephony.md).

Destinations are the North American fictional range ``+1 NPA 555-01XX`` with any area code:
nobody real can ever be dialled from the sandbox.
"""

from __future__ import annotations

import re
from enum import Enum
from typing import Any, Final

_FICTIONAL: Final = re.compile(r"^\+1[2-9]\d{2}55501(\d{2})$")


class Behaviour(Enum):
    CONVERSES = "converses"
    BUSY = "busy"
    NO_ANSWER = "no-answer"
    VOICEMAIL = "voicemail"
    HANGS_UP = "hangs-up"
    CARRIER_ERROR = "carrier-error"


_FIXED: Final = {
    50: Behaviour.BUSY,
    51: Behaviour.NO_ANSWER,
    52: Behaviour.VOICEMAIL,
    53: Behaviour.HANGS_UP,
    54: Behaviour.CARRIER_ERROR,
}
# How long 555-0153 stays on the line after answering.
HANG_UP_AFTER_SECONDS: Final = 3.0


def behaviour_for(destination: str) -> Behaviour | None:
    """None for numbers outside the fictional range (the sandbox refuses to dial them)."""
    match = _FICTIONAL.match(destination)
    if match is None:
        return None
    line = int(match.group(1))
    if line < 50:
        return Behaviour.CONVERSES
    return _FIXED.get(line)


# Callees of 555-0100 … 555-0149, chosen by the last digit; a call's own
# ``sandbox_persona`` replaces them.
BUILT_IN_PERSONAS: Final[tuple[dict[str, Any], ...]] = (
    {
        "lines": [
            "Hi, who is this?",
            "Sure, I have a minute.",
            "Tomorrow at ten in the morning works for me.",
            "Thanks, bye!",
        ]
    },
    {"lines": ["Hello?", "No thanks, I am not interested. Goodbye."]},
    {
        "lines": ["Yes, speaking.", "Wait, sorry, can you repeat that?", "Okay, thank you."],
        "barge_in": {"line": 1, "after_ms": 800},
    },
)


def built_in_persona(destination: str) -> dict[str, Any]:
    return BUILT_IN_PERSONAS[int(destination[-1]) % len(BUILT_IN_PERSONAS)]
