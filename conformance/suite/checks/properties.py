"""Property tests of PUT, with hypothesis strategies built from the contract:
any valid block PUT then GET round-trips; any invalid block is refused with 400 and changes nothing.

Generation is seeded (``--seed``), with no example database and no shrinking, so a run sends the
same requests every time and a failure is reported on the example that found it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from conformance.contract import Block, Field
from conformance.http import Exchange
from conformance.suite.cases import Case, CheckFailed, CheckNotTested, Observed, planner
from conformance.suite.checks.common import FirstFailure, changed_elsewhere
from conformance.suite.context import SuiteContext
from conformance.versions import ApiVersion

PUT_ROUTES = {"GradeObjectDetails": "putGradeObjectIpsis", "GradeCategoryInfo": "putGradeCategoryIpsis"}
#: Ids past 32 bits included on purpose: D2LIDs have no documented width.
D2LIDS = st.one_of(st.integers(1, 2**31 - 1), st.integers(2**31, 2**53 - 1))


def value_strategy(spec: Field, current: Any, free_ids: bool) -> st.SearchStrategy[Any]:
    """Valid values of a field. D2LIDs name real org units a live LMS may check, so unless
    ``free_ids`` (the reference LMS) they are drawn from the fixture's own value and null only."""
    if spec.enum is not None:
        return st.sampled_from([v for v in spec.enum if v is not None or spec.nullable])
    if "boolean" in spec.json_types:
        base: st.SearchStrategy[Any] = st.booleans()
    elif "integer" in spec.json_types:
        base = D2LIDS if free_ids else (st.just(current) if isinstance(current, int) else st.nothing())
    else:
        base = st.text(min_size=1, max_size=40)
    return st.one_of(st.none(), base) if spec.nullable else base


def valid_blocks(
    block: Block, version: ApiVersion, baseline: dict[str, Any], free_ids: bool
) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {spec.name: value_strategy(spec, baseline.get(spec.name), free_ids) for spec in block.fields_at(version)}
    )


@dataclass(frozen=True)
class Mutation:
    """One way to make a valid block invalid, and the requirement a server that accepts it breaks."""

    requirement: str
    description: str
    apply: Callable[[dict[str, Any]], dict[str, Any]]


def _set(name: str, value: Any) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda body: {**body, name: value}


