"""``ipsis-conformance run`` as a real process: verdicts and exit codes, results.json, pytest selection,
the live-target path (and that no token value leaks), config errors, and the bare pytest entry point.

Every run is a subprocess with ``cwd=tmp_path`` so that the suite's own pytest session never nests inside
this one.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from conformance.reference import DEFAULT_TOKEN_PROFILES, FAULTS
from tests.running import RUN_TIMEOUT, Finished, case_outcomes, read_results, run_cli, run_python, target_toml
from tests.serving import serve_process

pytestmark = pytest.mark.slow

RESULT_KEYS = {"requirement", "level", "outcome", "route", "version", "token", "cites", "evidence"}
SCOPES = dict(DEFAULT_TOKEN_PROFILES)
#: What the audit planners (run last, over every answer seen) check.
AUDIT_REQUIREMENTS = {
    "status.no-server-error",
    "status.documented",
    "status.documented.same-set",
    "status.content-type-json",
    "rate.headers",
    "rate.retry-after",
}
LIVE_TOKENS = ("full", "read", "unrelated")  # labels of the served tokens given to the live run


def failures(results: dict[str, Any]) -> list[dict[str, Any]]:
    return [item for item in results["results"] if item["outcome"] == "fail"]


def closed_port() -> int:
    """A port that was free a moment ago and that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def live_toml(base_url: str, variables: dict[str, str]) -> str:
    """A target.toml for the seeded reference LMS; ``variables`` maps a served token's label -> variable."""
    return target_toml(base_url, {label: (SCOPES[label], variable) for label, variable in variables.items()})


def assert_usage_error(finished: Finished, *expected: str) -> str:
    """Exit 2 with one message line on stderr holding every ``expected`` text, and no traceback."""
    assert finished.code == 2, finished.output
    assert "Traceback" not in finished.output
    lines = finished.stderr.strip().splitlines()
    assert len(lines) == 1, finished.stderr
    message = lines[0]
    assert message.startswith("ipsis-conformance: error: "), message
    for text in expected:
        assert text in message
    return message


# --- the embedded target ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seed_1_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Finished, dict[str, Any]]:
    """One default run (embedded, faithful) with seed 1, shared by the tests that only read it."""
    cwd = tmp_path_factory.mktemp("seed-1")
    finished = run_cli(cwd, "--seed", "1", "--report-dir", "R")
    return finished, read_results(cwd / "R")


def test_default_run_is_conformant_against_the_embedded_lms(seed_1_run: tuple[Finished, dict[str, Any]]) -> None:
    finished, results = seed_1_run
    assert finished.code == 0, finished.output
    assert results["verdict"] == "conformant"
    assert results["target"]["kind"] == "embedded"
    assert results["target"]["faults"] == []
    assert results["seed"] == 1
    assert 0 < results["request_count"] < 1000
    assert results["inconclusive_reason"] == ""
    assert results["interrupted"] is False
    assert failures(results) == []
    assert results["results"], "a run with no case judged nothing"
    for item in results["results"]:
        assert item.keys() >= RESULT_KEYS, item["case_id"]
        assert item["level"] in {"MUST", "SHOULD", "INFO"}
        assert item["outcome"] in {"pass", "not-tested", "info"}
    assert "Verdict: CONFORMANT" in finished.stdout
    assert "Traceback" not in finished.output


def test_default_run_covers_every_family_and_restores_what_it_changed(
    seed_1_run: tuple[Finished, dict[str, Any]],
) -> None:
    _, results = seed_1_run
    families = {item["family"] for item in results["results"]}
    assert families == {"nullability", "versions", "scopes", "schema", "state", "signed-url", "rate-limit"}
    assert {item["level"] for item in results["results"]} == {"MUST", "SHOULD", "INFO"}
    assert sum(item["outcome"] == "pass" for item in results["results"]) > 200
    assert results["restored"], "the state checks change fixtures, so something must have been restored"
    assert all(item["restored"] for item in results["restored"])
    summary_total = sum(sum(row.values()) for row in results["summary"].values())
    assert summary_total == len(results["results"])


def test_must_fault_makes_the_run_non_conformant(tmp_path: Path) -> None:
    assert FAULTS["serve-obsolete"].breaks == "version.obsolete-not-served"
    finished = run_cli(tmp_path, "--seed", "1", "--report-dir", "R", "--fault", "serve-obsolete")
    assert finished.code == 1, finished.output
    results = read_results(tmp_path / "R")
    assert results["verdict"] == "non-conformant"
    assert results["target"]["faults"] == ["serve-obsolete"]
    failed = failures(results)
    assert failed, "the fault must fail something"
    assert {item["requirement"] for item in failed} == {"version.obsolete-not-served"}
    assert {item["level"] for item in failed} == {"MUST"}
    assert "Verdict: NON-CONFORMANT" in finished.stdout
    assert "version.obsolete-not-served/" in finished.stdout


