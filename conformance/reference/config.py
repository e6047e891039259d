"""How a reference LMS is set up: versions, tokens, rate limit, faults."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from pathlib import Path

from conformance.files import read_toml
from conformance.scopes import parse_scope_list
from conformance.versions import ApiVersion

__all__ = [
    "DEFAULT_LATEST_LE_VERSION",
    "DEFAULT_TOKEN_PROFILES",
    "ReferenceConfig",
    "Token",
    "TokenFileError",
    "generate_tokens",
    "load_tokens",
]

#: The one place the default latest LE version is written (LE 1.9x in 2026, d2l-facts.md).
DEFAULT_LATEST_LE_VERSION = ApiVersion(1, 94)
DEFAULT_LATEST_LP_VERSION = ApiVersion(1, 50)
FIRST_LISTED_LP_VERSION = ApiVersion(1, 40)


@dataclass(frozen=True)
class Token:
    """A bearer token the reference LMS accepts, with the scopes it was issued with."""

    label: str
    value: str = field(repr=False)  # never in a repr: reprs end up in logs and tracebacks
    scopes: str


#: The tokens a default start issues: one per scope case the suite needs.
DEFAULT_TOKEN_PROFILES: tuple[tuple[str, str], ...] = (
    ("full", "grades:gradeobjects:read grades:gradeobjects:write ipsis:batch:upload"),
    ("read", "grades:gradeobjects:read"),
    ("write", "grades:gradeobjects:write"),
    ("upload", "ipsis:batch:upload"),
    ("comma", "grades:gradeobjects:read,write"),
    ("wildcard-resource", "grades:*:*"),
    ("wildcard-all", "*:*:*"),
    ("upper-case", "GRADES:GRADEOBJECTS:READ"),
    ("categories", "grades:gradecategories:read grades:gradecategories:write"),
    ("unrelated", "users:profile:read"),
    # Looks like a prefix glob; D2L reads "grade*" as a literal group, so it grants nothing here.
    ("prefix-pattern", "grade*:gradeobjects:read"),
)


def generate_tokens(profiles: tuple[tuple[str, str], ...] = DEFAULT_TOKEN_PROFILES) -> tuple[Token, ...]:
    """Fresh random token values for each profile; they live as long as the server."""
    return tuple(Token(label, f"ref-{secrets.token_urlsafe(24)}", scopes) for label, scopes in profiles)


class TokenFileError(ValueError):
    pass


def load_tokens(path: Path) -> tuple[Token, ...]:
    """Read a tokens file::

    [[tokens]]
    value = "secret"
    scopes = "grades:gradeobjects:read"
    label = "read"      # optional
    """
    data = read_toml(path, TokenFileError)
    unknown = sorted(data.keys() - {"tokens"})
    if unknown:
        raise TokenFileError(f"{path}: unknown key {', '.join(unknown)}; the file holds only [[tokens]] tables")
    entries = data.get("tokens")
    if not isinstance(entries, list) or not entries:
        raise TokenFileError(f'{path}: expected at least one [[tokens]] table with value = "..." and scopes = "..."')
    tokens = []
    for index, entry in enumerate(entries, start=1):
        where = f"{path}: [[tokens]] #{index}"
        extra = sorted(entry.keys() - {"value", "scopes", "label"})
        if extra:
            raise TokenFileError(f"{where}: unknown key {', '.join(extra)}; allowed: value, scopes, label")
        value, scopes = entry.get("value"), entry.get("scopes")
        if not isinstance(value, str) or not value.strip() or any(c.isspace() for c in value):
            raise TokenFileError(f"{where}: value must be a non-empty string without spaces")
        if not isinstance(scopes, str):
            raise TokenFileError(f'{where}: scopes must be a space-separated string, e.g. "grades:gradeobjects:read"')
        if scopes.strip() and not parse_scope_list(scopes):
            raise TokenFileError(f"{where}: scopes {scopes!r} holds no group:resource:permission scope")
        label = entry.get("label", f"token-{index}")
        if not isinstance(label, str):
            raise TokenFileError(f"{where}: label must be a string")
        tokens.append(Token(label, value, scopes))
    values = [t.value for t in tokens]
    if len(set(values)) != len(values):
        raise TokenFileError(f"{path}: two [[tokens]] share one value; each token value must be unique")
    return tuple(tokens)


@dataclass(frozen=True)
class ReferenceConfig:
    """Everything a reference LMS is started with. Data is seeded anew from it at each start."""

    latest_le_version: ApiVersion = DEFAULT_LATEST_LE_VERSION
    latest_lp_version: ApiVersion = DEFAULT_LATEST_LP_VERSION
    tokens: tuple[Token, ...] = field(default_factory=generate_tokens)
    faults: frozenset[str] = frozenset()
    #: The category routes' scope is undocumented: by default any valid token is accepted.
    require_category_scopes: bool = False
    #: Add an undocumented field to every 200 block (clients must tolerate it, d2l-facts.md).
    extra_response_field: bool = False
    rate_limit_credits: int = 50_000  # per window, per app (KB 1195, 2019 figure)
    rate_limit_window_seconds: float = 60.0
    request_cost: int = 10

    def has(self, fault: str) -> bool:
        return fault in self.faults
