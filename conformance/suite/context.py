"""Everything a running suite shares: the target, the client, what discovery found, and the
ledger that puts the target's data back.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import httpx

from conformance import __version__
from conformance.contract import Contract, load_contract
from conformance.http import (
    BudgetExhaustedError,
    Exchange,
    IpsisClient,
    Redactor,
    ThrottledError,
    UnrecordedRequestError,
)
from conformance.results import (
    CaseResult,
    Outcome,
    RestoredItem,
    RunResults,
    TargetInfo,
    compute_verdict,
    must_failed,
)
from conformance.scopes import grants
from conformance.suite.cases import Case, CheckFailed, CheckNotTested, Observed, planners_in_order
from conformance.target import TargetConfig, TokenSpec
from conformance.versions import ApiVersion, Status

__all__ = ["InconclusiveError", "Resource", "SuiteContext"]

BLOCK_OF_ROUTE = {
    "getGradeObjectIpsis": "GradeObjectDetails",
    "putGradeObjectIpsis": "GradeObjectDetails",
    "getGradeCategoryIpsis": "GradeCategoryInfo",
    "putGradeCategoryIpsis": "GradeCategoryInfo",
}
_RESOURCE_PATH = re.compile(r"^/d2l/api/le/[^/]+/(\d+)/grades/(categories/)?(\d+)/ipsis$")


class InconclusiveError(RuntimeError):
    """The run cannot judge the target (unreachable, no working token)."""


@dataclass(frozen=True)
class Resource:
    """A grade object or grade category of the target that a PUT may change."""

    kind: str  # "grade object" | "grade category"
    org_unit: int
    item: int

    def __str__(self) -> str:
        return f"{self.kind} {self.item} in org unit {self.org_unit}"

    @classmethod
    def of_path(cls, path: str) -> Resource | None:
        match = _RESOURCE_PATH.match(path)
        if match is None:
            return None
        kind = "grade category" if match.group(2) else "grade object"
        return cls(kind, int(match.group(1)), int(match.group(3)))


@dataclass
class SuiteContext:
    target: TargetConfig
    client: IpsisClient
    redact: Redactor
    seed: int
    report_dir: Path | None = None
    kind: str = "live"
    faults: tuple[str, ...] = ()
    contract: Contract = field(default_factory=load_contract)
    latest: ApiVersion | None = None
    lp_version: str = "1.0"
    listed: list[ApiVersion] = field(default_factory=list)
    deep_versions: list[ApiVersion] = field(default_factory=list)
    working_tokens: dict[str, bool] = field(default_factory=dict)  # label -> whoami said it works
    route_token: dict[str, TokenSpec | None] = field(default_factory=dict)  # operationId -> a token that works
    results: list[CaseResult] = field(default_factory=list)
    memo: dict[Any, Any] = field(default_factory=dict)
    originals: dict[Resource, tuple[ApiVersion, dict[str, Any]]] = field(default_factory=dict)
    started: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    inconclusive_reason: str = ""
    throttled_cases: int = 0
    suite_errors: list[str] = field(default_factory=list)
    stale_cassette: str = ""
    _get_cache: dict[tuple[str, str], Exchange] = field(default_factory=dict)

    # --- discovery -------------------------------------------------------------------------------
    def discover(self) -> None:
        """Versions, and which tokens work; raises InconclusiveError when the target cannot be judged."""
        try:
            self._discover()
        except httpx.TransportError as error:
            raise InconclusiveError(f"target unreachable: {self.target.base_url} ({error})") from None
        except httpx.HTTPError as error:
            raise InconclusiveError(f"the target broke off a discovery request: {error}") from None
        except ThrottledError as error:
            raise InconclusiveError(f"every request throttled: {error}") from None
        except BudgetExhaustedError as error:
            raise InconclusiveError(f"the request budget ran out during discovery: {error}") from None

    def _discover(self) -> None:
        answer = self.client.request("GET", "/d2l/api/versions/")
        products = answer.json_or_none() if answer.status == 200 else None
        entries = [p for p in products if isinstance(p, dict)] if isinstance(products, list) else []
        le = next((p for p in entries if p.get("ProductCode") == "le"), None)
        lp = next((p for p in entries if p.get("ProductCode") == "lp"), None)
        if le is None:
            raise InconclusiveError(
                f"GET /d2l/api/versions/ answered {answer.status} without an LE entry: is {self.target.base_url} "
                "a Brightspace LMS?"
            )
        self.latest = ApiVersion.try_parse(str(le.get("LatestVersion", "")))
        supported = le.get("SupportedVersions")
        if not isinstance(supported, list):
            raise InconclusiveError(
                f"GET /d2l/api/versions/ answered an LE entry whose SupportedVersions is {json.dumps(supported)[:80]}, "
                "not a list of versions: the target's version discovery cannot be read"
            )
        self.listed = sorted(v for v in map(ApiVersion.try_parse, map(str, supported)) if v)
        if self.latest is None:
            self.latest = max(self.listed) if self.listed else None
        if self.latest is None:
            raise InconclusiveError("the versions route names no LE LatestVersion")
        if lp is not None and ApiVersion.try_parse(str(lp.get("LatestVersion", ""))):
            self.lp_version = str(lp["LatestVersion"])
        self.deep_versions = list(self.target.le_versions or self._boundary_versions())
        for token in self.target.tokens:
            whoami = self.client.request("GET", f"/d2l/api/lp/{self.lp_version}/users/whoami", token)
            # 401 is the only answer that says the token itself is bad; a 403 means whoami wants a scope
            # the token was not issued with, which says nothing about the IPSIS routes.
            self.working_tokens[token.label] = whoami.status != 401
        if not any(self.working_tokens.values()):
            raise InconclusiveError(
                "no working token: whoami answered 401 to every token given (expired, or another LMS?)"
            )
        self._choose_route_tokens()

    def _boundary_versions(self) -> list[ApiVersion]:
        """Where fields and lifecycle change: first served, first with the 1.62 fields, last deprecated,
        first current, latest. Every listed version still gets the lifecycle checks."""
        assert self.latest is not None
        lifecycle = self.contract.lifecycle()
        since = {f.since for b in self.contract.blocks.values() for f in b.fields if f.since is not None}
        candidates: set[ApiVersion] = {self.latest, *since}
        for lifecycle_range in lifecycle.ranges:
            if lifecycle_range.status.served:
                candidates.update(v for v in (lifecycle_range.first, lifecycle_range.last) if v is not None)
        return sorted(v for v in candidates if lifecycle.status(v, self.latest).served)

    def _choose_route_tokens(self) -> None:
        """For each IPSIS route, a declared token that works and should be allowed (narrowest first)."""
        usable = [t for t in self.target.tokens if self.working_tokens.get(t.label)]
        by_breadth = sorted(usable, key=lambda t: (len(t.scopes.split()), "*" in t.scopes))
        for operation in self.contract.ipsis_operations:
            if operation.scope is not None:
                scope = operation.scope
                self.route_token[operation.operation_id] = next(
                    (t for t in by_breadth if grants(t.scopes, scope)), None
                )
            else:
                self.route_token[operation.operation_id] = self._probe_category_token(operation.operation_id, usable)

    def _probe_category_token(self, operation_id: str, usable: list[TokenSpec]) -> TokenSpec | None:
        """The category routes' scope is undocumented: use the first token (broadest first) that works."""
        assert self.latest is not None
        broadest_first = sorted(usable, key=lambda t: ("*:*:*" not in t.scopes, -len(t.scopes.split())))
        for token in broadest_first:
            if self.get(self.category_path(self.latest), token).status == 200:
                return token
        return None

    # --- paths -----------------------------------------------------------------------------------
    def grade_object_path(self, version: ApiVersion | str, org_unit: int | None = None, item: int | None = None) -> str:
        ids = self.target.ids
        return f"/d2l/api/le/{version}/{org_unit or ids.org_unit}/grades/{item or ids.grade_object}/ipsis"

    def category_path(self, version: ApiVersion | str, org_unit: int | None = None, item: int | None = None) -> str:
        ids = self.target.ids
        return f"/d2l/api/le/{version}/{org_unit or ids.org_unit}/grades/categories/{item or ids.grade_category}/ipsis"

    def signed_url_path(self, version: ApiVersion | str, source_system: int | None = None) -> str:
        return f"/d2l/api/le/{version}/ipsis/upload/{source_system or self.target.ids.source_system}/signedurl"

    def path_of(self, operation_id: str, version: ApiVersion | str) -> str:
        if operation_id in ("getGradeObjectIpsis", "putGradeObjectIpsis"):
            return self.grade_object_path(version)
        if operation_id in ("getGradeCategoryIpsis", "putGradeCategoryIpsis"):
            return self.category_path(version)
        return self.signed_url_path(version)

    def token_for(self, operation_id: str) -> TokenSpec:
        token = self.route_token.get(operation_id)
        if token is None:
            raise CheckNotTested(f"no working token allowed to call {operation_id} was given")
        return token

    def token_named(self, label: str) -> TokenSpec:
        return next(t for t in self.target.tokens if t.label == label)

    # --- requests --------------------------------------------------------------------------------
    def get(self, path: str, token: TokenSpec | None) -> Exchange:
        """GET, cached per (path, token) until a PUT touches the resource."""
        key = (path, token.label if token else "")
        if key not in self._get_cache:
            self._get_cache[key] = self.client.request("GET", path, token)
        elif token is not None:
            self.client.tokens_used.append(token)  # a cached answer still judges this token's request
        return self._get_cache[key]

    def put(self, path: str, token: TokenSpec | None, body: Any = None, content: str | None = None) -> Exchange:
        """PUT, after the resource's original value is safely recorded for restoration."""
        resource = Resource.of_path(path)
        if resource is not None:
            self._remember_original(resource)
            self._forget(resource)
        return self.client.request("PUT", path, token, json_body=body, content=content)

    def _forget(self, resource: Resource) -> None:
        self._get_cache = {k: v for k, v in self._get_cache.items() if Resource.of_path(k[0]) != resource}

    def _remember_original(self, resource: Resource) -> None:
        if resource in self.originals:
            return
        assert self.latest is not None
        operation = "getGradeCategoryIpsis" if resource.kind == "grade category" else "getGradeObjectIpsis"
        version = self.latest  # the latest version carries every field
        path = self.path_of(operation, version).replace(f"/{self.target.ids.org_unit}/", f"/{resource.org_unit}/", 1)
        tokens_of_the_case = list(self.client.tokens_used)
        answer = self.client.request("GET", path, self.route_token.get(operation))
        self.client.tokens_used[:] = tokens_of_the_case  # the journal's read is the suite's, not the case's
        original = answer.json_or_none()
        if answer.status != 200 or not isinstance(original, dict):
            raise CheckNotTested(
                f"cannot read the original {resource} before changing it (GET answered {answer.status})"
            )
        self.originals[resource] = (version, original)
        self._write_journal()

    def _write_journal(self) -> None:
        """What must be put back, on disk before any change, so a crash leaves a way home."""
        if self.report_dir is None:
            return
        self.report_dir.mkdir(parents=True, exist_ok=True)
        journal = [
            {
                "resource": str(r),
                "kind": r.kind,
                "org_unit": r.org_unit,
                "item": r.item,
                "version": str(v),
                "original": o,
            }
            for r, (v, o) in self.originals.items()
        ]
        (self.report_dir / "restore-journal.json").write_text(json.dumps(journal, indent=2) + "\n", "utf-8")

    def baseline_block(self, put_operation: str, version: ApiVersion) -> dict[str, Any]:
        """The fixture's block as it was before the run changed anything, cut to ``version``'s fields.

        PUT bodies start from it, so one accepted bad PUT does not make every later PUT look wrong.
        """
        resource = Resource.of_path(self.path_of(put_operation, version))
        assert resource is not None
        self._remember_original(resource)
        from conformance.suite.checks.common import field_problem  # (a cycle at import time otherwise)

        block = self.contract.blocks[BLOCK_OF_ROUTE[put_operation]]
        fields = block.fields_at(version)
        original = self.originals[resource][1]
        # Judge the whole original, not only this version's fields: restoring PUTs it back whole, and a
        # block the target itself would refuse could not be put back after a change at any version.
        problems = [p for f in block.fields if f.name in original and (p := field_problem(f, original[f.name]))]
        if problems:
            raise CheckNotTested(f"the fixture as read is not a valid block ({problems[0]}): no valid PUT body")
        return {f.name: original[f.name] for f in fields if f.name in original}

    def current_block(self, operation_id: str, version: ApiVersion) -> dict[str, Any]:
        """The fixture's block at ``version`` as the target answers it now."""
        get_operation = operation_id.replace("put", "get", 1)
        answer = self.get(self.path_of(get_operation, version), self.token_for(get_operation))
        block = answer.json_or_none()
        if answer.status != 200 or not isinstance(block, dict):
            raise CheckNotTested(f"the fixture could not be read at {version} (GET answered {answer.status})")
        documented = {f.name for f in self.contract.blocks[BLOCK_OF_ROUTE[operation_id]].fields_at(version)}
        return {name: value for name, value in block.items() if name in documented}

    def require_served(self, version: ApiVersion) -> None:
        """Per-version checks of a version the target does not serve are not tested (the lifecycle
        checks report the version itself)."""
        if not self.served(version):
            raise CheckNotTested(f"{version} is not served by the target; see the version.* results")

    def served(self, version: ApiVersion) -> bool:
        """Whether ``version`` serves the grade object; not tested without a token allowed to read it
        (a 401 or 403 says nothing about the version)."""
        answer = self.get(self.grade_object_path(version), self.token_for("getGradeObjectIpsis"))
        return answer.status == 200

    @property
    def property_versions(self) -> list[ApiVersion]:
        """Where generated requests go: the oldest and newest version tested (the two ends of the
        field history); every version tested still gets the field and null checks."""
        return sorted({min(self.deep_versions), max(self.deep_versions)}) if self.deep_versions else []

    def status_of(self, version: ApiVersion) -> Status:
        assert self.latest is not None
        return self.contract.lifecycle().status(version, self.latest)

    # --- running ---------------------------------------------------------------------------------
    def plan(self) -> list[Case]:
        import conformance.suite.checks  # noqa: F401  (importing registers the planners)

        families = self.target.families
        cases: list[Case] = []
        for registered in planners_in_order():
            if families is None or registered.family in families or registered.family == "audit":
                cases.extend(replace(case, planner=registered.name) for case in registered.make_cases(self))
        return cases

    def run_case(self, case: Case) -> CaseResult:
        requirement = self.contract.requirement(case.requirement)
        self.client.tokens_used.clear()
        try:
            observed = case.run(self)
            outcome, message, evidence = observed.outcome, observed.message, observed.evidence
            if requirement.level.value == "INFO" and outcome is Outcome.PASS:
                outcome = Outcome.INFO
        except CheckFailed as failure:
            outcome, message, evidence = Outcome.FAIL, failure.message, failure.evidence
        except CheckNotTested as skipped:
            outcome, message, evidence = Outcome.NOT_TESTED, skipped.reason, skipped.evidence
        except BudgetExhaustedError as error:
            outcome, message, evidence = Outcome.NOT_TESTED, str(error), []
        except ThrottledError as error:
            self.throttled_cases += 1
            outcome, message, evidence = Outcome.NOT_TESTED, f"throttled: {error}", []
        except UnrecordedRequestError:
            raise  # a stale cassette ends the run: no verdict can come from it
        except Exception as error:  # a defect of the suite, not of the target: never a pass or a fail
            self.suite_errors.append(f"{case.case_id}: {type(error).__name__}: {error}")
            outcome, message, evidence = Outcome.NOT_TESTED, f"suite error: {type(error).__name__}: {error}", []
        token = self.token_named(case.token).describe() if case.token and case.token in self.labels() else case.token
        if case.token is None and self.client.tokens_used:
            # The case used the route's working token(s); name them, never their values.
            token = "; ".join(dict.fromkeys(t.describe() for t in self.client.tokens_used))
        result = CaseResult(
            requirement=requirement.id,
            level=requirement.level.value,
            family=requirement.family,
            outcome=outcome,
            case_id=case.case_id,
            route=case.route,
            version=case.version,
            token=token,
            cites=[{"source": c.source, "quote": c.quote} for c in requirement.cites],
            message=self.redact(message),
            evidence=evidence,
        )
        self.results.append(result)
        return result

    def labels(self) -> set[str]:
        return {t.label for t in self.target.tokens}

    def restore(self) -> list[RestoredItem]:
        """Put back every block a PUT may have changed, at the version it was read; verify with a GET.

        Restoring is exempt from the request budget: the target's data comes before the budget.
        """
        restored = []
        for resource, (version, original) in self.originals.items():
            operation = "putGradeCategoryIpsis" if resource.kind == "grade category" else "putGradeObjectIpsis"
            path = self.path_of(operation, version).replace(
                f"/{self.target.ids.org_unit}/", f"/{resource.org_unit}/", 1
            )
            writer = self.route_token.get(operation)
            reader = self.route_token.get(operation.replace("put", "get", 1))
            request = partial(self.client.request, keep=False, budgeted=False)
            try:
                if request("GET", path, reader).json_or_none() == original:
                    restored.append(RestoredItem(str(resource), str(version), original, True, "unchanged"))
                    continue
                answer = request("PUT", path, writer, json_body=original)
                check = request("GET", path, reader)
                ok = answer.status == 200 and check.json_or_none() == original
                message = "" if ok else f"PUT answered {answer.status}; GET answered {check.status} {check.text[:200]}"
            except (httpx.HTTPError, ThrottledError) as error:  # UnrecordedRequestError: a stale replay, raised
                ok, message = False, f"could not restore: {error}"
            restored.append(RestoredItem(str(resource), str(version), original, ok, self.redact(message)))
        if self.report_dir is not None and restored and all(item.restored for item in restored):
            (self.report_dir / "restore-journal.json").unlink(missing_ok=True)
        return restored

    def finish(
        self, restored: list[RestoredItem], interrupted: bool = False, provenance: dict[str, Any] | None = None
    ) -> RunResults:
        reason = self.inconclusive_reason
        judged = [r for r in self.results if r.outcome in (Outcome.PASS, Outcome.FAIL)]
        if not reason and self.results and not judged and self.throttled_cases:
            reason = "every request was throttled (429)"
        if not reason and self.suite_errors and not must_failed(self.results):
            reason = f"{len(self.suite_errors)} case(s) hit a suite error (please report): {self.suite_errors[0]}"
        budget_hit = self.client.request_count >= self.target.limits.max_requests
        if not reason and budget_hit and not must_failed(self.results):
            reason = f"the request budget ({self.target.limits.max_requests}) ran out before every case was judged"
        results = RunResults(
            target=TargetInfo(
                base_url=self.target.base_url,
                kind=self.kind,
                latest_version=str(self.latest) if self.latest else None,
                versions_listed=[str(v) for v in self.listed],
                versions_tested=[str(v) for v in self.deep_versions],
                tokens=[t.describe() for t in self.target.tokens],
                faults=list(self.faults),
            ),
            suite_version=__version__,
            spec_sha256=self.contract.spec_sha256,
            seed=self.seed,
            started=self.started,
            finished=datetime.now(UTC).isoformat(timespec="seconds"),
            request_count=self.client.request_count,
            throttled_count=self.client.throttled_count,
            verdict=compute_verdict(self.results, reason),
            inconclusive_reason=reason,
            results=list(self.results),
            restored=restored,
            interrupted=interrupted,
            provenance=provenance or {"mode": "live"},
        )
        if self.report_dir is not None:
            results.write(self.report_dir / "results.json")
        return results

    def once(self, key: Any, compute: Callable[[], Any]) -> Any:
        """Compute a shared observation once per run (e.g. one POST read by several cases)."""
        if key not in self.memo:
            self.memo[key] = compute()
        return self.memo[key]

    def evidence(self, *exchanges: Exchange, note: str = "") -> list[Any]:
        return [exchange.evidence(self.redact, note) for exchange in exchanges]


def observed(message: str = "", *evidence: Any, outcome: Outcome = Outcome.PASS) -> Observed:
    return Observed(message, list(evidence), outcome)
