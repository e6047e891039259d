"""Where the vendor's page is silent, the suite records what it saw and does not fail the target.

Each test runs the suite against the faithful reference LMS seen through a transport that changes one
answer the way a correct LMS might (a permission 403, a version it neither lists nor serves, ...), and
checks that the requirement it touches is not failed; where the same change is a real violation, the
test shows that it is still caught.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import respx

from conformance.embedded import embedded_target
from conformance.reference import DEFAULT_LATEST_LE_VERSION, SEED
from conformance.results import CaseResult, Outcome, RunResults, Verdict
from conformance.suite.runner import run_suite
from conformance.target import FixtureIds, TargetConfig, TokenSpec

pytestmark = pytest.mark.slow

RUN_SEED = 7
LATEST = str(DEFAULT_LATEST_LE_VERSION)
Rewrite = Callable[[httpx.Request, httpx.Response], httpx.Response | None]


class RewritingTransport(httpx.BaseTransport):
    """Real HTTP to the reference LMS, with some answers replaced (``rewrite`` returns None to keep one)."""

    def __init__(self, rewrite: Rewrite) -> None:
        self.inner = httpx.HTTPTransport()
        self.rewrite = rewrite

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        response.read()
        return self.rewrite(request, response) or response

    def close(self) -> None:
        self.inner.close()


def run_rewritten(
    rewrite: Rewrite, tokens: Callable[[TargetConfig], tuple[TokenSpec, ...]] | None = None
) -> RunResults:
    with embedded_target() as target:
        if tokens is not None:
            target = dataclasses.replace(target, tokens=tokens(target))
        return run_suite(target, seed=RUN_SEED, kind="embedded", transport=RewritingTransport(rewrite))


def bearer_of(target_tokens: dict[str, str], request: httpx.Request) -> str | None:
    """The label of the token a request carries."""
    secret = request.headers.get("authorization", "").removeprefix("Bearer ")
    return next((label for label, value in target_tokens.items() if value == secret), None)


def results_of(results: RunResults, requirement: str, **where: Any) -> list[CaseResult]:
    found = [r for r in results.results if r.requirement == requirement]
    return [r for r in found if all(getattr(r, key) == value for key, value in where.items())]


RATE_HEADERS = ("x-rate-limit-remaining", "x-rate-limit-reset", "x-request-cost")


def text(status: int, body: str, like: httpx.Response) -> httpx.Response:
    """A plain-text answer carrying ``like``'s rate-limit headers, as every D2L answer does."""
    return httpx.Response(status, text=body, headers={h: like.headers[h] for h in RATE_HEADERS if h in like.headers})


# --- a 403 that is a user permission, not a scope -------------------------------------------------------


def _permission_403_for_comma(body: str) -> Callable[[], RunResults]:
    """The "comma" token (grades:gradeobjects:read,write) gets 403 ``body`` on GET of the grade object."""

    def run() -> RunResults:
        secrets: dict[str, str] = {}

        def rewrite(request: httpx.Request, response: httpx.Response) -> httpx.Response | None:
            path = request.url.path
            is_grade_object_get = request.method == "GET" and path.endswith(f"/grades/{SEED.grade_object}/ipsis")
            if is_grade_object_get and bearer_of(secrets, request) == "comma" and f"/{LATEST}/" in path:
                return text(403, body, response)
            return None

        def remember(target: TargetConfig) -> tuple[TokenSpec, ...]:
            secrets.update({token.label: token.secret for token in target.tokens})
            return target.tokens

        return run_rewritten(rewrite, remember)

    return run


def test_a_403_without_insufficient_scope_is_not_a_scope_failure() -> None:
    """d2l-facts.md: a 403 is also "No permission to manage grades" (the token's user lacks a permission)."""
    results = _permission_403_for_comma("No permission to manage grades")()
    cases = results_of(results, "auth.granted-scope-accepted", route="getGradeObjectIpsis")
    comma = [r for r in cases if r.token and r.token.startswith("comma ")]
    assert [r.outcome for r in comma] == [Outcome.NOT_TESTED]
    assert "may lack a permission" in comma[0].message
    assert not results.failures(), [r.case_id for r in results.failures()]
    assert results.verdict is Verdict.CONFORMANT


def test_a_403_saying_insufficient_scope_to_a_granting_token_still_fails() -> None:
    results = _permission_403_for_comma(f"Insufficient scope to call GET /d2l/api/le/{LATEST}/...")()
    failed = {r.case_id for r in results.failures()}
    assert any(case.startswith("auth.granted-scope-accepted/getGradeObjectIpsis/") and "comma" in case
               for case in failed), failed  # fmt: skip
    assert results.verdict is Verdict.NON_CONFORMANT


# --- versions the target does not list ------------------------------------------------------------------

UNLISTED = "1.80"


def _unlisted_and_unserved(request: httpx.Request, response: httpx.Response) -> httpx.Response | None:
    """1.80 is neither listed by the versions route nor served: a consistent LMS with a gap."""
    if request.url.path == "/d2l/api/versions/":
        products = response.json()
        for product in products:
            if product["ProductCode"] == "le":
                product["SupportedVersions"].remove(UNLISTED)
        headers = {h: response.headers[h] for h in RATE_HEADERS}
        return httpx.Response(200, json=products, headers={"Content-Type": "application/json", **headers})
    if f"/d2l/api/le/{UNLISTED}/" in request.url.path:
        return text(404, "Not Found", response)
    return None


