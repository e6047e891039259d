"""Results as data: one :class:`CaseResult` per requirement x version x token case, and the run around them.

Running writes these; every report (terminal summary today; HTML, JUnit, Markdown later) is a pure
function of a :class:`RunResults`, so a saved ``results.json`` can be rendered again with no target.
"""

from __future__ import annotations

import enum
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "CaseResult",
    "Evidence",
    "Outcome",
    "RestoredItem",
    "RunResults",
    "TargetInfo",
    "Verdict",
    "compute_verdict",
    "must_failed",
]

RESULTS_FORMAT = 1


class Outcome(enum.StrEnum):
    PASS = "pass"
    FAIL = "fail"
    NOT_TESTED = "not-tested"
    INFO = "info"


class Verdict(enum.StrEnum):
    CONFORMANT = "conformant"
    NON_CONFORMANT = "non-conformant"
    INCONCLUSIVE = "inconclusive"

    @property
    def exit_code(self) -> int:
        return {Verdict.CONFORMANT: 0, Verdict.NON_CONFORMANT: 1, Verdict.INCONCLUSIVE: 3}[self]


@dataclass(frozen=True)
class Evidence:
    """What was sent and what came back; secrets are redacted before an Evidence is made."""

    request: str  # "PUT /d2l/api/le/1.70/6606/grades/21/ipsis"
    status: int | None
    body_excerpt: str = ""
    request_body: str = ""
    note: str = ""


@dataclass(frozen=True)
class CaseResult:
    requirement: str
    level: str
    family: str
    outcome: Outcome
    case_id: str
    route: str | None
    version: str | None
    token: str | None  # described by its label and scopes, never its value
    cites: list[dict[str, str]]
    message: str = ""
    evidence: list[Evidence] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["outcome"] = self.outcome.value
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CaseResult:
        evidence = [Evidence(**item) for item in data.get("evidence", [])]
        return cls(**{**data, "outcome": Outcome(data["outcome"]), "evidence": evidence})


@dataclass(frozen=True)
class TargetInfo:
    base_url: str
    kind: str  # "embedded" or "live"
    latest_version: str | None
    versions_listed: list[str]
    versions_tested: list[str]
    tokens: list[str]  # label (scopes) of each token given
    faults: list[str] = field(default_factory=list)  # embedded target only


@dataclass(frozen=True)
class RestoredItem:
    resource: str  # "grade object 21 in org unit 6606"
    version: str
    original: dict[str, Any]
    restored: bool
    message: str = ""


@dataclass
class RunResults:
    target: TargetInfo
    suite_version: str
    spec_sha256: str
    seed: int
    started: str
    finished: str = ""
    request_count: int = 0
    throttled_count: int = 0
    verdict: Verdict = Verdict.INCONCLUSIVE
    inconclusive_reason: str = ""
    results: list[CaseResult] = field(default_factory=list)
    restored: list[RestoredItem] = field(default_factory=list)
    interrupted: bool = False
    #: How the run met its target: {"mode": "live" | "record" | "replay", ...}; a replay names its recording.
    provenance: dict[str, Any] = field(default_factory=lambda: {"mode": "live"})

    def to_json(self) -> dict[str, Any]:
        return {
            "format": RESULTS_FORMAT,
            "target": asdict(self.target),
            "suite_version": self.suite_version,
            "spec_sha256": self.spec_sha256,
            "seed": self.seed,
            "started": self.started,
            "finished": self.finished,
            "request_count": self.request_count,
            "throttled_count": self.throttled_count,
            "verdict": self.verdict.value,
            "inconclusive_reason": self.inconclusive_reason,
            "interrupted": self.interrupted,
            "provenance": self.provenance,
            "summary": self.counts(),
            "results": [result.to_json() for result in self.results],
            "restored": [asdict(item) for item in self.restored],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunResults:
        return cls(
            target=TargetInfo(**data["target"]),
            suite_version=data["suite_version"],
            spec_sha256=data["spec_sha256"],
            seed=data["seed"],
            started=data["started"],
            finished=data["finished"],
            request_count=data["request_count"],
            throttled_count=data["throttled_count"],
            verdict=Verdict(data["verdict"]),
            inconclusive_reason=data.get("inconclusive_reason", ""),
            results=[CaseResult.from_json(item) for item in data["results"]],
            restored=[RestoredItem(**item) for item in data.get("restored", [])],
            interrupted=data.get("interrupted", False),
            provenance=data.get("provenance", {"mode": "live"}),
        )

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(self.to_json(), indent=2, ensure_ascii=False) + "\n", "utf-8")
        tmp.replace(path)  # never leave a half-written results.json behind

    @classmethod
    def read(cls, path: Path) -> RunResults:
        return cls.from_json(json.loads(path.read_text("utf-8")))

    def counts(self) -> dict[str, dict[str, int]]:
        """Outcomes per level: {"MUST": {"pass": 3, "fail": 1, ...}, ...}."""
        table: dict[str, dict[str, int]] = {}
        for result in self.results:
            row = table.setdefault(result.level, {outcome.value: 0 for outcome in Outcome})
            row[result.outcome.value] += 1
        return table

    def failures(self, level: str | None = None) -> list[CaseResult]:
        return [r for r in self.results if r.outcome is Outcome.FAIL and (level is None or r.level == level)]


def must_failed(results: list[CaseResult]) -> bool:
    """Whether any MUST case failed: what makes a target non-conformant, however the run ended."""
    return any(r.outcome is Outcome.FAIL and r.level == "MUST" for r in results)


def compute_verdict(results: list[CaseResult], inconclusive_reason: str = "") -> Verdict:
    """Inconclusive when the run could not judge; else non-conformant on any MUST failure."""
    if inconclusive_reason:
        return Verdict.INCONCLUSIVE
    if must_failed(results):
        return Verdict.NON_CONFORMANT
    if not any(r.outcome in (Outcome.PASS, Outcome.FAIL) for r in results):
        return Verdict.INCONCLUSIVE  # nothing was judged at all
    return Verdict.CONFORMANT
