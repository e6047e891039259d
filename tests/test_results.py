"""Results as data: the verdict, its exit code, the results.json round trip and the per-level summary."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance.results import (
    CaseResult,
    Evidence,
    Outcome,
    RestoredItem,
    RunResults,
    TargetInfo,
    Verdict,
    compute_verdict,
)

CITE = {"source": "IPSIS page", "text": "EndOfCourse (bool)"}


def case(level: str, outcome: Outcome, case_id: str = "") -> CaseResult:
    return CaseResult(
        requirement=f"REQ-{level}-{outcome.value}",
        level=level,
        family="nullability",
        outcome=outcome,
        case_id=case_id or f"{level}/{outcome.value}",
        route="GET /d2l/api/le/{version}/{orgUnitId}/grades/{gradeObjectId}/ipsis",
        version="1.70",
        token="full (grades:gradeobjects:read)",
        cites=[CITE],
    )


# --- compute_verdict ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("results", "verdict"),
    [
        pytest.param([], Verdict.INCONCLUSIVE, id="no-results-inconclusive"),
        pytest.param(
            [case("MUST", Outcome.PASS), case("MUST", Outcome.FAIL), case("SHOULD", Outcome.PASS)],
            Verdict.NON_CONFORMANT,
            id="a-must-fail-non-conformant",
        ),
        pytest.param([case("MUST", Outcome.FAIL)], Verdict.NON_CONFORMANT, id="only-a-must-fail-non-conformant"),
        pytest.param(
            [case("MUST", Outcome.PASS), case("SHOULD", Outcome.FAIL), case("SHOULD", Outcome.FAIL, "s2")],
            Verdict.CONFORMANT,
            id="only-should-fails-conformant",
        ),
        pytest.param([case("SHOULD", Outcome.FAIL)], Verdict.CONFORMANT, id="a-lone-should-fail-conformant"),
        pytest.param(
            [case("MUST", Outcome.PASS), case("MUST", Outcome.NOT_TESTED), case("INFO", Outcome.INFO)],
            Verdict.CONFORMANT,
            id="passes-and-not-tested-conformant",
        ),
        pytest.param(
            [case("MUST", Outcome.NOT_TESTED), case("INFO", Outcome.INFO), case("SHOULD", Outcome.NOT_TESTED)],
            Verdict.INCONCLUSIVE,
            id="only-not-tested-and-info-inconclusive",
        ),
        pytest.param([case("INFO", Outcome.INFO)], Verdict.INCONCLUSIVE, id="only-info-inconclusive"),
    ],
)
def test_compute_verdict(results: list[CaseResult], verdict: Verdict) -> None:
    assert compute_verdict(results) is verdict


@pytest.mark.parametrize(
    "results",
    [
        pytest.param([case("MUST", Outcome.FAIL)], id="over-a-must-fail"),
        pytest.param([case("MUST", Outcome.PASS)], id="over-all-passing"),
        pytest.param([], id="with-no-results"),
    ],
)
def test_an_inconclusive_reason_wins(results: list[CaseResult]) -> None:
    assert compute_verdict(results, inconclusive_reason="target unreachable") is Verdict.INCONCLUSIVE


@pytest.mark.parametrize(
    ("verdict", "code"),
    [
        pytest.param(Verdict.CONFORMANT, 0, id="conformant-0"),
        pytest.param(Verdict.NON_CONFORMANT, 1, id="non-conformant-1"),
        pytest.param(Verdict.INCONCLUSIVE, 3, id="inconclusive-3"),
    ],
)
def test_verdict_exit_code(verdict: Verdict, code: int) -> None:
    assert verdict.exit_code == code


# --- results.json -----------------------------------------------------------------------------------------


def sample_run() -> RunResults:
    results = [
        case("MUST", Outcome.PASS),
        CaseResult(
            requirement="IPSIS-NULL-003",
            level="MUST",
            family="nullability",
            outcome=Outcome.FAIL,
            case_id="IPSIS-NULL-003/1.70/full",
            route="GET /d2l/api/le/{version}/{orgUnitId}/grades/{gradeObjectId}/ipsis",
            version="1.70",
            token="full (grades:gradeobjects:read grades:gradeobjects:write)",
            cites=[CITE, {"source": "d2l-facts.md", "text": "Versions"}],
            message="Received: EndOfCourse null / Documented: bool — «non-ASCII kept»",
            evidence=[
                Evidence("GET /d2l/api/le/1.70/6606/grades/21/ipsis", 200, '{"EndOfCourse": null}'),
                Evidence("PUT /d2l/api/le/1.70/6606/grades/21/ipsis", None, "", '{"EndOfCourse": true}', "timeout"),
            ],
        ),
        case("SHOULD", Outcome.FAIL),
        case("SHOULD", Outcome.NOT_TESTED),
        case("INFO", Outcome.INFO),
        CaseResult("IPSIS-VER-001", "MUST", "versions", Outcome.PASS, "IPSIS-VER-001", None, None, None, []),
    ]
    return RunResults(
        target=TargetInfo(
            base_url="https://lms.example.edu",
            kind="live",
            latest_version="1.94",
            versions_listed=["1.61", "1.70", "1.94"],
            versions_tested=["1.70"],
            tokens=["full (grades:gradeobjects:read grades:gradeobjects:write)"],
            faults=[],
        ),
        suite_version="0.1.0",
        spec_sha256="ab" * 32,
        seed=1234,
        started="2024-05-01T10:00:00+00:00",
        finished="2024-05-01T10:02:30+00:00",
        request_count=412,
        throttled_count=3,
        verdict=Verdict.NON_CONFORMANT,
        inconclusive_reason="",
        results=results,
        restored=[
            RestoredItem("grade object 21 in org unit 6606", "1.70", {"EndOfCourse": False, "Nested": [1]}, True),
            RestoredItem("grade category 11 in org unit 6606", "1.70", {}, False, "PUT answered 500"),
        ],
        interrupted=True,
    )


def test_write_then_read_gives_an_equal_run(tmp_path: Path) -> None:
    run = sample_run()
    path = tmp_path / "report" / "results.json"  # the directory does not exist yet
    run.write(path)
    again = RunResults.read(path)

    assert again == run
    assert again.verdict is Verdict.NON_CONFORMANT
    assert [r.outcome for r in again.results] == [r.outcome for r in run.results]
    assert all(isinstance(r.outcome, Outcome) for r in again.results)
    assert again.results[1].evidence[1] == Evidence(
        "PUT /d2l/api/le/1.70/6606/grades/21/ipsis", None, "", '{"EndOfCourse": true}', "timeout"
    )


def test_written_file_is_json_with_the_documented_keys(tmp_path: Path) -> None:
    run = sample_run()
    path = tmp_path / "results.json"
    run.write(path)
    data = json.loads(path.read_text("utf-8"))

    expected = {
        "target",
        "suite_version",
        "spec_sha256",
        "seed",
        "started",
        "finished",
        "request_count",
        "verdict",
        "results",
        "restored",
        "summary",
    }
    assert expected <= data.keys()
    assert data["verdict"] == "non-conformant"
    assert data["seed"] == 1234
    assert data["request_count"] == 412
    assert data["target"]["base_url"] == "https://lms.example.edu"
    assert data["results"][1]["outcome"] == "fail"
    assert data["results"][1]["evidence"][0]["status"] == 200
    assert data["restored"][1] == {
        "resource": "grade category 11 in org unit 6606",
        "version": "1.70",
        "original": {},
        "restored": False,
        "message": "PUT answered 500",
    }
    assert data["summary"] == run.counts()
    assert "«non-ASCII kept»" in path.read_text("utf-8")  # written as UTF-8, not \u escapes


def test_write_leaves_no_tmp_file(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    sample_run().write(path)
    sample_run().write(path)  # over an existing file too
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.json"]
    assert not list(tmp_path.glob("*.tmp"))


def test_minimal_run_round_trips_with_defaults(tmp_path: Path) -> None:
    run = RunResults(
        target=TargetInfo("http://127.0.0.1:8000", "embedded", None, [], [], [], ["null-end-of-course"]),
        suite_version="0.1.0",
        spec_sha256="0" * 64,
        seed=0,
        started="2024-05-01T10:00:00+00:00",
    )
    path = tmp_path / "results.json"
    run.write(path)
    again = RunResults.read(path)
    assert again == run
    assert again.verdict is Verdict.INCONCLUSIVE
    assert (again.results, again.restored, again.interrupted) == ([], [], False)


# --- counts -----------------------------------------------------------------------------------------------


def test_counts_per_level() -> None:
    assert sample_run().counts() == {
        "MUST": {"pass": 2, "fail": 1, "not-tested": 0, "info": 0},
        "SHOULD": {"pass": 0, "fail": 1, "not-tested": 1, "info": 0},
        "INFO": {"pass": 0, "fail": 0, "not-tested": 0, "info": 1},
    }


def test_counts_of_an_empty_run_is_empty() -> None:
    run = RunResults(TargetInfo("https://x.example", "live", None, [], [], []), "0.1.0", "0" * 64, 1, "now")
    assert run.counts() == {}


def test_failures_filter_by_level() -> None:
    run = sample_run()
    assert [r.case_id for r in run.failures()] == ["IPSIS-NULL-003/1.70/full", "SHOULD/fail"]
    assert [r.case_id for r in run.failures("MUST")] == ["IPSIS-NULL-003/1.70/full"]
    assert run.failures("INFO") == []
