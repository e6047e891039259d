"""Proofs that the suite judges the reference LMS right: every fault of the catalogue is caught by the
requirement it breaks, every faithful variant is conformant, and every run is well formed, redacted,
repeatable, bounded by its request budget and leaves the target's data as it found it.

Each run starts a fresh embedded reference LMS (~2-5 s); runs are cached per module so that the
several properties of one run are separate tests without running the suite again.
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

import pytest

from conformance.contract import load_contract
from conformance.embedded import EmbeddedOptions, embedded_target
from conformance.reference import FAULTS
from conformance.results import Outcome, RunResults, Verdict
from conformance.suite.runner import run_suite
from conformance.target import Limits
from tests.suite.support import GRADE_CATEGORY, GRADE_OBJECT, read_fixtures

pytestmark = pytest.mark.slow

RUN_SEED = 20261203
CONTRACT = load_contract()

#: Small enough that a full run (~530 requests at 10 credits each) is throttled a few times.
THROTTLING = EmbeddedOptions(rate_limit_credits=1500, rate_limit_window_seconds=1.0)
#: Faults that only show under particular conditions, and the options that create them.
OPTIONS_FOR_FAULT: dict[str, EmbeddedOptions] = {"throttle-without-retry-after": THROTTLING}

FAITHFUL_VARIANTS: dict[str, EmbeddedOptions] = {
    "default": EmbeddedOptions(),
    "require-category-scopes": EmbeddedOptions(require_category_scopes=True),
    "extra-response-field": EmbeddedOptions(extra_response_field=True),
    "throttled": THROTTLING,
}

#: The fixtures as the reference LMS seeds them, read at the latest version.
SEEDED_FIXTURES: dict[str, Any] = {
    GRADE_OBJECT: {"AcademicSessionOrgUnitId": 6000, "EndOfCourse": True, "PowerSchoolGradeType": 1,
                   "SectionOrgUnitId": 6610},
    GRADE_CATEGORY: {"ExportToSIS": True, "AcademicSessionOrgUnitId": 6000},
}  # fmt: skip

#: A FAIL without evidence must at least name what it saw: a request line or a version.
NAMES_WHAT_IT_SAW = re.compile(r"\b(?:GET|PUT|POST) /\S+|\b\d+\.\d+\b")
#: A signed URL's signature must show only a redaction marker: "[REDACTED]" or its URL-safe form "REDACTED".
SIGNATURE_MARKERS = ("[REDACTED]", "REDACTED")
SIGNATURE_VALUE = re.compile(r"X-Amz-Signature=([^&\s\"'\\]*)", re.IGNORECASE)


def unredacted_signatures(dumped: str) -> list[str]:
    """Signature values in JSON text that are not a redaction marker. A value that ends its JSON string (an
    excerpt cut there) may be a marker's beginning, or nothing."""
    found = []
    for match in SIGNATURE_VALUE.finditer(dumped):
        value = match.group(1)
        cut_at_excerpt_end = dumped[match.end(1) : match.end(1) + 1] == '"'
        if value in SIGNATURE_MARKERS or (cut_at_excerpt_end and any(m.startswith(value) for m in SIGNATURE_MARKERS)):
            continue
        found.append(dumped[match.start() : match.end(1) + 10])
    return found


# --- running ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """One suite run on a fresh embedded LMS, with what the test needs of the target after it stopped."""

    results: RunResults
    secrets: dict[str, str]  # token label -> value
    fixtures_before: dict[str, Any]
    fixtures_after: dict[str, Any]


def run_on_embedded(options: EmbeddedOptions, limits: Limits | None = None) -> Run:
    with embedded_target(options, limits) as target:
        before = read_fixtures(target)
        results = run_suite(target, seed=RUN_SEED, kind="embedded", faults=tuple(sorted(options.faults)))
        after = read_fixtures(target)
        return Run(results, {token.label: token.secret for token in target.tokens}, before, after)


def options_for(fault: str) -> EmbeddedOptions:
    return dataclasses.replace(OPTIONS_FOR_FAULT.get(fault, EmbeddedOptions()), faults=frozenset({fault}))


@cache
def fault_run(fault: str) -> Run:
    return run_on_embedded(options_for(fault))


@cache
def faithful_run(variant: str) -> Run:
    return run_on_embedded(FAITHFUL_VARIANTS[variant])


