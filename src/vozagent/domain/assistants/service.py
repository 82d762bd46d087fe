from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from vozagent.core.errors import InvalidRequest
from vozagent.core.ids import new_id
from vozagent.core.pagination import Page
from vozagent.domain.assistants import catalog
from vozagent.domain.assistants.errors import AssistantNotFound, UnknownChoice
from vozagent.domain.assistants.schemas import AssistantCreate, AssistantUpdate, ProviderConfig
from vozagent.domain.phone_numbers.service import PhoneNumberService
from vozagent.storage.models import Assistant, PhoneNumber
from vozagent.storage.repositories.assistants import AssistantRepository

BUILTIN_TOOLS = (
    "save_contact",
    "end_call",
    "transfer_call",
    "check_availability",
    "book_appointment",
)


class AssistantService:
    def __init__(self, session: AsyncSession, org_id: str, *, numbers: PhoneNumberService) -> None:
        self.repository = AssistantRepository(session, org_id)
        self.org_id = org_id
        self.numbers = numbers

    async def list(
        self, page: Page, *, is_active: bool | None = None, assistant_type: str | None = None
    ) -> Sequence[Assistant]:
        return await self.repository.filter(
            page, is_active=is_active, assistant_type=assistant_type
        )

    async def get(self, assistant_id: str, *, field: str | None = None) -> Assistant:
        assistant = await self.repository.get(assistant_id)
        if assistant is None:
            raise AssistantNotFound(assistant_id, field=field)
        return assistant

    async def find_by_name(self, name: str) -> Sequence[Assistant]:
        return await self.repository.find_by_name(name)

    async def phone_number_ids(self, assistants: Sequence[Assistant]) -> dict[str, str | None]:
        """The number each assistant answers on (inbound/custom) or calls from (outbound)."""
        numbers = await self.numbers.linked_numbers([a.id for a in assistants])
        return {a.id: _number_for(a, numbers) for a in assistants}

    async def create(self, data: AssistantCreate) -> Assistant:
        fields = data.model_dump(exclude={"phone_number_id"})
        fields["llm"] = _provider(data.llm, catalog.DEFAULT_LLM, catalog.LLM_PROVIDERS, "llm")
        fields["stt"] = _provider(data.stt, catalog.DEFAULT_STT, catalog.STT_PROVIDERS, "stt")
        _validate(fields)
        assistant = await self.repository.add(
            Assistant(id=new_id("assistant"), org_id=self.org_id, **fields)
        )
        if data.phone_number_id:
            await self.numbers.assign(data.phone_number_id, assistant.id, _slot(assistant))
        return assistant

    async def update(self, assistant_id: str, data: AssistantUpdate) -> Assistant:
        assistant = await self.repository.get(assistant_id, for_update=True)
        if assistant is None:
            raise AssistantNotFound(assistant_id)
        changes = data.provided()
        link = changes.pop("phone_number_id", ...)
        for name in ("llm", "stt"):
            if name in changes:
                default = catalog.DEFAULT_LLM if name == "llm" else catalog.DEFAULT_STT
                allowed = catalog.LLM_PROVIDERS if name == "llm" else catalog.STT_PROVIDERS
                changes[name] = _provider(getattr(data, name), default, allowed, name)
        _drop_null_required(changes)
        _validate(changes)
        if changes:
            for name, value in changes.items():
                setattr(assistant, name, value)
            await self.repository.touch(assistant)
        if link is not ...:
            await self.numbers.release(assistant.id)
            if link:
                await self.numbers.assign(link, assistant.id, _slot(assistant))
        return assistant

    async def delete(self, assistant_id: str) -> Assistant:
        assistant = await self.get(assistant_id)
        await self.repository.delete(assistant_id)
        return assistant


def _slot(assistant: Assistant) -> str:
    return "outbound_assistant_id" if assistant.assistant_type == "outbound" else "assistant_id"


def _number_for(assistant: Assistant, numbers: Sequence[PhoneNumber]) -> str | None:
    preferred = _slot(assistant)
    for slot in (preferred, "assistant_id", "outbound_assistant_id"):
        for number in numbers:
            if getattr(number, slot) == assistant.id:
                return number.id
    return None


def _provider(
    config: ProviderConfig | None, default: dict[str, Any], allowed: tuple[str, ...], field: str
) -> dict[str, Any]:
    if config is None:
        return dict(default)
    if config.provider not in allowed:
        raise UnknownChoice(f"{field}.provider", config.provider, list(allowed))
    return {"provider": config.provider, "model": config.model}


_NOT_NULL = (
    "name",
    "assistant_type",
    "is_active",
    "voice_id",
    "first_message_mode",
    "language",
    "tools",
    "max_duration_seconds",
    "end_call_phrases",
)


def _drop_null_required(changes: dict[str, Any]) -> None:
    """``null`` on a field that cannot be empty is a 400, not a silent no-op."""
    nulls = [name for name in _NOT_NULL if name in changes and changes[name] is None]
    if nulls:
        raise InvalidRequest(
            f"These fields cannot be null: {', '.join(nulls)}", details={"invalid_fields": nulls}
        )


def _validate(fields: dict[str, Any]) -> None:
    voice = fields.get("voice_id")
    if voice is not None and not catalog.voice_is_known(voice):
        raise UnknownChoice("voice_id", voice, catalog.voice_choices())
    language = fields.get("language")
    if language is not None and language not in catalog.LANGUAGES:
        raise UnknownChoice("language", language, list(catalog.LANGUAGES))
    for tool in fields.get("tools") or []:
        if tool["name"] not in BUILTIN_TOOLS and not tool.get("url"):
            raise InvalidRequest(
                f"Custom tool '{tool['name']}' needs a 'url' to call; built-in tools are "
                f"{', '.join(BUILTIN_TOOLS)}",
                details={"invalid_fields": ["tools"], "valid_choices": list(BUILTIN_TOOLS)},
            )