def test_a_current_version_neither_listed_nor_served_is_recorded_not_failed() -> None:
    results = run_rewritten(_unlisted_and_unserved)
    served = results_of(results, "version.current-served", version=UNLISTED)
    assert [r.outcome for r in served] == [Outcome.NOT_TESTED]
    assert "neither listed" in served[0].message
    assert results.verdict is Verdict.CONFORMANT, [r.case_id for r in results.failures()]


# --- no token that may read -----------------------------------------------------------------------------


def test_without_a_read_token_versions_are_not_judged() -> None:
    """A 401 or 403 says nothing about a version: with no token allowed to read, nothing is failed."""

    def unrelated_only(target: TargetConfig) -> tuple[TokenSpec, ...]:
        return tuple(token for token in target.tokens if token.label == "unrelated")

    results = run_rewritten(lambda request, response: None, unrelated_only)
    assert not results.failures(), [r.case_id for r in results.failures()]
    for requirement in ("version.route-listed-are-served", "version.route-served-are-listed"):
        assert [r.outcome for r in results_of(results, requirement)] == [Outcome.NOT_TESTED], requirement


# --- which status lists are documented ------------------------------------------------------------------


def _foreign_probe_answers_410(route_part: str) -> Rewrite:
    """The foreign-org-unit probe of one route answers 410 (refused, but with a status no route lists)."""

    def rewrite(request: httpx.Request, response: httpx.Response) -> httpx.Response | None:
        if f"/{SEED.foreign_org_unit}/grades/{route_part}" in request.url.path and response.status_code == 404:
            return text(410, "Gone", response)
        return None

    return rewrite


def test_an_unlisted_status_on_the_category_get_fails_its_documented_list() -> None:
    results = run_rewritten(_foreign_probe_answers_410(f"categories/{SEED.grade_category}/ipsis"))
    failed = {(r.requirement, r.route, r.level) for r in results.failures()}
    assert failed == {("status.documented", "getGradeCategoryIpsis", "MUST")}
    assert results.verdict is Verdict.NON_CONFORMANT


def test_an_unlisted_status_on_another_route_is_a_should() -> None:
    """Only the category GET's status list survived; that the others list the same set is a reading."""
    results = run_rewritten(_foreign_probe_answers_410(f"{SEED.grade_object}/ipsis"))
    failed = {(r.requirement, r.route, r.level) for r in results.failures()}
    assert failed == {("status.documented.same-set", "getGradeObjectIpsis", "SHOULD")}
    assert results.verdict is Verdict.CONFORMANT


# --- results name their tokens --------------------------------------------------------------------------


def test_every_case_that_sent_a_token_names_it_by_label_and_scopes() -> None:
    results = run_rewritten(lambda request, response: None)
    served = results_of(results, "version.current-served", version=LATEST)
    assert [r.token for r in served] == ["read (grades:gradeobjects:read)"]
    no_token = results_of(results, "auth.no-token-401")
    assert no_token and all(r.token is None for r in no_token)


# --- a target whose discovery answers are broken --------------------------------------------------------

BASE_URL = "https://lms.example.edu"
LIVE = TargetConfig(
    base_url=BASE_URL,
    ids=FixtureIds(org_unit=6606, grade_category=11, grade_object=21, source_system=5),
    tokens=(TokenSpec("full", "grades:gradeobjects:read", "tok-discovery-test"),),
)
VERSIONS_OK = [{"ProductCode": "le", "LatestVersion": "1.70", "SupportedVersions": ["1.70"]}]


@pytest.mark.parametrize(
    ("versions", "whoami", "reason"),
    [
        pytest.param(httpx.Response(200, json=5), None, "without an LE entry", id="versions-a-number"),
        pytest.param(httpx.Response(200, content=b"not json"), None, "without an LE entry", id="versions-not-json"),
        pytest.param(
            httpx.Response(200, json=[{"ProductCode": "le", "LatestVersion": "1.70", "SupportedVersions": None}]),
            None,
            "SupportedVersions is null",
            id="supported-versions-null",
        ),
        pytest.param(
            httpx.Response(200, json=[{"ProductCode": "le", "LatestVersion": "1.70", "SupportedVersions": 5}]),
            None,
            "SupportedVersions is 5",
            id="supported-versions-a-number",
        ),
        pytest.param(
            httpx.Response(200, json=VERSIONS_OK),
            httpx.Response(429, headers={"Retry-After": "0"}),
            "every request throttled",
            id="whoami-always-429",
        ),
        pytest.param(
            httpx.Response(200, json=VERSIONS_OK),
            httpx.RemoteProtocolError("peer closed connection"),
            "unreachable",
            id="whoami-connection-dropped",
        ),
    ],
)
def test_broken_discovery_answers_are_inconclusive_with_a_reason(
    versions: httpx.Response, whoami: httpx.Response | Exception | None, reason: str
) -> None:
    with respx.mock(base_url=BASE_URL, assert_all_called=False) as lms:
        lms.get("/d2l/api/versions/").mock(return_value=versions)
        whoami_route = lms.get(path__regex=r"/users/whoami$")
        if isinstance(whoami, Exception):
            whoami_route.mock(side_effect=whoami)
        else:
            whoami_route.mock(return_value=whoami or httpx.Response(200, json={"Identifier": "1"}))
        results = run_suite(LIVE, seed=RUN_SEED)
    assert results.verdict is Verdict.INCONCLUSIVE
    assert reason in results.inconclusive_reason, results.inconclusive_reason
    assert "tok-discovery-test" not in json.dumps(results.to_json())