def run_named(run_id: str) -> Run:
    """``faithful-<variant>`` or a fault name."""
    if run_id.startswith("faithful-"):
        return faithful_run(run_id.removeprefix("faithful-"))
    return fault_run(run_id)


def describe(results: RunResults, limit: int = 25) -> str:
    """The verdict and the failed requirements, for assertion messages."""
    failures = results.failures()
    lines = [
        f"verdict: {results.verdict.value}"
        + (f" ({results.inconclusive_reason})" if results.inconclusive_reason else ""),
        f"failed requirements: {sorted({f'{r.requirement} ({r.level})' for r in failures}) or 'none'}",
    ]
    lines += [f"  FAIL {r.level} {r.case_id}: {r.message[:160]}" for r in failures[:limit]]
    if len(failures) > limit:
        lines.append(f"  ... and {len(failures) - limit} more")
    return "\n".join(lines)


FAULT_NAMES = list(FAULTS)  # catalogue order: grouped by family
RUN_IDS = [f"faithful-{variant}" for variant in FAITHFUL_VARIANTS] + FAULT_NAMES


# --- every fault is caught ----------------------------------------------------------------------------


@pytest.mark.parametrize("fault", FAULT_NAMES)
def test_fault_fails_the_requirement_it_breaks(fault: str) -> None:
    results = fault_run(fault).results
    breaks = FAULTS[fault].breaks
    level = CONTRACT.requirement(breaks).level.value
    caught = [r for r in results.failures() if r.requirement == breaks]
    assert caught, f"fault {fault} breaks {breaks} ({level}), but no result of {breaks} failed\n{describe(results)}"
    reported = {r.level for r in caught}
    assert reported == {level}, f"{breaks} is {level} in the spec but reported at {sorted(reported)}"
    if level == "MUST":
        assert results.verdict is Verdict.NON_CONFORMANT, (
            f"fault {fault} fails a MUST ({breaks}): expected non-conformant\n{describe(results)}"
        )
    else:
        assert results.verdict is Verdict.CONFORMANT, (
            f"fault {fault} fails only a {level} ({breaks}): expected conformant\n{describe(results)}"
        )
        assert results.failures("SHOULD"), f"fault {fault}: expected a SHOULD failure\n{describe(results)}"


def test_throttle_fault_run_is_throttled() -> None:
    """OPTIONS_FOR_FAULT must create the condition the fault needs, or the proof above proves nothing."""
    assert fault_run("throttle-without-retry-after").results.throttled_count > 0


# --- every faithful variant is conformant -------------------------------------------------------------


@pytest.mark.parametrize("variant", list(FAITHFUL_VARIANTS))
def test_faithful_variant_is_conformant(variant: str) -> None:
    results = faithful_run(variant).results
    assert not results.failures("MUST"), f"MUST failures against the faithful LMS ({variant})\n{describe(results)}"
    assert not results.failures("SHOULD"), f"SHOULD failures against the faithful LMS ({variant})\n{describe(results)}"
    assert results.verdict is Verdict.CONFORMANT, describe(results)


def test_throttled_faithful_run_waits_and_passes() -> None:
    results = faithful_run("throttled").results
    assert results.throttled_count > 0, "the run was never throttled: lower the rate limit of THROTTLING"
    assert not results.failures(), describe(results)
    retry_after = [r for r in results.results if r.requirement == "rate.retry-after"]
    assert retry_after, "no rate.retry-after result"
    assert [r.outcome for r in retry_after] == [Outcome.PASS] * len(retry_after), [
        (r.outcome.value, r.message) for r in retry_after
    ]


# --- every run is well formed and redacted ------------------------------------------------------------


@pytest.mark.parametrize("run_id", RUN_IDS)
def test_every_result_is_complete(run_id: str) -> None:
    results = run_named(run_id).results
    assert results.results, "the run has no result"
    incomplete: list[str] = []
    for r in results.results:
        problems = []
        if not r.requirement or not r.case_id or not isinstance(r.outcome, Outcome):
            problems.append("requirement, case_id or outcome missing")
        elif r.level != CONTRACT.requirement(r.requirement).level.value:
            problems.append(f"level {r.level!r}, the spec says {CONTRACT.requirement(r.requirement).level.value}")
        if not r.cites or not all(isinstance(c, dict) and c.get("source") and c.get("quote") for c in r.cites):
            problems.append(f"cites {r.cites!r}")
        if r.outcome is Outcome.FAIL:
            if not r.message:
                problems.append("a FAIL without message")
            elif not r.evidence and not NAMES_WHAT_IT_SAW.search(r.message):
                problems.append(f"a FAIL with neither evidence nor what it saw: {r.message!r}")
        if problems:
            incomplete.append(f"{r.case_id or '?'}: {'; '.join(problems)}")
    assert not incomplete, "\n".join(incomplete[:20])