def _drop(name: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda body: {k: v for k, v in body.items() if k != name}


def mutations(block: Block, version: ApiVersion) -> list[Mutation]:
    """Invalid under every reading: values no lenient JSON library would coerce ("maybe", [], 1.5)."""
    found: list[Mutation] = []
    for spec in block.fields_at(version):
        found.append(Mutation("put.incomplete-block-400", f"{spec.name} left out", _drop(spec.name)))
        if not spec.nullable:
            found.append(Mutation("put.invalid-block-400", f"{spec.name}: null", _set(spec.name, None)))
        bad: Any
        if "boolean" in spec.json_types:
            for bad in ("maybe", [], {"value": True}):
                found.append(Mutation("put.invalid-block-400", f"{spec.name}: {bad!r}", _set(spec.name, bad)))
        elif spec.enum is not None:
            for bad in (4, 17, -1):
                found.append(Mutation("put.unknown-enum-400", f"{spec.name}: {bad}", _set(spec.name, bad)))
            # A .NET JSON reader may take an enum's name for its value: refusing "Points" is a SHOULD.
            found.append(Mutation("put.unknown-enum-400", f"{spec.name}: 'Points'", _set(spec.name, "Points")))
        elif "integer" in spec.json_types:
            for bad in ("abc", [], 1.5):
                found.append(Mutation("put.invalid-block-400", f"{spec.name}: {bad!r}", _set(spec.name, bad)))
    return found


def _settings(ctx: SuiteContext) -> Callable[[Any], Any]:
    return settings(
        max_examples=ctx.target.limits.examples_per_property,
        database=None,
        derandomize=False,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: each request counts against the budget
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )


def _read(ctx: SuiteContext, route: str, version: ApiVersion) -> Exchange:
    get_route = route.replace("put", "get", 1)
    return ctx.client.request("GET", ctx.path_of(get_route, version), ctx.token_for(get_route))


def _round_trip(ctx: SuiteContext, block: Block, version: ApiVersion) -> Observed:
    route = PUT_ROUTES[block.name]
    ctx.require_served(version)
    path = ctx.path_of(route, version)
    token = ctx.token_for(route)
    baseline = ctx.baseline_block(route, version)  # also records the original before the first change
    tried: list[dict[str, Any]] = []
    first = FirstFailure()

    @seed(ctx.seed)
    @_settings(ctx)
    @given(valid_blocks(block, version, baseline, free_ids=ctx.kind == "embedded"))
    def prop(body: dict[str, Any]) -> None:
        if first.seen:
            return
        tried.append(body)
        answer = ctx.put(path, token, body)
        if answer.status != 200:
            first.record(CheckFailed(f"PUT of a valid block {body} received {answer.status}; documented: 200",
                                     ctx.evidence(answer)))  # fmt: skip
            return
        echoed = answer.json_or_none()
        echoed_fields = {k: v for k, v in echoed.items() if k in body} if isinstance(echoed, dict) else None
        if echoed_fields != body:
            first.record(CheckFailed(f"PUT answered {echoed_fields}, not the block sent {body}", ctx.evidence(answer)))
            return
        reread = _read(ctx, route, version)
        stored = reread.json_or_none()
        stored_fields = {k: v for k, v in stored.items() if k in body} if isinstance(stored, dict) else None
        if stored_fields != body:
            first.record(CheckFailed(f"after PUT {body}, GET returned {stored_fields}", ctx.evidence(answer, reread)))

    prop()
    first.raise_if_any()
    return Observed(f"{len(tried)} valid blocks stored and returned")


def _refused(ctx: SuiteContext, block: Block, version: ApiVersion, requirement: str, check_state: bool) -> Observed:
    route = PUT_ROUTES[block.name]
    ctx.require_served(version)
    path = ctx.path_of(route, version)
    token = ctx.token_for(route)
    baseline = ctx.baseline_block(route, version)
    candidates = [m for m in mutations(block, version) if m.requirement == requirement or check_state]
    if not candidates:
        raise CheckNotTested(f"no invalid {block.name} of this kind exists at {version}")
    seen: list[str] = []
    first = FirstFailure()

    @seed(ctx.seed)
    @_settings(ctx)
    @given(st.sampled_from(candidates))
    def prop(mutation: Mutation) -> None:
        if first.seen:
            return
        seen.append(mutation.description)
        if not check_state:
            answer = ctx.put(path, token, mutation.apply(baseline))
            if answer.status != 400:
                first.record(CheckFailed(f"PUT with {mutation.description} received {answer.status}; documented: 400",
                                         ctx.evidence(answer)))  # fmt: skip
            return
        before = _read(ctx, route, version)
        current = before.json_or_none() if isinstance(before.json_or_none(), dict) else baseline
        skip = mutation.description.split(" ", 1)[0].rstrip(":")
        answer = ctx.put(path, token, mutation.apply(changed_elsewhere(block, version, current, baseline, skip)))
        if answer.status != 400:
            return  # accepted: judged by the requirement that names this kind of value, not here
        after = _read(ctx, route, version)
        if after.json_or_none() != before.json_or_none():
            first.record(CheckFailed(
                f"a refused PUT ({mutation.description}) changed the block: {before.text[:200]} -> {after.text[:200]}",
                ctx.evidence(answer, after),
            ))  # fmt: skip

    prop()
    first.raise_if_any()
    return Observed(f"{len(seen)} invalid blocks refused: {', '.join(sorted(set(seen)))[:300]}")


@planner("state:properties", order=70)
def plan_properties(ctx: SuiteContext) -> Iterator[Case]:
    for version in ctx.property_versions:
        for block_name, route in PUT_ROUTES.items():
            block = ctx.contract.blocks[block_name]
            v = str(version)
            yield Case("put.valid-block-stored", partial(_round_trip, block=block, version=version), v, route=route)
            for requirement in ("put.invalid-block-400", "put.incomplete-block-400", "put.unknown-enum-400"):
                if any(m.requirement == requirement for m in mutations(block, version)):
                    yield Case(requirement, partial(_refused, block=block, version=version, requirement=requirement,
                               check_state=False), v, route=route, detail="property")  # fmt: skip
            yield Case("put.rejected-changes-nothing", partial(_refused, block=block, version=version,
                       requirement="", check_state=True), v, route=route, detail="property")  # fmt: skip
