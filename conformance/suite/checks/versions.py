"""Version lifecycle: current served, deprecated still served (SHOULD), obsolete / unreleased /
malformed not served, the versions route in agreement with what is served.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

from conformance.suite.cases import Case, CheckFailed, CheckNotTested, Observed, planner
from conformance.suite.context import SuiteContext
from conformance.versions import ApiVersion, Status

ROUTE = "getGradeObjectIpsis"
#: Obsolete versions probed: the last obsolete one and a few older ones a client might still send.
OBSOLETE_PROBES = ("1.0", "1.40", "1.59", "1.60")
MALFORMED_PROBES = ("1", "1.6.7", "abc", "1.x", "-1.70")
REFUSAL_NOT_ACCEPTED = (401, 403, 429)


def _served_case(ctx: SuiteContext, version: ApiVersion) -> Observed:
    answer = ctx.get(ctx.grade_object_path(version), ctx.token_for(ROUTE))
    if answer.status != 200 and ctx.listed and version not in ctx.listed:
        # A version the target does not list is no promise of it; the page names no gap, but an LMS that
        # neither lists nor serves a version is consistent, so it is recorded, not failed.
        raise CheckNotTested(
            f"{version} is neither listed by GET /d2l/api/versions/ nor served ({answer.status}): only the "
            "versions the target lists are judged",
            ctx.evidence(answer),
        )
    if answer.status != 200:
        raise CheckFailed(
            f"Received: {answer.status} at {version} / Documented: 200 ({ctx.status_of(version).value} version)",
            ctx.evidence(answer),
        )
    return Observed(f"{version} served", ctx.evidence(answer))


def _not_served_case(ctx: SuiteContext, version: str, what: str) -> Observed:
    answer = ctx.get(ctx.grade_object_path(version), ctx.token_for(ROUTE))
    evidence = ctx.evidence(answer)
    if 200 <= answer.status < 300:
        raise CheckFailed(f"Received: {answer.status} at {what} version {version!r} / Documented: not served", evidence)
    if answer.status >= 500:
        raise CheckFailed(f"Received: {answer.status} at {what} version {version!r} / Documented: a 4xx", evidence)
    if answer.status in REFUSAL_NOT_ACCEPTED:
        raise CheckFailed(
            f"Received: {answer.status} at {what} version {version!r} / Documented: a 4xx other than 401, 403, 429 "
            "(an auth or rate answer hides whether the version is served)",
            evidence,
        )
    return Observed(f"{what} version {version!r} refused with {answer.status}", evidence)


def _probe_range(ctx: SuiteContext) -> list[ApiVersion]:
    """Every version from the first the page names as served up to LatestVersion, and every listed one
    the page's lifecycle serves (a major below LatestVersion's has no known last minor but its listed ones)."""
    assert ctx.latest is not None
    lifecycle = ctx.contract.lifecycle()
    return lifecycle.served_versions(ctx.latest, also=ctx.listed)


def _listed_are_served(ctx: SuiteContext) -> Observed:
    first = min(_probe_range(ctx), default=None)
    listed = [v for v in ctx.listed if first is not None and v >= first]
    if not listed:
        raise CheckNotTested("the versions route lists no LE version from 1.61 on")
    refused = [str(v) for v in listed if not ctx.served(v)]
    if refused:
        raise CheckFailed(f"Listed as supported but not serving IPSIS: {', '.join(refused)}")
    return Observed(f"all {len(listed)} listed versions from {first} serve IPSIS")


def _served_are_listed(ctx: SuiteContext) -> Observed:
    served = [v for v in _probe_range(ctx) if ctx.served(v)]
    unlisted = [str(v) for v in served if v not in ctx.listed]
    if unlisted:
        raise CheckFailed(f"Serving IPSIS but not listed by GET /d2l/api/versions/: {', '.join(unlisted)}")
    return Observed(f"all {len(served)} served versions are listed")


def _deprecation_headers(ctx: SuiteContext, version: ApiVersion) -> Observed:
    answer = ctx.get(ctx.grade_object_path(version), ctx.token_for(ROUTE))
    seen = {name: answer.headers[name] for name in ("deprecation", "sunset", "link") if name in answer.headers}
    described = ", ".join(f"{k}: {v}" for k, v in seen.items()) or "no Deprecation or Sunset header"
    return Observed(f"{version} answered {answer.status} with {described}", ctx.evidence(answer))


@planner("versions:lifecycle", order=10)
def plan_lifecycle(ctx: SuiteContext) -> Iterator[Case]:
    assert ctx.latest is not None
    for version in _probe_range(ctx):
        status = ctx.status_of(version)
        requirement = "version.current-served" if status is Status.CURRENT else "version.deprecated-served"
        yield Case(requirement, partial(_served_case, version=version), str(version), route=ROUTE)
    for obsolete in OBSOLETE_PROBES:
        yield Case(
            "version.obsolete-not-served",
            partial(_not_served_case, version=obsolete, what="obsolete"),
            obsolete,
            route=ROUTE,
        )
    latest = ctx.latest
    for unreleased in (ApiVersion(latest.major, latest.minor + 1), ApiVersion(latest.major + 1, 0)):
        yield Case(
            "version.unsupported-not-served",
            partial(_not_served_case, version=str(unreleased), what="unreleased"),
            str(unreleased),
            route=ROUTE,
        )
    for index, malformed in enumerate(MALFORMED_PROBES, start=1):
        yield Case(
            "version.malformed-not-served",
            partial(_not_served_case, version=malformed, what="malformed"),
            route=ROUTE,
            detail=f"probe-{index}",
        )
    yield Case("version.route-listed-are-served", _listed_are_served, route=ROUTE)
    yield Case("version.route-served-are-listed", _served_are_listed, route=ROUTE)
    for version in _probe_range(ctx):
        if ctx.status_of(version) is Status.DEPRECATED:
            yield Case("version.deprecation-headers", partial(_deprecation_headers, version=version), str(version))
