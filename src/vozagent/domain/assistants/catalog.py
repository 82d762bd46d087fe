"""What an assistant may be configured with: providers, models and voices.

Local providers run offline on the server (see shared research on the embedded
stack); cloud providers need credentials in the server configuration. A voice id is
either a catalogue name (``sarah``) or ``<tts provider>:<provider voice id>`` for a
cloud voice (``elevenlabs:21m00Tcm4TlvDq8ikWAM``).
"""

from __future__ import annotations

from dataclasses import dataclass

ASSISTANT_TYPES = ("inbound", "outbound", "custom")
FIRST_MESSAGE_MODES = (
    "assistant-speaks-first",
    "assistant-waits-for-user",
    "assistant-speaks-first-with-model-generated-message",
)
# "flow" is the offline conversation-flow brain; the others take any model name.
LLM_PROVIDERS = ("flow", "openai", "openai-compatible", "llama-cpp")
STT_PROVIDERS = ("faster-whisper", "deepgram", "openai")
CLOUD_TTS_PROVIDERS = ("elevenlabs", "openai", "cartesia", "deepgram")
LANGUAGES = ("en", "es", "fr", "de", "pt", "it", "nl")


@dataclass(frozen=True, slots=True)
class Voice:
    provider: str
    provider_voice: str
    description: str


# Offline voices: Piper's packaged en_US-joe-medium, and espeak-ng variants.
VOICES: dict[str, Voice] = {
    "joe": Voice("piper", "en_US-joe-medium", "US English male, natural (Piper)"),
    "sarah": Voice("espeak-ng", "en-us+f3", "US English female (espeak-ng)"),
    "marcus": Voice("espeak-ng", "en-us+m3", "US English male (espeak-ng)"),
    "emma": Voice("espeak-ng", "en-gb+f2", "British English female (espeak-ng)"),
    "lucia": Voice("espeak-ng", "es+f3", "Spanish female (espeak-ng)"),
}

DEFAULT_VOICE = "sarah"
DEFAULT_LLM = {"provider": "flow", "model": None}
DEFAULT_STT = {"provider": "faster-whisper", "model": "tiny.en"}


def voice_is_known(voice_id: str) -> bool:
    if voice_id in VOICES:
        return True
    provider, sep, provider_voice = voice_id.partition(":")
    return bool(sep) and provider in CLOUD_TTS_PROVIDERS and bool(provider_voice.strip())


def voice_choices() -> list[str]:
    return [*VOICES, *(f"{p}:<voice id>" for p in CLOUD_TTS_PROVIDERS)]
