from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, StringConstraints

from vozagent.core.timestamps import Timestamp
from vozagent.domain.schemas import (
    Label,
    LongText,
    Name,
    RequestModel,
    ResponseModel,
    integral_float_to_int,
)

AssistantType = Literal["inbound", "outbound", "custom"]
FirstMessageMode = Literal[
    "assistant-speaks-first",
    "assistant-waits-for-user",
    "assistant-speaks-first-with-model-generated-message",
]
ToolName = Annotated[str, StringConstraints(pattern=r"^[a-zA-Z0-9_-]{1,64}$")]
Phrase = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
MaxDuration = Annotated[int, Field(ge=10, le=14_400), BeforeValidator(integral_float_to_int)]


class ProviderConfig(RequestModel):
    provider: str = Field(max_length=64)
    model: str | None = Field(default=None, max_length=200)


class ProviderConfigRead(ResponseModel):
    provider: str
    model: str | None = None


class Tool(RequestModel):
    """A built-in tool by name, or a custom one with a JSON-Schema and a webhook."""

    name: ToolName
    description: str | None = Field(default=None, max_length=2000)
    parameters: dict[str, Any] | None = None
    url: str | None = Field(default=None, max_length=2000)


class AssistantFields(RequestModel):
    role: Label | None = None
    is_active: bool = True
    voice_id: str = Field(default="sarah", max_length=200)
    first_message: LongText | None = None
    first_message_mode: FirstMessageMode = "assistant-speaks-first"
    personality: LongText | None = None
    system_prompt: LongText | None = None
    template_id: Label | None = None
    phone_number_id: str | None = Field(default=None, max_length=64)
    language: str = Field(default="en", max_length=16)
    llm: ProviderConfig | None = None
    stt: ProviderConfig | None = None
    tools: list[Tool] = Field(default_factory=list, max_length=50)
    max_duration_seconds: MaxDuration = 600
    end_call_phrases: list[Phrase] = Field(default_factory=list, max_length=50)
    analysis_schema: dict[str, Any] | None = None


class AssistantCreate(AssistantFields):
    name: Name
    assistant_type: AssistantType


class AssistantUpdate(RequestModel):
    name: Name | None = None
    role: Label | None = None
    assistant_type: AssistantType | None = None
    is_active: bool | None = None
    voice_id: str | None = Field(default=None, max_length=200)
    first_message: LongText | None = None
    first_message_mode: FirstMessageMode | None = None
    personality: LongText | None = None
    system_prompt: LongText | None = None
    template_id: Label | None = None
    phone_number_id: str | None = Field(default=None, max_length=64)
    language: str | None = Field(default=None, max_length=16)
    llm: ProviderConfig | None = None
    stt: ProviderConfig | None = None
    tools: list[Tool] | None = Field(default=None, max_length=50)
    max_duration_seconds: MaxDuration | None = None
    end_call_phrases: list[Phrase] | None = Field(default=None, max_length=50)
    analysis_schema: dict[str, Any] | None = None


class AssistantSummary(ResponseModel):
    id: str
    name: str
    role: str | None
    assistant_type: str
    is_active: bool
    voice_id: str
    first_message: str | None
    phone_number_id: str | None
    created_at: Timestamp
    updated_at: Timestamp


class AssistantRead(AssistantSummary):
    first_message_mode: str
    personality: str | None
    system_prompt: str | None
    template_id: str | None
    # Kept for compatibility with clients of the hosted product; always null here.
    vapi_assistant_id: str | None = None
    language: str
    llm: ProviderConfigRead
    stt: ProviderConfigRead
    tools: list[dict[str, Any]]
    max_duration_seconds: int
    end_call_phrases: list[str]
    analysis_schema: dict[str, Any] | None