def test_should_fault_is_recorded_but_the_run_stays_conformant(tmp_path: Path) -> None:
    assert FAULTS["http-signed-url"].breaks == "signed-url.https"
    finished = run_cli(tmp_path, "--seed", "1", "--report-dir", "R", "--fault", "http-signed-url")
    assert finished.code == 0, finished.output
    results = read_results(tmp_path / "R")
    assert results["verdict"] == "conformant"
    failed = failures(results)
    assert [(item["requirement"], item["level"]) for item in failed] == [("signed-url.https", "SHOULD")]
    assert "https" in failed[0]["message"]
    assert results["summary"]["SHOULD"]["fail"] == 1
    assert results["summary"]["MUST"]["fail"] == 0
    assert "Verdict: CONFORMANT" in finished.stdout


# --- pytest selection and JUnit ----------------------------------------------------------------


def test_marker_expression_selects_one_family_and_level_and_junit_has_one_testcase_per_case(
    tmp_path: Path, seed_1_run: tuple[Finished, dict[str, Any]]
) -> None:
    finished = run_cli(tmp_path, "--seed", "1", "--report-dir", "R", "-m", "versions and must", "--junitxml", "J.xml")
    assert finished.code == 0, finished.output
    results = read_results(tmp_path / "R")
    assert results["verdict"] == "conformant"
    selected = results["results"]
    assert selected
    assert {(item["family"], item["level"]) for item in selected} == {("versions", "MUST")}
    # Exactly the versions/MUST cases of a full run with the same seed: nothing missing, no audit extra.
    _, full = seed_1_run
    expected = [item["case_id"] for item in full["results"] if (item["family"], item["level"]) == ("versions", "MUST")]
    assert [item["case_id"] for item in selected] == expected
    assert results["request_count"] < full["request_count"]

    testcases = ET.parse(tmp_path / "J.xml").getroot().findall(".//testcase")
    assert len(testcases) == len(selected)
    assert all(case.find("skipped") is None and case.find("failure") is None for case in testcases)
    names = {case.get("name") for case in testcases}
    assert names == {f"test_requirement[{item['case_id']}]" for item in selected}


def test_audit_marker_selects_the_audit_cases(tmp_path: Path, seed_1_run: tuple[Finished, dict[str, Any]]) -> None:
    """The plugin registers an ``audit`` marker ("audits of every answer seen in the run"): it must select them."""
    _, full = seed_1_run
    audits = [item["case_id"] for item in full["results"] if item["requirement"] in AUDIT_REQUIREMENTS]
    assert {case_id.split("/")[0] for case_id in audits} == AUDIT_REQUIREMENTS
    finished = run_cli(tmp_path, "--seed", "1", "--report-dir", "R", "-m", "audit")
    assert finished.code != 2, finished.output
    results = read_results(tmp_path / "R")
    assert [item["case_id"] for item in results["results"]] == audits, finished.stdout[-2000:]


def test_keyword_expression_narrows_to_matching_case_ids(tmp_path: Path) -> None:
    finished = run_cli(tmp_path, "--seed", "1", "--report-dir", "R", "-k", "obsolete-not-served")
    assert finished.code == 0, finished.output
    results = read_results(tmp_path / "R")
    ids = [item["case_id"] for item in results["results"]]
    assert ids
    assert all("obsolete-not-served" in case_id for case_id in ids)
    assert {item["requirement"] for item in results["results"]} == {"version.obsolete-not-served"}
    assert results["verdict"] == "conformant"


def test_keyword_selection_still_catches_the_fault_it_selects(tmp_path: Path) -> None:
    finished = run_cli(
        tmp_path, "--seed", "1", "--report-dir", "R", "-k", "obsolete-not-served", "--fault", "serve-obsolete"
    )
    assert finished.code == 1, finished.output
    results = read_results(tmp_path / "R")
    assert results["verdict"] == "non-conformant"
    assert {item["requirement"] for item in results["results"]} == {"version.obsolete-not-served"}
    assert all(item["outcome"] == "fail" for item in results["results"])


def test_keyword_matching_no_case_is_inconclusive_and_says_why(tmp_path: Path) -> None:
    finished = run_cli(tmp_path, "--seed", "1", "--report-dir", "R", "-k", "no-such-requirement")
    assert finished.code == 3, finished.output
    results = read_results(tmp_path / "R")
    assert results["verdict"] == "inconclusive"
    assert "no case was selected" in results["inconclusive_reason"]


