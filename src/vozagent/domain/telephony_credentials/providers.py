"""What each carrier's credentials hold, and which of those fields are secret.

Validated strictly (no coercion, no unknown keys) because the object is stored as a
whole: an unknown key would be a silently kept, never used, maybe secret value.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from vozagent.core.errors import InvalidRequest

CredentialProvider = Literal["twilio", "telnyx", "sip"]
PROVIDERS: tuple[str, ...] = ("twilio", "telnyx", "sip")

Identifier = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Secret = Annotated[str, StringConstraints(min_length=1, max_length=1000)]
Host = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=253, pattern=r"^[^\s/@]+$"),
]


class _ProviderCredentials(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class TwilioCredentials(_ProviderCredentials):
    account_sid: Identifier
    auth_token: Secret


class TelnyxCredentials(_ProviderCredentials):
    api_key: Secret
    connection_id: Identifier
    # Ed25519 key that verifies Telnyx's webhook signatures: public by design.
    public_key: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)
    ]


class SipCredentials(_ProviderCredentials):
    host: Host
    port: int = Field(default=5060, ge=1, le=65535)
    transport: Literal["udp", "tcp"] = "udp"
    username: Identifier | None = None
    password: Secret | None = None


MODELS: dict[str, type[_ProviderCredentials]] = {
    "twilio": TwilioCredentials,
    "telnyx": TelnyxCredentials,
    "sip": SipCredentials,
}
SECRET_FIELDS: dict[str, tuple[str, ...]] = {
    "twilio": ("auth_token",),
    "telnyx": ("api_key",),
    "sip": ("password",),
}


def validate_credentials(provider: str, raw: dict[str, Any]) -> dict[str, Any]:
    """The provider's credentials with defaults filled in, or a 400 naming the fields.

    Messages never echo the submitted values (they may be secrets)."""
    try:
        parsed = MODELS[provider].model_validate(raw)
    except ValidationError as exc:
        raise _invalid(exc) from None
    return parsed.model_dump(exclude_none=True)


def public_view(provider: str, credentials: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The non-secret fields, and the names of the secret fields that are set."""
    secret = SECRET_FIELDS.get(provider, ())
    shown = {k: v for k, v in credentials.items() if k not in secret}
    return shown, [name for name in secret if credentials.get(name) is not None]


def _invalid(exc: ValidationError) -> InvalidRequest:
    missing: list[str] = []
    invalid: list[str] = []
    problems: list[dict[str, str]] = []
    for error in exc.errors(include_input=False, include_url=False):
        name = ".".join(["credentials", *(str(p) for p in error["loc"])])
        if error["type"] == "missing":
            missing.append(name)
        else:
            invalid.append(name)
            problems.append({"field": name, "problem": error["msg"]})
    details: dict[str, Any] = {}
    if missing:
        details["missing_fields"] = sorted(set(missing))
    if invalid:
        details["invalid_fields"] = sorted(set(invalid))
        details["problems"] = problems[:20]
    return InvalidRequest("The credentials are incomplete or invalid", details=details)
