"""Scope enforcement from each token's declared scopes and D2L's grammar, at the latest version.

A case no given token can exercise is "not tested", never a pass. The category routes document no
scope: what each token got is recorded (INFO), with the narrowest scope that worked.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import Any

from conformance.http import UNKNOWN_TOKEN, Exchange
from conformance.scopes import grants, parse_scope_list
from conformance.suite.cases import Case, CheckFailed, CheckNotTested, Observed, planner
from conformance.suite.context import SuiteContext
from conformance.target import TokenSpec

SCOPE_REQUIREMENT = {
    "getGradeObjectIpsis": "scope.grade-object-read",
    "putGradeObjectIpsis": "scope.grade-object-write",
    "postIpsisSignedUrl": "scope.batch-upload",
}
PROBE_FILE_NAME = "D2LStdCSV-20240101000000.zip"
#: What D2L's 403 for a missing scope says (d2l-facts.md), lower-cased.
INSUFFICIENT_SCOPE = "insufficient scope"


def call(ctx: SuiteContext, operation_id: str, token: TokenSpec | None) -> Exchange:
    """One call of ``operation_id`` at the latest version whose success changes nothing on the target."""
    assert ctx.latest is not None
    path = ctx.path_of(operation_id, ctx.latest)
    if operation_id.startswith("get"):
        return ctx.client.request("GET", path, token)
    if operation_id.startswith("put"):
        return ctx.put(path, token, ctx.baseline_block(operation_id, ctx.latest))
    return ctx.client.request("POST", path, token, json_body={"FileName": PROBE_FILE_NAME})


def _usable(ctx: SuiteContext, token: TokenSpec) -> None:
    if not ctx.working_tokens.get(token.label):
        raise CheckNotTested(f"token {token.describe()} does not work (whoami refused it)")


def _granted(ctx: SuiteContext, operation_id: str, label: str) -> Observed:
    token = ctx.token_named(label)
    _usable(ctx, token)
    answer = ctx.once(("scope-call", operation_id, label), lambda: call(ctx, operation_id, token))
    if answer.status == 403 and INSUFFICIENT_SCOPE not in answer.text.lower():
        # d2l-facts.md: a 403 is also "No permission to manage grades", a role permission of the token's user.
        raise CheckNotTested(
            f'403 without "Insufficient scope" for {token.describe()}: the token\'s user may lack a permission '
            "(not a scope matter); give a token of a user allowed to manage grades",
            ctx.evidence(answer),
        )
    if answer.status in (401, 403):
        scope = ctx.contract.operations[operation_id].scope
        raise CheckFailed(
            f"Received: {answer.status} / Documented: allowed ({token.scopes!r} grants {scope} under D2L's grammar)",
            ctx.evidence(answer),
        )
    return Observed(f"allowed ({answer.status})", ctx.evidence(answer))


def _refused(ctx: SuiteContext, operation_id: str, label: str, exact_403: bool) -> Observed:
    token = ctx.token_named(label)
    _usable(ctx, token)
    answer = ctx.once(("scope-call", operation_id, label), lambda: call(ctx, operation_id, token))
    scope = ctx.contract.operations[operation_id].scope
    evidence = ctx.evidence(answer)
    if exact_403:
        if 200 <= answer.status < 300:
            raise CheckNotTested(f"the route answered {answer.status}: see {SCOPE_REQUIREMENT[operation_id]}", evidence)
        if answer.status != 403:
            raise CheckFailed(f"Received: {answer.status} / Documented: 403 (a valid token lacking {scope})", evidence)
        return Observed("403", evidence)
    if answer.status not in (401, 403):
        raise CheckFailed(f"Received: {answer.status} / Documented: refused (the token lacks {scope})", evidence)
    return Observed(f"refused ({answer.status})", evidence)


def _no_suitable_token(reason: str, ctx: SuiteContext) -> Observed:
    raise CheckNotTested(reason)


def _anonymous(ctx: SuiteContext, operation_id: str, token: TokenSpec | None) -> Observed:
    answer = call(ctx, operation_id, token)
    if answer.status != 401:
        what = "no token" if token is None else "an unknown token"
        raise CheckFailed(f"Received: {answer.status} with {what} / Documented: 401", ctx.evidence(answer))
    return Observed("401", ctx.evidence(answer))


def _category_token(ctx: SuiteContext, operation_id: str, label: str) -> Observed:
    token = ctx.token_named(label)
    _usable(ctx, token)
    answer = ctx.once(("scope-call", operation_id, label), lambda: call(ctx, operation_id, token))
    return Observed(f"{token.describe()}: {answer.status}", ctx.evidence(answer))


def _breadth(scopes: str) -> tuple[int, int]:
    """Narrower first: fewer wildcard segments, then fewer scopes."""
    parsed = parse_scope_list(scopes)
    wildcards = sum(part == "*" for s in parsed for part in (s.group, s.resource, *s.permissions))
    return wildcards, len(parsed)


def _narrowest_category_scope(ctx: SuiteContext, operation_id: str) -> Observed:
    outcomes: dict[str, Any] = {}
    for token in ctx.target.tokens:
        key = ("scope-call", operation_id, token.label)
        if key in ctx.memo:
            outcomes[token.label] = ctx.memo[key].status
    if not outcomes:
        raise CheckNotTested("no token was tried on this route")
    worked = [t for t in ctx.target.tokens if 200 <= outcomes.get(t.label, 0) < 300]
    if not worked:
        raise CheckNotTested(f"no token was allowed: {outcomes}")
    narrowest = min(worked, key=lambda t: _breadth(t.scopes))
    return Observed(
        f"narrowest scope that worked: {narrowest.scopes or '(none)'}; per token: "
        + ", ".join(f"{label}={status}" for label, status in outcomes.items())
    )


@planner("scopes:enforcement", order=50)
def plan_scopes(ctx: SuiteContext) -> Iterator[Case]:
    assert ctx.latest is not None
    version = str(ctx.latest)
    for operation in ctx.contract.ipsis_operations:
        op = operation.operation_id
        yield Case("auth.no-token-401", partial(_anonymous, operation_id=op, token=None), version, route=op)
        yield Case("auth.unknown-token-401", partial(_anonymous, operation_id=op, token=UNKNOWN_TOKEN), version,
                   token="unknown", route=op)  # fmt: skip
        if operation.scope is None:
            for token in ctx.target.tokens:
                yield Case("scope.category-undocumented", partial(_category_token, operation_id=op, label=token.label),
                           version, token=token.label, route=op)  # fmt: skip
            yield Case("scope.category-undocumented", partial(_narrowest_category_scope, operation_id=op), version,
                       route=op, detail="narrowest")  # fmt: skip
            continue
        scope = operation.scope
        granted = [t for t in ctx.target.tokens if grants(t.scopes, scope)]
        refused = [t for t in ctx.target.tokens if not grants(t.scopes, scope)]
        for token in granted:
            yield Case("auth.granted-scope-accepted", partial(_granted, operation_id=op, label=token.label), version,
                       token=token.label, route=op)  # fmt: skip
        for token in refused:
            yield Case(SCOPE_REQUIREMENT[op], partial(_refused, operation_id=op, label=token.label, exact_403=False),
                       version, token=token.label, route=op)  # fmt: skip
            yield Case("auth.missing-scope-403", partial(_refused, operation_id=op, label=token.label, exact_403=True),
                       version, token=token.label, route=op)  # fmt: skip
        if not granted:
            reason = f"no token given whose scopes grant {scope}"
            yield Case("auth.granted-scope-accepted", partial(_no_suitable_token, reason), version, route=op)
        if not refused:
            reason = f'no token given that lacks {scope}: give one (e.g. scopes = "users:profile:read")'
            yield Case(SCOPE_REQUIREMENT[op], partial(_no_suitable_token, reason), version, route=op)
