"""Nullability per served version: presence and type of every documented field, null only where the
page writes ``|null``, fields added in 1.62 absent before and present from it, and PUT with null.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import Any

from conformance.contract import Block, Field
from conformance.results import Evidence
from conformance.suite.cases import Case, CheckFailed, CheckNotTested, Observed, planner
from conformance.suite.checks.common import (
    GRADE_TYPES_EITHER_READING,
    MISSING,
    block_of,
    changed_elsewhere,
    field_problem,
)
from conformance.suite.context import SuiteContext
from conformance.versions import ApiVersion

GET_ROUTES = {"GradeObjectDetails": "getGradeObjectIpsis", "GradeCategoryInfo": "getGradeCategoryIpsis"}
PUT_ROUTES = {"GradeObjectDetails": "putGradeObjectIpsis", "GradeCategoryInfo": "putGradeCategoryIpsis"}


def _read(ctx: SuiteContext, block: Block, version: ApiVersion) -> tuple[dict[str, Any], list[Evidence]]:
    route = GET_ROUTES[block.name]
    answer = ctx.get(ctx.path_of(route, version), ctx.token_for(route))
    return block_of(ctx, answer, f"GET {block.name} at {version}"), ctx.evidence(answer)


def _field_case(ctx: SuiteContext, block: Block, spec: Field, version: ApiVersion) -> Observed:
    body, evidence = _read(ctx, block, version)
    problem = field_problem(spec, body.get(spec.name, MISSING))
    if problem:
        raise CheckFailed(problem, evidence)
    return Observed(f"{spec.name} = {body[spec.name]!r}", evidence)


def _grade_type_case(ctx: SuiteContext, block: Block, version: ApiVersion, heading_reading: bool) -> Observed:
    body, evidence = _read(ctx, block, version)
    value = body.get("PowerSchoolGradeType", MISSING)
    if value is MISSING or value is None or not isinstance(value, int) or isinstance(value, bool):
        raise CheckNotTested(
            f"PowerSchoolGradeType is {value if value is not MISSING else 'absent'}: no value to judge"
        )
    if heading_reading:
        if value == 3:
            raise CheckFailed('PowerSchoolGradeType is 3; read as a heading, "Grade" is no value: 0, 1, 2', evidence)
    elif value not in GRADE_TYPES_EITHER_READING:
        raise CheckFailed(f"PowerSchoolGradeType is {value}; documented: 0 Points, 1 Percent, 2 Gradescale", evidence)
    return Observed(f"PowerSchoolGradeType = {value}", evidence)


def _positive_ids_case(ctx: SuiteContext, block: Block, version: ApiVersion) -> Observed:
    body, evidence = _read(ctx, block, version)
    id_fields = [f.name for f in block.fields_at(version) if f.minimum is not None]
    bad = {name: body[name] for name in id_fields if isinstance(body.get(name), int) and body[name] < 1}
    if bad:
        raise CheckFailed(f"D2LIDs below 1: {bad}", evidence)
    return Observed(f"ids {', '.join(id_fields)} positive or null", evidence)


def _since_case(ctx: SuiteContext, block: Block, version: ApiVersion, expect_present: bool) -> Observed:
    body, evidence = _read(ctx, block, version)
    added = [f for f in block.fields if f.since is not None and (f.since <= version) == expect_present]
    if expect_present:
        absent = [f.name for f in added if f.name not in body]
        if absent:
            raise CheckFailed(
                f"At {version}, absent: {', '.join(absent)}; documented: present (null when unset)", evidence
            )
        return Observed(f"at {version}: {', '.join(f.name for f in added)} present", evidence)
    leaked = [f.name for f in added if f.name in body]
    if leaked:
        raise CheckFailed(
            f"At {version}, present: {', '.join(leaked)}; documented: added with LE API v{added[0].since}", evidence
        )
    return Observed(f"at {version}: {', '.join(f.name for f in added)} absent", evidence)


def _put_null_case(ctx: SuiteContext, block: Block, spec: Field, version: ApiVersion) -> Observed:
    """PUT the current block with one nullable field null; a later GET returns null."""
    route = PUT_ROUTES[block.name]
    ctx.require_served(version)
    body = {**ctx.baseline_block(route, version), spec.name: None}
    path = ctx.path_of(route, version)
    answer = ctx.put(path, ctx.token_for(route), body)
    if answer.status != 200:
        raise CheckFailed(
            f"PUT with {spec.name}: null received {answer.status}; documented: accepted (the field is nullable)",
            ctx.evidence(answer),
        )
    reread = ctx.get(ctx.path_of(GET_ROUTES[block.name], version), ctx.token_for(GET_ROUTES[block.name]))
    value = (reread.json_or_none() or {}).get(spec.name, MISSING) if reread.status == 200 else MISSING
    if value is not None:
        shown = "absent" if value is MISSING else repr(value)
        raise CheckFailed(f"after PUT {spec.name}: null, GET returned {shown}", ctx.evidence(answer, reread))
    return Observed(f"{spec.name}: null stored and returned", ctx.evidence(answer, reread))


def _put_null_non_nullable(
    ctx: SuiteContext, block: Block, spec: Field, version: ApiVersion, check_state: bool
) -> Observed:
    """PUT null into a never-null field: 400, and (SHOULD) nothing changed."""
    route = PUT_ROUTES[block.name]
    ctx.require_served(version)
    before = ctx.current_block(route, version)
    path = ctx.path_of(route, version)
    baseline = ctx.baseline_block(route, version)
    valid = changed_elsewhere(block, version, before, baseline, spec.name) if check_state else baseline
    answer = ctx.put(path, ctx.token_for(route), {**valid, spec.name: None})
    if not check_state:
        if answer.status != 400:
            raise CheckFailed(
                f"PUT with {spec.name}: null received {answer.status}; documented: 400 ({spec.name} is never null)",
                ctx.evidence(answer),
            )
        return Observed(f"{spec.name}: null refused with 400", ctx.evidence(answer))
    if answer.status != 400:
        raise CheckNotTested(
            f"the PUT was not refused ({answer.status}); see put.invalid-block-400", ctx.evidence(answer)
        )
    after = ctx.current_block(route, version)
    if after != before:
        raise CheckFailed(f"after a refused PUT the block changed: {before} became {after}", ctx.evidence(answer))
    return Observed("refused PUT changed nothing", ctx.evidence(answer))


def _present_when_null(ctx: SuiteContext, block: Block, version: ApiVersion) -> Observed:
    """From 1.62, every field is present even when unset: PUT every nullable field null, then GET."""
    route = PUT_ROUTES[block.name]
    ctx.require_served(version)
    body = {**ctx.baseline_block(route, version), **{f.name: None for f in block.fields_at(version) if f.nullable}}
    answer = ctx.put(ctx.path_of(route, version), ctx.token_for(route), body)
    if answer.status != 200:
        raise CheckNotTested(f"the PUT of nulls was refused ({answer.status}); see put.null-accepted-for-nullable",
                             ctx.evidence(answer))  # fmt: skip
    get_route = GET_ROUTES[block.name]
    reread = ctx.get(ctx.path_of(get_route, version), ctx.token_for(get_route))
    stored = block_of(ctx, reread, f"GET {block.name} at {version}")
    absent = [f.name for f in block.fields_at(version) if f.name not in stored]
    if absent:
        raise CheckFailed(f"with the nullable fields unset, absent: {', '.join(absent)}; documented: present as null",
                          ctx.evidence(answer, reread))  # fmt: skip
    return Observed("every field present, unset ones as null", ctx.evidence(answer, reread))


@planner("nullability:fields", order=20)
def plan_fields(ctx: SuiteContext) -> Iterator[Case]:
    for version in ctx.deep_versions:
        for block_name, route in GET_ROUTES.items():
            block = ctx.contract.blocks[block_name]
            for spec in block.fields_at(version):
                yield Case(spec.requirements[0], partial(_field_case, block=block, spec=spec, version=version),
                           str(version), route=route)  # fmt: skip
            if block.fields_at(version) != block.fields:
                yield Case("presence.since-absent-before", partial(_since_case, block=block, version=version,
                           expect_present=False), str(version), route=route)  # fmt: skip
            else:
                yield Case("presence.since-present-from", partial(_since_case, block=block, version=version,
                           expect_present=True), str(version), route=route)  # fmt: skip
            yield Case("type.D2LID.positive", partial(_positive_ids_case, block=block, version=version),
                       str(version), route=route)  # fmt: skip
            if any(f.name == "PowerSchoolGradeType" for f in block.fields_at(version)):
                for requirement, heading in (("enum.PowerSchoolGradeType", False),
                                             ("enum.PowerSchoolGradeType.grade-is-heading", True)):  # fmt: skip
                    yield Case(requirement, partial(_grade_type_case, block=block, version=version,
                               heading_reading=heading), str(version), route=route)  # fmt: skip


@planner("nullability:put", order=60)
def plan_put_nulls(ctx: SuiteContext) -> Iterator[Case]:
    for version in ctx.deep_versions:
        for block_name, route in PUT_ROUTES.items():
            block = ctx.contract.blocks[block_name]
            if block.fields_at(version) == block.fields and any(f.since for f in block.fields):
                yield Case("presence.since-present-from", partial(_present_when_null, block=block, version=version),
                           str(version), route=route, detail="all-nullable-unset")  # fmt: skip
            for spec in block.fields_at(version):
                if spec.nullable:
                    yield Case("put.null-accepted-for-nullable",
                               partial(_put_null_case, block=block, spec=spec, version=version),
                               str(version), route=route, detail=spec.name)  # fmt: skip
                else:
                    for requirement, check_state in (("put.invalid-block-400", False),
                                                     ("put.rejected-changes-nothing", True)):  # fmt: skip
                        yield Case(requirement, partial(_put_null_non_nullable, block=block, spec=spec,
                                   version=version, check_state=check_state),
                                   str(version), route=route, detail=f"{spec.name}-null")  # fmt: skip
