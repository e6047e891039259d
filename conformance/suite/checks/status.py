"""Status codes that do not depend on generated data: unknown ids, a foreign org unit, ids past 32
bits; and, last in the run, an audit of every IPSIS answer the run received.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

from conformance.suite.cases import Case, CheckFailed, CheckNotTested, Observed, planner
from conformance.suite.context import SuiteContext

#: An id no LMS has issued, yet inside 31 bits: an LMS with narrow ids must still say "not found" (how
#: it treats ids past 32 bits is judged apart, by type.D2LID).
UNKNOWN_ID = 2**31 - 2


def _expect_404(ctx: SuiteContext, method: str, path_of: str, what: str) -> Observed:
    assert ctx.latest is not None
    operation = "getGradeCategoryIpsis" if "categories" in path_of else "getGradeObjectIpsis"
    if method == "POST":
        operation = "postIpsisSignedUrl"
    token = ctx.token_for(operation)
    path = path_of.format(v=ctx.latest, org=ctx.target.ids.org_unit, unknown=UNKNOWN_ID)
    if method == "POST":
        answer = ctx.client.request("POST", path, token, json_body={"FileName": "D2LStdCSV-20240101000000.zip"})
    else:
        answer = ctx.get(path, token)
    if answer.status != 404:
        raise CheckFailed(f"Received: {answer.status} for {what} / Documented: 404", ctx.evidence(answer))
    return Observed("404", ctx.evidence(answer))


def _past_32_bits(ctx: SuiteContext) -> Observed:
    """An id that is the fixture's plus 2**32 must not be read as the fixture (or crash the target)."""
    assert ctx.latest is not None
    token = ctx.token_for("getGradeObjectIpsis")
    wide = ctx.target.ids.grade_object + 2**32
    answer = ctx.get(ctx.grade_object_path(ctx.latest, item=wide), token)
    if answer.status >= 500 or 200 <= answer.status < 300:
        raise CheckFailed(
            f"Received: {answer.status} for grade object {wide} (= fixture + 2**32) / Documented: 404; "
            "D2LIDs have no 32-bit cap",
            ctx.evidence(answer),
        )
    return Observed(f"{answer.status}", ctx.evidence(answer))


def _foreign(ctx: SuiteContext, operation_id: str) -> Observed:
    assert ctx.latest is not None
    foreign = ctx.target.ids.foreign_org_unit
    if foreign is None:
        raise CheckNotTested("no [ids] foreign_org_unit given (an org unit that does not own the fixtures)")
    path = (
        ctx.grade_object_path(ctx.latest, org_unit=foreign)
        if operation_id == "getGradeObjectIpsis"
        else ctx.category_path(ctx.latest, org_unit=foreign)
    )
    answer = ctx.get(path, ctx.token_for(operation_id))
    if 200 <= answer.status < 300:
        raise CheckFailed(f"Received: {answer.status} under org unit {foreign} / Documented: 404 (not found there)",
                          ctx.evidence(answer))  # fmt: skip
    return Observed(f"refused with {answer.status}", ctx.evidence(answer))


@planner("schema:status", order=40)
def plan_status(ctx: SuiteContext) -> Iterator[Case]:
    assert ctx.latest is not None
    version = str(ctx.latest)
    probes = [
        ("getGradeObjectIpsis", "GET", "/d2l/api/le/{v}/{org}/grades/{unknown}/ipsis", "an unknown grade object"),
        ("getGradeCategoryIpsis", "GET", "/d2l/api/le/{v}/{org}/grades/categories/{unknown}/ipsis",
         "an unknown grade category"),
        ("getGradeObjectIpsis", "GET", "/d2l/api/le/{v}/{unknown}/grades/" + str(ctx.target.ids.grade_object)
         + "/ipsis", "an unknown org unit"),
        ("postIpsisSignedUrl", "POST", "/d2l/api/le/{v}/ipsis/upload/{unknown}/signedurl", "an unknown source system"),
    ]  # fmt: skip
    for route, method, path, what in probes:
        yield Case("status.unknown-id-404", partial(_expect_404, method=method, path_of=path, what=what), version,
                   route=route, detail=what.replace(" ", "-"))  # fmt: skip
    yield Case("type.D2LID", _past_32_bits, version, route="getGradeObjectIpsis", detail="fixture-plus-2**32")
    for route in ("getGradeObjectIpsis", "getGradeCategoryIpsis"):
        yield Case("status.foreign-org-unit-not-served", partial(_foreign, operation_id=route), version, route=route)
