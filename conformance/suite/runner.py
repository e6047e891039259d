"""Running the suite without pytest (the engine behind the pytest plugin, and the proof tests)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from conformance.http import IpsisClient, Redactor
from conformance.results import RunResults
from conformance.suite.context import InconclusiveError, SuiteContext
from conformance.suite.determinism import seed_only_generation
from conformance.target import TargetConfig

__all__ = ["new_seed", "open_context", "run_suite"]


def new_seed() -> int:
    return random.SystemRandom().randrange(2**31)


@contextmanager
def open_context(
    target: TargetConfig,
    *,
    seed: int,
    report_dir: Path | None = None,
    kind: str = "live",
    faults: tuple[str, ...] = (),
    transport: httpx.BaseTransport | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[SuiteContext]:
    """A context with discovery done (or ``inconclusive_reason`` set); the client closes after."""
    redact = Redactor()
    redact.add(token.secret for token in target.tokens)
    client = IpsisClient(target.base_url, target.limits, redact, transport=transport, sleep=sleep)
    ctx = SuiteContext(target, client, redact, seed, report_dir=report_dir, kind=kind, faults=faults)
    try:
        try:
            ctx.discover()
        except InconclusiveError as error:
            ctx.inconclusive_reason = str(error)
        with seed_only_generation():
            yield ctx
    finally:
        client.close()


def run_suite(
    target: TargetConfig,
    *,
    seed: int = 0,
    report_dir: Path | None = None,
    kind: str = "live",
    faults: tuple[str, ...] = (),
    transport: httpx.BaseTransport | None = None,
) -> RunResults:
    """Plan and run every case; restore the target's data whatever happens; return the results."""
    with open_context(target, seed=seed, report_dir=report_dir, kind=kind, faults=faults, transport=transport) as ctx:
        if ctx.inconclusive_reason:
            return ctx.finish([])
        interrupted = False
        try:
            for case in ctx.plan():
                ctx.run_case(case)
        except KeyboardInterrupt:
            interrupted = True
            ctx.inconclusive_reason = "interrupted (Ctrl-C) before every case ran"
        finally:
            restored = ctx.restore()
        return ctx.finish(restored, interrupted)
