"""Schemathesis sweep: generated positive and negative requests for every IPSIS operation that takes
a body (the PUTs, to the fixtures only, and the POST), at the oldest and newest version tested (the
spec's views without and with the fields added in 1.62), checked with schemathesis' own
response checks (Content-Type, body schema); the statuses they got are judged by the audits.

Only what holds for any server is judged here: whether a generated body is accepted depends on
lenient parsing and on ids that exist, which the property tests judge with safe values. So a
negative case answered 200 is not a failure here; a 200 whose block breaks the version's schema, or
an answer with the wrong Content-Type, is (an undocumented status or a 5xx fails the audits).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import timedelta
from functools import cache, partial
from typing import Any

import httpx
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from schemathesis.core.failures import Failure
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from conformance.contract import version_view
from conformance.suite.cases import Case, CheckFailed, Observed, planner
from conformance.suite.checks.common import FirstFailure
from conformance.suite.context import SuiteContext
from conformance.versions import ApiVersion

#: The GETs take no body: generating for them means generating ids, which on a live LMS reads other
#: courses' grade data into evidence and cassettes. Their ids are judged by the unknown-id, past-32-bits
#: and foreign-org-unit probes, their blocks by the field checks at every version tested.
BODY_ROUTES = ("putGradeObjectIpsis", "putGradeCategoryIpsis", "postIpsisSignedUrl")
RESPONSE_BLOCK_REQUIREMENT = {
    "putGradeObjectIpsis": "block.GradeObjectDetails",
    "putGradeCategoryIpsis": "block.GradeCategoryInfo",
    "postIpsisSignedUrl": "block.SignedUrlData",
}
#: Status codes are not judged here: the audits judge every answer of the run, generated ones included
#: (status.no-server-error, and status.documented on the one route whose list the page kept; the others'
#: list is a reading, status.documented.same-set, SHOULD), so a sweep never fails a MUST on a reading.
CHECKS = [content_type_conformance, response_schema_conformance]


def relax_inferred(view: dict[str, Any]) -> dict[str, Any]:
    """Drop the constraints that rest on an [inferred] reading, so the sweep never fails a target on
    them: ids' ``minimum`` (positivity is SHOULD) and the enum's missing 3 ("Grade" as a row)."""
    relaxed = copy.deepcopy(view)
    for schema in relaxed["components"]["schemas"].values():
        for prop in schema.get("properties", {}).values():
            prop.pop("minimum", None)
            if prop.get("enum") is not None and None in prop["enum"]:
                prop["enum"] = [*sorted({*[v for v in prop["enum"] if v is not None], 3}), None]
    return relaxed


@cache
def _schema(spec_sha: str, version: ApiVersion, raw_id: int) -> Any:
    from conformance.contract import load_contract

    return schemathesis.openapi.from_dict(relax_inferred(version_view(load_contract().raw, version)))


def _operation(ctx: SuiteContext, operation_id: str, version: ApiVersion) -> Any:
    schema = _schema(ctx.contract.spec_sha256, version, id(ctx.contract.raw))
    operation = ctx.contract.operations[operation_id]
    return schema[operation.path][operation.method]


def _path_parameters(ctx: SuiteContext, version: ApiVersion) -> dict[str, Any]:
    ids = ctx.target.ids
    return {
        "version": str(version),
        "orgUnitId": ids.org_unit,
        "categoryId": ids.grade_category,
        "gradeObjectId": ids.grade_object,
        "sourceSystemId": ids.source_system,
    }


def _sweep(ctx: SuiteContext, operation_id: str, version: ApiVersion, mode: GenerationMode) -> Observed:
    ctx.require_served(version)
    operation = _operation(ctx, operation_id, version)
    wanted = {p.name for p in operation.path_parameters}
    path_parameters = {k: v for k, v in _path_parameters(ctx, version).items() if k in wanted}
    strategy = operation.as_strategy(generation_mode=mode, path_parameters=path_parameters)
    token = ctx.token_for(operation_id)
    if operation_id.startswith("put"):
        ctx.baseline_block(operation_id, version)  # record the original before generated bodies change it
    statuses: list[int] = []
    first = FirstFailure()

    @seed(ctx.seed)
    @settings(
        max_examples=ctx.target.limits.examples_per_property,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )
    @given(strategy)
    def sweep(case: Any) -> None:
        if first.seen:
            return
        kwargs = case.as_transport_kwargs(base_url=ctx.target.base_url)
        body = kwargs.get("json")
        raw = kwargs.get("data")
        content = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
        path = httpx.URL(kwargs["url"]).raw_path.decode("ascii")
        if operation_id.startswith("put"):
            answer = ctx.put(path, token, body, content=content if body is None else None)
        else:
            answer = ctx.client.request("POST", path, token, json_body=body, content=content if body is None else None)
        statuses.append(answer.status)
        response = httpx.Response(
            answer.status,
            headers=answer.headers,
            content=answer.text.encode(),
            request=httpx.Request(kwargs["method"], kwargs["url"]),
        )
        response.elapsed = timedelta(0)  # schemathesis reads it; the exchange is already complete
        try:
            case.validate_response(response, checks=CHECKS)
        except Failure as failure:
            first.record(CheckFailed(f"{failure.title}: {failure.message}", ctx.evidence(answer)))
        except BaseExceptionGroup as group:
            messages = "; ".join(f"{f.title}: {f.message}" for f in group.exceptions if isinstance(f, Failure))
            first.record(CheckFailed(messages or str(group), ctx.evidence(answer)))

    sweep()
    first.raise_if_any()
    counted = ", ".join(f"{status}x{statuses.count(status)}" for status in sorted(set(statuses)))
    return Observed(f"{len(statuses)} generated {mode.value} requests: {counted}")


@planner("schema:sweep", order=80)
def plan_sweep(ctx: SuiteContext) -> Iterator[Case]:
    for version in ctx.property_versions:
        for operation_id in BODY_ROUTES:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                yield Case(RESPONSE_BLOCK_REQUIREMENT[operation_id],
                           partial(_sweep, operation_id=operation_id, version=version, mode=mode),
                           str(version), route=operation_id, detail=f"schemathesis-{mode.value}")  # fmt: skip