def test_exitfirst_on_a_should_failure_is_inconclusive_not_conformant(tmp_path: Path) -> None:
    """-x stops at a SHOULD failure: what did not run was not judged, so the run cannot be conformant."""
    finished = run_cli(tmp_path, "--seed", "1", "--report-dir", "R", "-x", "--fault", "drop-deprecated")
    assert finished.code == 3, finished.output
    results = read_results(tmp_path / "R")
    assert results["verdict"] == "inconclusive"
    assert "stopped at the first failure (-x)" in results["inconclusive_reason"]
    assert [item["requirement"] for item in failures(results)] == ["version.deprecated-served"]


def test_exitfirst_on_a_must_failure_is_non_conformant(tmp_path: Path) -> None:
    finished = run_cli(tmp_path, "--seed", "1", "--report-dir", "R", "-x", "--fault", "null-end-of-course")
    assert finished.code == 1, finished.output
    results = read_results(tmp_path / "R")
    assert results["verdict"] == "non-conformant"
    assert [item["level"] for item in failures(results)] == ["MUST"]


def test_same_seed_twice_gives_the_same_run(tmp_path: Path, seed_1_run: tuple[Finished, dict[str, Any]]) -> None:
    finished = run_cli(tmp_path, "--seed", "1", "--report-dir", "R")
    assert finished.code == 0, finished.output
    again = read_results(tmp_path / "R")
    _, first = seed_1_run
    assert case_outcomes(again) == case_outcomes(first)
    assert again["request_count"] == first["request_count"]
    assert again["seed"] == first["seed"] == 1


# --- a live target (the reference LMS served by another process) ---------------------------------


@pytest.mark.parametrize(
    ("serve_args", "run_args", "expected_code", "expected_verdict"),
    [
        pytest.param((), (), 0, "conformant", id="faithful-whole-suite"),
        # Failures carry messages and evidence about tokens: they must not carry the tokens.
        pytest.param(("--fault", "read-scope-ignored"), ("-m", "scopes"), 1, "non-conformant", id="scope-fault"),
    ],
)
def test_live_target_from_config_and_no_token_value_leaks(
    tmp_path: Path, serve_args: tuple[str, ...], run_args: tuple[str, ...], expected_code: int, expected_verdict: str
) -> None:
    with serve_process(*serve_args) as served:
        secrets = {label: served.tokens[label] for label in LIVE_TOKENS}
        variables = {label: f"IPSIS_TEST_TOKEN_{label.upper()}" for label in LIVE_TOKENS}
        (tmp_path / "target.toml").write_text(live_toml(served.base_url, variables), "utf-8")
        env = {variables[label]: secret for label, secret in secrets.items()}
        report_dir = tmp_path / "R"
        finished = run_cli(
            tmp_path,
            "--config",
            "target.toml",
            "--report-dir",
            "R",
            "--seed",
            "5",
            "-v",
            "--junitxml",
            str(report_dir / "junit.xml"),
            *run_args,
            env=env,
        )
    assert finished.code == expected_code, finished.output
    results = read_results(report_dir)
    assert results["verdict"] == expected_verdict
    assert results["target"]["kind"] == "live"
    assert results["target"]["base_url"] == served.base_url
    assert results["target"]["faults"] == []
    assert results["target"]["tokens"] == [f"{label} ({SCOPES[label]})" for label in LIVE_TOKENS]
    full_token = f"full ({SCOPES['full']})"
    assert any(item["token"] == full_token and item["outcome"] == "pass" for item in results["results"])
    if expected_verdict == "non-conformant":
        assert any(item["level"] == "MUST" and item["family"] == "scopes" for item in failures(results))

    # Secrets: no token value in what the run printed, nor in any file it wrote.
    assert all(len(secret) >= 8 for secret in secrets.values())
    for label, secret in secrets.items():
        assert secret not in finished.stdout, f"token {label} printed on stdout"
        assert secret not in finished.stderr, f"token {label} printed on stderr"
    written = [path for path in report_dir.rglob("*") if path.is_file()]
    assert {path.name for path in written} >= {"results.json", "junit.xml"}
    for path in written:
        content = path.read_bytes().decode("utf-8", errors="replace")
        for label, secret in secrets.items():
            assert secret not in content, f"token {label} written to {path.relative_to(tmp_path)}"


def test_unreachable_target_is_inconclusive(tmp_path: Path) -> None:
    base_url = f"http://127.0.0.1:{closed_port()}"
    (tmp_path / "target.toml").write_text(live_toml(base_url, {"read": "IPSIS_TEST_TOKEN_READ"}), "utf-8")
    finished = run_cli(
        tmp_path, "--config", "target.toml", "--report-dir", "R", env={"IPSIS_TEST_TOKEN_READ": "unreachable-token-1"}
    )
    assert finished.code == 3, finished.output
    results = read_results(tmp_path / "R")
    assert results["verdict"] == "inconclusive"
    assert "unreachable" in results["inconclusive_reason"]
    assert results["target"]["kind"] == "live"
    assert results["results"] == []
    assert "Verdict: INCONCLUSIVE" in finished.stdout
    assert "Traceback" not in finished.output


