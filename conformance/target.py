"""What the suite runs against: a target's base URL, fixture ids and tokens, read from ``target.toml``.

Every mistake in the file is a :class:`ConfigError` naming the key and what is expected; the CLI
turns it into exit code 2. Token secrets are read here and kept only in :class:`TokenSpec.secret`,
which no repr, log or report shows.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from conformance.files import read_toml
from conformance.scopes import parse_scope_list
from conformance.versions import ApiVersion

__all__ = [
    "ConfigError",
    "FixtureIds",
    "Limits",
    "TargetConfig",
    "TokenSpec",
    "load_target_config",
    "read_ids",
    "read_limits",
]


class ConfigError(ValueError):
    """A target config that cannot be used; the message names the key and what is expected."""


@dataclass(frozen=True)
class TokenSpec:
    label: str
    scopes: str
    secret: str = field(repr=False)

    def describe(self) -> str:
        """How reports name this token: by label and scopes, never by value."""
        return f"{self.label} ({self.scopes})" if self.scopes else f"{self.label} (no scopes)"


@dataclass(frozen=True)
class FixtureIds:
    org_unit: int
    grade_category: int
    grade_object: int
    source_system: int
    #: An org unit that exists but owns neither fixture; optional (the foreign-org-unit check needs it).
    foreign_org_unit: int | None = None


@dataclass(frozen=True)
class Limits:
    request_timeout: float = 30.0
    #: Stop sending after this many requests; what is left is "not tested". D2L's bucket is ~5,000/min
    #: per app, shared with production use.
    max_requests: int = 2000
    max_retries_on_429: int = 5
    max_retry_wait: float = 120.0  # seconds; a longer Retry-After is capped, then retried
    examples_per_property: int = 8


@dataclass(frozen=True)
class TargetConfig:
    base_url: str
    ids: FixtureIds
    tokens: tuple[TokenSpec, ...]
    le_versions: tuple[ApiVersion, ...] | None = None
    limits: Limits = Limits()
    families: tuple[str, ...] | None = None  # None: every family
    source: str = "<embedded>"


FAMILIES = ("nullability", "versions", "scopes", "schema", "state", "signed-url", "rate-limit")

_TOP_KEYS = {"base_url", "le_versions", "ids", "tokens", "limits", "families"}
_ID_KEYS = {"org_unit", "grade_category", "grade_object", "source_system", "foreign_org_unit"}
_REQUIRED_IDS = ("org_unit", "grade_category", "grade_object", "source_system")


def _where(path: Path, key: str) -> str:
    return f"{path}: {key}"


def _positive_int(path: Path, key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{_where(path, key)} must be a positive integer, got {value!r}")
    return value


_BASE_URL_EXAMPLE = '"https://lms.example.edu"'


def _base_url(path: Path, value: Any) -> str:
    where = _where(path, "base_url")
    if not isinstance(value, str):
        raise ConfigError(f"{where} must be a string like {_BASE_URL_EXAMPLE}, got {value!r}")
    if any(char.isspace() or not char.isprintable() for char in value):
        raise ConfigError(f"{where} must not contain spaces or control characters, got {value!r}")
    try:
        parts = urlsplit(value)
    except ValueError as error:
        raise ConfigError(
            f"{where} cannot be parsed as a URL ({error}), got {value!r}; expected an http(s) URL like "
            f"{_BASE_URL_EXAMPLE}"
        ) from None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"{where} must be an http(s) URL like {_BASE_URL_EXAMPLE}, got {value!r}")
    if not parts.hostname:
        raise ConfigError(f"{where} has no host name, got {value!r}; expected an http(s) URL like {_BASE_URL_EXAMPLE}")
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port is not None and not 1 <= port <= 65535:
        raise ConfigError(f"{where} port must be a number from 1 to 65535, got {value!r}")
    if parts.query or parts.fragment or "?" in value or "#" in value:
        raise ConfigError(f"{where} must not carry a query or fragment, got {value!r}")
    if "d2l" in parts.path.lower().split("/"):
        raise ConfigError(
            f"{where} must be the LMS root (like {_BASE_URL_EXAMPLE}), not a D2L API path: the suite adds "
            f"/d2l/api/... itself; got {value!r}"
        )
    return value.rstrip("/")


def read_ids(path: Path, value: Any) -> FixtureIds:
    """The ``[ids]`` table of ``path`` (a target.toml or a cassette manifest), checked."""
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: [ids] must be a table with {', '.join(_REQUIRED_IDS)}")
    unknown = sorted(value.keys() - _ID_KEYS)
    if unknown:
        raise ConfigError(f"{path}: [ids] unknown key {', '.join(unknown)}; allowed: {', '.join(sorted(_ID_KEYS))}")
    missing = [key for key in _REQUIRED_IDS if key not in value]
    if missing:
        raise ConfigError(f"{path}: [ids] missing {', '.join(missing)} (ids of fixtures that exist on the target)")
    ids = {key: _positive_int(path, f"[ids] {key}", value[key]) for key in value}
    return FixtureIds(**ids)


def _token(path: Path, index: int, entry: Any, environ: Mapping[str, str]) -> TokenSpec:
    where = f"{path}: [[tokens]] #{index}"
    if not isinstance(entry, dict):
        raise ConfigError(f"{where} must be a table")
    unknown = sorted(entry.keys() - {"scopes", "env", "value", "label"})
    if unknown:
        raise ConfigError(f"{where}: unknown key {', '.join(unknown)}; allowed: scopes, env, value, label")
    scopes = entry.get("scopes")
    if not isinstance(scopes, str):
        raise ConfigError(
            f"{where}: scopes must be the space-separated scopes the token was issued with, got {scopes!r}"
        )
    if scopes.strip() and not parse_scope_list(scopes):
        raise ConfigError(f"{where}: scopes {scopes!r} holds no group:resource:permission scope")
    if ("env" in entry) == ("value" in entry):
        raise ConfigError(f'{where}: give exactly one of env = "VARIABLE" (recommended) or value = "..."')
    if "env" in entry:
        variable = entry["env"]
        if not isinstance(variable, str) or not variable:
            raise ConfigError(f"{where}: env must name an environment variable, got {variable!r}")
        secret = environ.get(variable, "")
        if not secret.strip():
            raise ConfigError(
                f"{where}: environment variable {variable} is not set (or empty); export it with the token"
            )
    else:
        secret = entry["value"]
        if not isinstance(secret, str) or not secret.strip():
            raise ConfigError(f"{where}: value must be a non-empty string")
    label = entry.get("label", f"token-{index}")
    if not isinstance(label, str) or not label:
        raise ConfigError(f"{where}: label must be a non-empty string")
    return TokenSpec(label, scopes.strip(), secret.strip())


#: The longest a float-valued limit (a timeout, a Retry-After wait) may be: past it a run just hangs.
MAX_WAIT_SECONDS = 3600


def read_limits(path: Path, value: Any) -> Limits:
    """The ``[limits]`` table of ``path`` (a target.toml or a cassette manifest), checked."""
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: [limits] must be a table")
    defaults = Limits()
    allowed = set(Limits.__dataclass_fields__)
    unknown = sorted(value.keys() - allowed)
    if unknown:
        raise ConfigError(f"{path}: [limits] unknown key {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}")
    parsed: dict[str, Any] = {}
    for key, item in value.items():
        default = getattr(defaults, key)
        expected = type(default)
        if isinstance(item, float) and not math.isfinite(item) and expected is float:
            raise ConfigError(
                f"{_where(path, f'[limits] {key}')} must be a finite number, got {item!r}; "
                f"give a positive number like {default!r}"
            )
        ok = isinstance(item, int | float) and not isinstance(item, bool) and item > 0
        if not ok or (expected is int and not isinstance(item, int)):
            kind = "a positive integer" if expected is int else "a positive number"
            raise ConfigError(f"{_where(path, f'[limits] {key}')} must be {kind}, got {item!r}")
        if expected is float and item > MAX_WAIT_SECONDS:
            raise ConfigError(
                f"{_where(path, f'[limits] {key}')} is {item!r} seconds; at most {MAX_WAIT_SECONDS} (an hour) "
                "is allowed"
            )
        parsed[key] = expected(item)
    return Limits(**parsed)


def load_target_config(path: Path, environ: Mapping[str, str] | None = None) -> TargetConfig:
    """Read and check a ``target.toml``; every problem is a :class:`ConfigError`."""
    environ = os.environ if environ is None else environ
    data = read_toml(path, ConfigError, "see conformance.example.toml")
    unknown = sorted(data.keys() - _TOP_KEYS)
    if unknown:
        raise ConfigError(f"{path}: unknown key {', '.join(unknown)}; allowed: {', '.join(sorted(_TOP_KEYS))}")
    for required in ("base_url", "ids", "tokens"):
        if required not in data:
            raise ConfigError(f"{path}: missing required key {required} (see conformance.example.toml)")
    tokens_data = data["tokens"]
    if not isinstance(tokens_data, list) or not tokens_data:
        raise ConfigError(f"{path}: tokens must be one or more [[tokens]] tables")
    tokens = tuple(_token(path, i, entry, environ) for i, entry in enumerate(tokens_data, start=1))
    labels = [t.label for t in tokens]
    if len(set(labels)) != len(labels):
        raise ConfigError(f"{path}: [[tokens]] labels must be unique, got {labels}")
    first_with_value: dict[str, str] = {}
    for token in tokens:
        if token.secret in first_with_value:
            # One value declared with two scope sets cannot be judged (which scopes does it carry?).
            raise ConfigError(
                f"{path}: [[tokens]] {first_with_value[token.secret]!r} and {token.label!r} have the same value; "
                "give each token of a different scope set its own value"
            )
        first_with_value[token.secret] = token.label
    le_versions = None
    if "le_versions" in data:
        raw_versions = data["le_versions"]
        if not isinstance(raw_versions, list) or not raw_versions or not all(isinstance(v, str) for v in raw_versions):
            raise ConfigError(f'{_where(path, "le_versions")} must be a list of versions like ["1.61", "1.70"]')
        try:
            le_versions = tuple(sorted({ApiVersion.parse(v) for v in raw_versions}))
        except ValueError as error:
            raise ConfigError(f"{_where(path, 'le_versions')}: {error}") from None
    families = None
    if "families" in data:
        chosen = data["families"]
        if not isinstance(chosen, list) or not chosen or not all(f in FAMILIES for f in chosen):
            raise ConfigError(
                f"{_where(path, 'families')} must be a list drawn from {', '.join(FAMILIES)}, got {chosen!r}"
            )
        families = tuple(chosen)
    return TargetConfig(
        base_url=_base_url(path, data["base_url"]),
        ids=read_ids(path, data["ids"]),
        tokens=tokens,
        le_versions=le_versions,
        limits=read_limits(path, data.get("limits", {})),
        families=families,
        source=str(path),
    )
