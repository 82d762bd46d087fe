"""What a simulated callee says: a :class:`Persona` (parsed from the sandbox's JSON) or a
voicemail greeting."""

from __future__ import annotations

from typing import Final

import numpy as np
from pydantic import ConfigDict, Field, TypeAdapter, ValidationError
from pydantic.dataclasses import dataclass

from vozagent.voice.audio import PIPELINE_RATE

_STRICT = ConfigDict(extra="forbid")


class PersonaError(ValueError):
    """A persona that cannot be used; ``field`` names the offending field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"persona.{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True, config=_STRICT)
class BargeIn:
    """Say line ``line`` while the assistant is still speaking, ``after_ms`` into its turn."""

    line: int = Field(ge=0)
    after_ms: int = Field(ge=0)


@dataclass(frozen=True, config=_STRICT)
class Persona:
    lines: tuple[str, ...] = Field(min_length=1)
    voice: str = "default"
    # Milliseconds of thinking before each line (one per line).
    pauses: tuple[int, ...] | None = None
    barge_in: BargeIn | None = None
    # Hang up as soon as this line has been said, without waiting for a reply.
    hang_up_after_line: int | None = Field(default=None, ge=0)
    # How long the phone rings before the callee answers (the carrier waits this long).
    answer_delay_ms: int = Field(default=0, ge=0)

    def pause_before(self, line: int) -> int:
        return self.pauses[line] if self.pauses is not None else 0

    @classmethod
    def from_json(cls, data: object) -> Persona:
        """Validate the JSON shape ``{"lines": [...], "voice": "...", ...}``."""
        try:
            persona = _PERSONA.validate_python(data)
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "(root)"
            raise PersonaError(where, first["msg"]) from None
        persona.check()
        return persona

    def check(self) -> None:
        count = len(self.lines)
        for index, line in enumerate(self.lines):
            if not line.strip():
                raise PersonaError(f"lines.{index}", "must not be blank")
        if self.pauses is not None:
            if len(self.pauses) != count:
                raise PersonaError("pauses", f"needs one entry per line ({count})")
            if any(pause < 0 for pause in self.pauses):
                raise PersonaError("pauses", "must not be negative")
        if self.barge_in is not None and self.barge_in.line >= count:
            raise PersonaError("barge_in.line", f"must be below the number of lines ({count})")
        if self.hang_up_after_line is not None and self.hang_up_after_line >= count:
            raise PersonaError("hang_up_after_line", f"must be below the number of lines ({count})")


_PERSONA: Final = TypeAdapter(Persona)


@dataclass(frozen=True, config=_STRICT)
class VoicemailGreeting:
    """An answering machine: a greeting, a beep, then silence while it records."""

    greeting: str = "You have reached Alex. Leave a message after the tone."
    beep_hz: int = Field(default=1000, gt=0, lt=PIPELINE_RATE // 2)
    beep_ms: int = Field(default=500, gt=0)
    answer_delay_ms: int = Field(default=0, ge=0)

    def beep(self) -> bytes:
        t = np.arange(PIPELINE_RATE * self.beep_ms // 1000) / PIPELINE_RATE
        tone = np.sin(2 * np.pi * self.beep_hz * t) * 0.5 * 32767
        return np.round(tone).astype(np.int16).tobytes()


VOICEMAIL_GREETING: Final = VoicemailGreeting()