# --- usage and config errors --------------------------------------------------------------------

VALID_IDS = "[ids]\norg_unit = 6606\ngrade_category = 11\ngrade_object = 21\nsource_system = 5\n"
VALID_TOKEN = '[[tokens]]\nscopes = "grades:gradeobjects:read"\nvalue = "inline-token-1"\n'


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param(None, ("target.toml", "no such file"), id="missing-file"),
        pytest.param('base_url = "http://127.0.0.1:1\n', ("target.toml", "not valid TOML"), id="invalid-toml"),
        pytest.param(
            f'base_url = "http://127.0.0.1:1"\nbogus = 1\n{VALID_IDS}{VALID_TOKEN}',
            ("target.toml", "unknown key bogus"),
            id="unknown-key",
        ),
        pytest.param(
            f'base_url = "http://127.0.0.1:1"\n{VALID_IDS}[[tokens]]\nscopes = "grades:gradeobjects:read"\n'
            'env = "IPSIS_TEST_SURELY_UNSET_VARIABLE"\n',
            ("target.toml", "IPSIS_TEST_SURELY_UNSET_VARIABLE", "not set"),
            id="unset-env-variable",
        ),
    ],
)
def test_config_errors_exit_2_with_one_line(tmp_path: Path, content: str | None, expected: tuple[str, ...]) -> None:
    if content is not None:
        (tmp_path / "target.toml").write_text(content, "utf-8")
    env_without = {k: v for k, v in os.environ.items() if k != "IPSIS_TEST_SURELY_UNSET_VARIABLE"}
    done = subprocess.run(
        [sys.executable, "-m", "conformance", "run", "--config", "target.toml", "--report-dir", "R"],
        cwd=tmp_path,
        env=env_without,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )
    assert_usage_error(Finished(done.returncode, done.stdout, done.stderr), *expected)
    assert not (tmp_path / "R" / "results.json").exists()


def test_embedded_only_option_with_config_exits_2(tmp_path: Path) -> None:
    (tmp_path / "target.toml").write_text(f'base_url = "http://127.0.0.1:1"\n{VALID_IDS}{VALID_TOKEN}', "utf-8")
    finished = run_cli(tmp_path, "--config", "target.toml", "--fault", "serve-obsolete", "--report-dir", "R")
    assert_usage_error(finished, "--fault", "embedded reference LMS only")
    assert not (tmp_path / "R").exists()


def test_unknown_fault_exits_2_listing_the_allowed_ones(tmp_path: Path) -> None:
    finished = run_cli(tmp_path, "--fault", "nope", "--report-dir", "R")
    message = assert_usage_error(finished, "nope")
    for name in FAULTS:
        assert name in message
    assert not (tmp_path / "R").exists()


def test_report_dir_that_is_a_regular_file_exits_2(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("not a directory\n", "utf-8")
    finished = run_cli(tmp_path, "--report-dir", "taken")
    assert_usage_error(finished, "--report-dir", "taken", "not a directory")
    assert (tmp_path / "taken").read_text("utf-8") == "not a directory\n"


# --- the documented pytest entry point ----------------------------------------------------------


def bare_pytest(report_dir: str, *extra: str) -> list[str]:
    return [
        "-m",
        "pytest",
        "-p",
        "conformance.suite.plugin",
        "--pyargs",
        "conformance.suite",
        "-q",
        "-p",
        "no:cacheprovider",
        "--ipsis-report-dir",
        report_dir,
        "--ipsis-seed",
        "3",
        *extra,
    ]


def test_pytest_entry_point_runs_the_suite(tmp_path: Path) -> None:
    finished = run_python(tmp_path, bare_pytest("R"))
    assert finished.code == 0, finished.output
    results = read_results(tmp_path / "R")
    assert results["verdict"] == "conformant"
    assert results["seed"] == 3
    assert results["target"]["kind"] == "embedded"
    assert "Verdict: CONFORMANT" in finished.stdout


def test_pytest_entry_point_with_a_must_fault_exits_1(tmp_path: Path) -> None:
    finished = run_python(tmp_path, bare_pytest("R", "--ipsis-fault", "serve-obsolete", "-k", "obsolete-not-served"))
    assert finished.code == 1, finished.output
    results = read_results(tmp_path / "R")
    assert results["verdict"] == "non-conformant"
    assert {item["requirement"] for item in results["results"]} == {"version.obsolete-not-served"}
    assert {item["outcome"] for item in results["results"]} == {"fail"}
    assert "Verdict: NON-CONFORMANT" in finished.stdout
