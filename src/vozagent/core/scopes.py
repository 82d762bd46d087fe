"""The scope catalogue: ``<resource>:<read|write>``; a key without explicit scopes has all."""

from __future__ import annotations

RESOURCES = (
    "contacts",
    "calls",
    "assistants",
    "phone_numbers",
    "webhooks",
    # Extensions: the do-not-call list, carrier credentials, the organization's call settings.
    "dnc",
    "telephony",
    "settings",
)
ALL_SCOPES: tuple[str, ...] = tuple(f"{r}:{a}" for r in RESOURCES for a in ("read", "write"))


def parse_scopes(raw: str | None) -> list[str]:
    """Parse a comma-separated scope list; empty or ``None`` means every scope."""
    if not raw:
        return list(ALL_SCOPES)
    scopes = [s.strip() for s in raw.split(",") if s.strip()]
    unknown = sorted(set(scopes) - set(ALL_SCOPES))
    if unknown:
        raise ValueError(f"unknown scopes {unknown}; valid: {list(ALL_SCOPES)}")
    return sorted(set(scopes), key=ALL_SCOPES.index)
