"""Shared fixtures: reference LMS clients with known token values."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from conformance.reference import DEFAULT_TOKEN_PROFILES, SEED, ReferenceConfig, Token, create_app

#: One token per default profile, with a predictable value: ``test-<label>``.
TOKENS: dict[str, Token] = {label: Token(label, f"test-{label}", scopes) for label, scopes in DEFAULT_TOKEN_PROFILES}

LATEST = "1.94"  # the default latest LE version of ReferenceConfig
CURRENT = "1.70"
DEPRECATED = "1.61"


def auth(label: str = "full") -> dict[str, str]:
    """Authorization header of the test token ``label`` (see TOKENS)."""
    return {"Authorization": f"Bearer {TOKENS[label].value}"}


def grade_object_url(version: str = CURRENT, org_unit: int = SEED.org_unit, item: int = SEED.grade_object) -> str:
    return f"/d2l/api/le/{version}/{org_unit}/grades/{item}/ipsis"


def category_url(version: str = CURRENT, org_unit: int = SEED.org_unit, item: int = SEED.grade_category) -> str:
    return f"/d2l/api/le/{version}/{org_unit}/grades/categories/{item}/ipsis"


def signed_url_url(version: str = CURRENT, source_system: int = SEED.source_system) -> str:
    return f"/d2l/api/le/{version}/ipsis/upload/{source_system}/signedurl"


def make_config(**overrides: Any) -> ReferenceConfig:
    """A ReferenceConfig with the test tokens; keyword arguments override its fields."""
    overrides.setdefault("tokens", tuple(TOKENS.values()))
    if "faults" in overrides:
        overrides["faults"] = frozenset(overrides["faults"])
    return ReferenceConfig(**overrides)


def make_client(**overrides: Any) -> TestClient:
    """A client of a freshly seeded reference LMS (ASGI, in process)."""
    return TestClient(create_app(make_config(**overrides)), raise_server_exceptions=True)


@pytest.fixture
def client() -> Iterator[TestClient]:
    """A client of a faithful, freshly seeded reference LMS."""
    with make_client() as test_client:
        yield test_client
