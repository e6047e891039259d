"""Last in every run: audits of every IPSIS answer the run received (no 5xx, documented statuses,
JSON on 200s) and of D2L's rate-limit headers.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

from conformance.http import Exchange
from conformance.suite.cases import Case, CheckFailed, CheckNotTested, Observed, planner
from conformance.suite.context import SuiteContext

DOCUMENTED_STATUSES = {200, 400, 401, 403, 404, 429}
STATUS_LIST_DOCUMENTED_ON = "getGradeCategoryIpsis"
IPSIS_PATH_PREFIX = "/d2l/api/le/"
RATE_HEADERS = ("x-rate-limit-remaining", "x-rate-limit-reset", "x-request-cost")


def _ipsis_exchanges(ctx: SuiteContext, operation_id: str) -> list[Exchange]:
    """Every answer the run got from one IPSIS route."""
    method = ctx.contract.operations[operation_id].method
    found = []
    for exchange in ctx.client.exchanges:
        if exchange.method != method or not exchange.path.startswith(IPSIS_PATH_PREFIX):
            continue
        is_category = "/grades/categories/" in exchange.path
        is_signed = exchange.path.endswith("/signedurl")
        kind = "postIpsisSignedUrl" if is_signed else ("GradeCategory" if is_category else "GradeObject")
        if kind == "postIpsisSignedUrl" and operation_id != kind:
            continue
        if kind != "postIpsisSignedUrl" and kind not in operation_id:
            continue
        found.append(exchange)
    return found


def _audit(ctx: SuiteContext, operation_id: str, what: str) -> Observed:
    seen = _ipsis_exchanges(ctx, operation_id)
    if not seen:
        raise CheckNotTested("no answer from this route was seen in this run")
    if what == "no-server-error":
        bad = [e for e in seen if e.status >= 500]
        expected = "no 5xx"
    elif what == "documented":
        bad = [e for e in seen if e.status not in DOCUMENTED_STATUSES and e.status < 500]
        expected = "one of " + ", ".join(map(str, sorted(DOCUMENTED_STATUSES)))
    else:
        bad = [e for e in seen if e.status == 200 and "json" not in e.content_type.lower()]
        expected = "application/json on every 200"
    if bad:
        listed = "; ".join(f"{e.method} {e.path} -> {e.status}" for e in bad[:10])
        raise CheckFailed(
            f"{len(bad)} of {len(seen)} answers break it ({expected}): {ctx.redact(listed)}",
            ctx.evidence(*bad[:3], note="the first answers that break it"),
        )
    return Observed(f"{len(seen)} answers: {expected}")


@planner("audit:statuses", order=90)
def plan_audit(ctx: SuiteContext) -> Iterator[Case]:
    for operation in ctx.contract.ipsis_operations:
        op = operation.operation_id
        yield Case("status.no-server-error", partial(_audit, operation_id=op, what="no-server-error"), route=op)
        # Only the grade-category GET's status list survived on the page; the others' is a reading.
        documented = "status.documented" if op == STATUS_LIST_DOCUMENTED_ON else "status.documented.same-set"
        yield Case(documented, partial(_audit, operation_id=op, what="documented"), route=op)
        yield Case("status.content-type-json", partial(_audit, operation_id=op, what="content-type"), route=op)


def _rate_headers(ctx: SuiteContext) -> Observed:
    answers = [e for e in ctx.client.exchanges if e.path.startswith(IPSIS_PATH_PREFIX)]
    if not answers:
        raise CheckNotTested("no IPSIS answer was seen in this run")
    missing = [e for e in answers if not all(h in e.headers for h in RATE_HEADERS)]
    if missing:
        first = missing[0]
        absent = [h for h in RATE_HEADERS if h not in first.headers]
        raise CheckFailed(
            f"{len(missing)} of {len(answers)} answers lack rate-limit headers (first: {first.method} {first.path} "
            f"without {', '.join(absent)})",
            ctx.evidence(first),
        )
    return Observed(f"{len(answers)} answers carry {', '.join(RATE_HEADERS)}")


def _retry_after(ctx: SuiteContext) -> Observed:
    events = ctx.client.throttle_events
    if not events:
        raise CheckNotTested("no request was throttled (429) in this run")
    without = [request for request, has_retry_after in events if not has_retry_after]
    if without:
        raise CheckFailed(f"{len(without)} of {len(events)} 429 answers lack Retry-After (first: {without[0]})")
    return Observed(f"{len(events)} 429 answers, each with Retry-After (waited and retried)")


@planner("audit:rate-limit", order=91)
def plan_rate(ctx: SuiteContext) -> Iterator[Case]:
    yield Case("rate.headers", _rate_headers)
    yield Case("rate.retry-after", _retry_after)
