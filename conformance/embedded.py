"""The embedded target: the reference LMS on loopback, with a token of each scope case."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from conformance.reference import SEED, ReferenceConfig, create_app, generate_tokens, serve_in_thread
from conformance.target import FixtureIds, Limits, TargetConfig, TokenSpec

__all__ = ["EmbeddedOptions", "embedded_target"]


@dataclass(frozen=True)
class EmbeddedOptions:
    faults: frozenset[str] = frozenset()
    require_category_scopes: bool = False
    extra_response_field: bool = False
    rate_limit_credits: int | None = None
    rate_limit_window_seconds: float | None = None


@contextmanager
def embedded_target(options: EmbeddedOptions | None = None, limits: Limits | None = None) -> Iterator[TargetConfig]:
    """Start a freshly seeded reference LMS on 127.0.0.1 (a free port) for the duration of the block."""
    options = options or EmbeddedOptions()
    tokens = generate_tokens()
    defaults = ReferenceConfig(tokens=())
    config = ReferenceConfig(
        tokens=tokens,
        faults=options.faults,
        require_category_scopes=options.require_category_scopes,
        extra_response_field=options.extra_response_field,
        rate_limit_credits=options.rate_limit_credits or defaults.rate_limit_credits,
        rate_limit_window_seconds=options.rate_limit_window_seconds or defaults.rate_limit_window_seconds,
    )
    with serve_in_thread(create_app(config)) as running:
        yield TargetConfig(
            base_url=running.base_url,
            ids=FixtureIds(
                org_unit=SEED.org_unit,
                grade_category=SEED.grade_category,
                grade_object=SEED.grade_object,
                source_system=SEED.source_system,
                foreign_org_unit=SEED.foreign_org_unit,
            ),
            tokens=tuple(TokenSpec(token.label, token.scopes, token.value) for token in tokens),
            limits=limits or Limits(),
            source="<embedded reference LMS>",
        )