@pytest.mark.parametrize("run_id", RUN_IDS)
def test_results_leak_no_secret(run_id: str) -> None:
    run = run_named(run_id)
    dumped = json.dumps(run.results.to_json())
    assert run.secrets, "the target has no token"
    leaked = [label for label, secret in run.secrets.items() if secret in dumped]
    assert not leaked, f"the secrets of tokens {leaked} appear in the results"
    signatures = unredacted_signatures(dumped)
    assert not signatures, f"unredacted S3 signatures in the results: {signatures[:3]}"


def test_signed_url_in_evidence_is_redacted() -> None:
    """The fault where a signature reaches the evidence (a short relative URL) shows it redacted, so the
    check above is not vacuous."""
    dumped = json.dumps(fault_run("relative-signed-url").results.to_json())
    values = [match.group(1) for match in SIGNATURE_VALUE.finditer(dumped)]
    assert any(value in SIGNATURE_MARKERS for value in values), f"no whole redacted signature; values: {values[:5]}"


# --- every run leaves the data as it found it ---------------------------------------------------------


@pytest.mark.parametrize("run_id", RUN_IDS)
def test_run_leaves_fixtures_as_found(run_id: str) -> None:
    run = run_named(run_id)
    not_restored = [(item.resource, item.message) for item in run.results.restored if not item.restored]
    assert not not_restored, f"not restored: {not_restored}"
    assert run.fixtures_after == run.fixtures_before, (
        f"fixtures changed by the run:\n  before {run.fixtures_before}\n  after  {run.fixtures_after}"
    )


# --- determinism and budget ---------------------------------------------------------------------------


def test_same_seed_gives_same_run() -> None:
    first = faithful_run("default").results
    second = run_on_embedded(EmbeddedOptions()).results
    first_cases = [(r.case_id, r.outcome.value) for r in first.results]
    second_cases = [(r.case_id, r.outcome.value) for r in second.results]
    differ = next((i for i, (a, b) in enumerate(zip(first_cases, second_cases, strict=False)) if a != b), None)
    assert first_cases == second_cases, (
        f"{len(first_cases)} vs {len(second_cases)} results; first difference at #{differ}: "
        + (f"{first_cases[differ]} vs {second_cases[differ]}" if differ is not None else "one list is longer")
    )
    assert first.request_count == second.request_count


def test_request_budget_leaves_the_rest_not_tested() -> None:
    run = run_on_embedded(EmbeddedOptions(), Limits(max_requests=50))
    results = run.results
    assert results.verdict is Verdict.INCONCLUSIVE, describe(results)
    assert "budget" in results.inconclusive_reason
    assert not results.failures(), describe(results)
    assert results.request_count == 50
    budget_cut = [r for r in results.results if r.outcome is Outcome.NOT_TESTED and "budget" in r.message]
    assert len(budget_cut) > len(results.results) / 2, (
        f"only {len(budget_cut)} of {len(results.results)} results are not tested for the budget"
    )
    assert all(item.restored is True for item in results.restored), results.restored
    assert run.fixtures_after == SEEDED_FIXTURES


def test_budget_cut_after_changes_still_restores() -> None:
    """With a budget that runs out after the first PUTs, restoring (exempt from the budget) still runs."""
    budget = 250
    run = run_on_embedded(EmbeddedOptions(), Limits(max_requests=budget))
    results = run.results
    assert results.verdict is Verdict.INCONCLUSIVE, describe(results)
    assert "budget" in results.inconclusive_reason
    assert {item.resource for item in results.restored} == {GRADE_OBJECT, GRADE_CATEGORY}
    assert all(item.restored is True for item in results.restored), results.restored
    assert budget <= results.request_count <= budget + 3 * len(results.restored)  # GET, PUT, GET per item
    assert run.fixtures_after == SEEDED_FIXTURES
