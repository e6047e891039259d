"""Recording a run to cassettes and replaying it offline, black-box through ``ipsis-conformance run``.

The shipped cassettes replay in process with every TCP connection refused; the other runs are
subprocesses with ``cwd`` in a temporary folder (as in tests/test_cli_run.py), so the suite's own
pytest session never nests inside this one. Recordings are made once per module and copied before
a test edits them.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_recording.network
import yaml

from conformance.cli import main
from tests.running import Finished, case_outcomes, read_results, run_cli, target_toml
from tests.serving import serve_process

pytestmark = pytest.mark.slow

CASSETTES = Path(__file__).resolve().parents[1] / "cassettes"
CASSETTE_FILE = "ipsis.yaml"
MANIFEST_FILE = "manifest.json"
RECORD_SEED = "11"
#: label -> (canary token value, scopes, environment variable that carries it to the run)
CANARIES = {
    "full": (
        "canary-FULL-7f3a9c",
        "grades:gradeobjects:read grades:gradeobjects:write ipsis:batch:upload",
        "IPSIS_CANARY_TOKEN_FULL",
    ),
    "read": ("canary-READ-1b2c3d", "grades:gradeobjects:read", "IPSIS_CANARY_TOKEN_READ"),
    "unrelated": ("canary-UNREL-9e8d7c", "users:profile:read", "IPSIS_CANARY_TOKEN_UNRELATED"),
}
SIGNATURE = re.compile(rb"X-Amz-Signature(?:=|%3D)[0-9a-fA-F]{64}", re.IGNORECASE)
CREDENTIAL = re.compile(rb"X-Amz-Credential(?:=|%3D)AKIA", re.IGNORECASE)
#: Runs of hex (signatures, uuids, request ids) and timestamps: what may differ between two runs' messages.
VOLATILE = re.compile(
    r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?|\d{8}T\d{6}Z|[0-9a-fA-F]{8,}(?:-[0-9a-fA-F]{4,})*"
)
CHANGED_WORDS = ("edited", "changed", "inconsistent", "stale")


@dataclass(frozen=True)
class Recorded:
    """One recording (``cwd/DIR``, report ``cwd/R1``) and what the recording run printed."""

    cwd: Path
    folder: Path
    report_dir: Path
    finished: Finished
    results: dict[str, Any]


def masked_messages(results: dict[str, Any]) -> list[tuple[str, str]]:
    return [(item["case_id"], VOLATILE.sub("<v>", item.get("message", ""))) for item in results["results"]]


def files_under(*folders: Path) -> list[Path]:
    return sorted(path for folder in folders for path in folder.rglob("*") if path.is_file())


def record(cwd: Path, folder: str, *args: str, env: dict[str, str] | None = None) -> Recorded:
    finished = run_cli(cwd, "--record", folder, "--report-dir", "R1", *args, env=env)
    assert (cwd / folder / CASSETTE_FILE).is_file(), finished.output[-3000:]
    assert (cwd / folder / MANIFEST_FILE).is_file(), finished.output[-3000:]
    return Recorded(cwd, cwd / folder, cwd / "R1", finished, read_results(cwd / "R1"))


def replay(folder: Path, cwd: Path, report_dir: str = "R2") -> Finished:
    return run_cli(cwd, "--replay", str(folder), "--report-dir", report_dir)


def assert_same_results(recorded: dict[str, Any], replayed: dict[str, Any]) -> None:
    assert replayed["verdict"] == recorded["verdict"]
    assert case_outcomes(replayed) == case_outcomes(recorded)
    assert masked_messages(replayed) == masked_messages(recorded)
    assert replayed["request_count"] == recorded["request_count"]
    assert replayed["seed"] == recorded["seed"]
    assert replayed["provenance"]["mode"] == "replay"
    assert recorded["provenance"]["mode"] == "record"


def assert_refused(finished: Finished, report_dir: Path) -> str:
    """Exit 2 with a message, no traceback, no pytest internal error, and no verdict written; the message."""
    assert finished.code == 2, finished.output[-3000:]
    assert "Traceback" not in finished.output, finished.output[-3000:]
    assert "INTERNALERROR" not in finished.output, finished.output[-3000:]
    assert finished.output.strip(), "exit 2 without a word"
    assert not (report_dir / "results.json").exists(), "a refused cassette must not end in a verdict"
    return finished.output


# --- the shipped cassettes, replayed in process with the network refused -------------------------


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Refuse every AF_INET/AF_INET6 connection, loopback included; the list holds the attempted addresses.

    pytest-recording's network blocking (which a replay turns on for its whole run) wraps and later restores
    the connect methods it saw at import: those are swapped for the refusing ones too, so the guard holds
    throughout.
    """
    attempts: list[object] = []

    def refusing(original: Callable[..., Any]) -> Callable[..., Any]:
        def guard(self: socket.socket, address: Any, *args: Any, **kwargs: Any) -> Any:
            if self.family in (socket.AF_INET, socket.AF_INET6):
                attempts.append(address)
                raise OSError(f"network refused by the test: {address!r}")
            return original(self, address, *args, **kwargs)

        return guard

    connect = refusing(socket.socket.connect)
    connect_ex = refusing(socket.socket.connect_ex)
    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(pytest_recording.network, "_original_connect", connect)
    monkeypatch.setattr(pytest_recording.network, "_original_connect_ex", connect_ex)
    return attempts


def replay_in_process(folder: Path, report_dir: Path, capsys: pytest.CaptureFixture[str]) -> Finished:
    code = main(["run", "--replay", str(folder), "--report-dir", str(report_dir)])
    captured = capsys.readouterr()
    return Finished(code, captured.out, captured.err)


def test_shipped_reference_cassette_replays_conformant_offline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_network: list[object]
) -> None:
    finished = replay_in_process(CASSETTES / "reference", tmp_path / "R", capsys)
    assert no_network == [], f"the replay tried to connect to {no_network}"
    assert finished.code == 0, finished.output[-3000:]
    results = read_results(tmp_path / "R")
    assert results["verdict"] == "conformant"
    assert results["provenance"]["mode"] == "replay"
    assert results["results"]
    assert "Traceback" not in finished.output


def test_shipped_null_end_of_course_cassette_replays_non_conformant_offline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_network: list[object]
) -> None:
    finished = replay_in_process(CASSETTES / "reference-null-end-of-course", tmp_path / "R", capsys)
    assert no_network == [], f"the replay tried to connect to {no_network}"
    assert finished.code == 1, finished.output[-3000:]
    results = read_results(tmp_path / "R")
    assert results["verdict"] == "non-conformant"
    assert results["provenance"]["mode"] == "replay"
    outcomes = {
        item["outcome"] for item in results["results"] if item["requirement"] == "field.GradeObjectDetails.EndOfCourse"
    }
    assert "fail" in outcomes, outcomes


@pytest.mark.parametrize("name", ["reference", "reference-null-end-of-course"])
def test_shipped_cassettes_pin_the_generators_they_were_recorded_with(name: str) -> None:
    """tox.ini installs cassettes/reference/constraints.txt as requirements, so the shipped cassettes replay in CI."""
    manifest = json.loads((CASSETTES / name / MANIFEST_FILE).read_text("utf-8"))
    pins = [line for line in (CASSETTES / name / "constraints.txt").read_text("utf-8").splitlines()
            if line and not line.startswith("#")]  # fmt: skip
    assert pins == [f"{library}=={version}" for library, version in manifest["generator"].items()]
    assert "-r{toxinidir}/cassettes/reference/constraints.txt" in (CASSETTES.parent / "tox.ini").read_text("utf-8")


def test_a_suite_that_changed_since_the_recording_makes_the_replay_stale(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_network: list[object], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A check that now sends another body than the recording holds: stale, exit 2, never a verdict."""
    import conformance.suite.checks.scopes as scope_checks

    monkeypatch.setattr(scope_checks, "PROBE_FILE_NAME", "D2LStdCSV-20991231000000.zip")
    finished = replay_in_process(CASSETTES / "reference", tmp_path / "R", capsys)
    assert no_network == [], f"the replay tried to connect to {no_network}"
    assert finished.code == 2, finished.output[-3000:]
    assert "stale cassette" in finished.output and "re-record it: ipsis-conformance run --record" in finished.output
    assert "POST /d2l/api/le/" in finished.output, "the message names the request the cassette lacks"
    assert not (tmp_path / "R" / "results.json").exists()


# --- round trip: record the embedded LMS, replay it ----------------------------------------------


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Recorded:
    """The embedded, faithful reference LMS recorded with seed 11 (shared: copy before editing)."""
    return record(tmp_path_factory.mktemp("recorded"), "DIR", "--seed", RECORD_SEED)


def test_a_recording_names_its_generators_as_pip_constraints(recorded: Recorded) -> None:
    manifest = json.loads((recorded.folder / MANIFEST_FILE).read_text("utf-8"))
    constraints = (recorded.folder / "constraints.txt").read_text("utf-8")
    assert set(manifest["generator"]) == {"hypothesis", "schemathesis"}
    for library, version in manifest["generator"].items():
        assert f"{library}=={version}\n" in constraints


def test_recording_the_embedded_lms_is_conformant(recorded: Recorded) -> None:
    assert recorded.finished.code == 0, recorded.finished.output[-3000:]
    assert recorded.results["verdict"] == "conformant"
    assert recorded.results["provenance"]["mode"] == "record"
    manifest = json.loads((recorded.folder / MANIFEST_FILE).read_text("utf-8"))
    assert manifest["seed"] == int(RECORD_SEED)
    assert manifest["kind"] == "embedded"


def test_replay_reaches_the_recordings_verdict_and_results(recorded: Recorded) -> None:
    finished = replay(recorded.folder, recorded.cwd)
    assert finished.code == recorded.finished.code, finished.output[-3000:]
    assert "Traceback" not in finished.output
    assert_same_results(recorded.results, read_results(recorded.cwd / "R2"))


def test_recording_with_a_must_fault_replays_non_conformant(tmp_path: Path) -> None:
    faulty = record(tmp_path, "DIR", "--seed", RECORD_SEED, "--fault", "null-end-of-course")
    assert faulty.finished.code == 1, faulty.finished.output[-3000:]
    finished = replay(faulty.folder, tmp_path)
    assert finished.code == 1, finished.output[-3000:]
    replayed = read_results(tmp_path / "R2")
    assert_same_results(faulty.results, replayed)
    failed = {item["requirement"] for item in replayed["results"] if item["outcome"] == "fail"}
    assert "field.GradeObjectDetails.EndOfCourse" in failed


# --- a live target: no secret is written anywhere -------------------------------------------------


def tokens_toml() -> str:
    lines = []
    for label, (value, scopes, _) in CANARIES.items():
        lines += ["[[tokens]]", f'label = "{label}"', f'value = "{value}"', f'scopes = "{scopes}"', ""]
    return "\n".join(lines)


def canary_toml(base_url: str) -> str:
    return target_toml(base_url, {label: (scopes, variable) for label, (_, scopes, variable) in CANARIES.items()})


def test_recording_a_live_target_writes_no_secret_and_replays(tmp_path: Path) -> None:
    (tmp_path / "tokens.toml").write_text(tokens_toml(), "utf-8")
    env = {variable: value for value, _, variable in CANARIES.values()}
    with serve_process("--tokens", str(tmp_path / "tokens.toml")) as served:
        (tmp_path / "target.toml").write_text(canary_toml(served.base_url), "utf-8")
        live = run_cli(
            tmp_path,
            "--config",
            "target.toml",
            "--seed",
            "7",
            "--record",
            "DIR",
            "--report-dir",
            "R",
            "--junitxml",
            "R/junit.xml",
            "-v",
            env=env,
        )
    assert live.code in (0, 1), live.output[-3000:]
    folder, report_dir = tmp_path / "DIR", tmp_path / "R"
    replayed = replay(folder, tmp_path)
    assert replayed.code == live.code, replayed.output[-3000:]
    assert_same_results(read_results(report_dir), read_results(tmp_path / "R2"))

    written = files_under(folder, report_dir, tmp_path / "R2")
    assert {path.name for path in written} >= {CASSETTE_FILE, MANIFEST_FILE, "results.json", "junit.xml"}
    for label, (value, _, _) in CANARIES.items():
        for run, finished in (("recording", live), ("replay", replayed)):
            assert value not in finished.stdout, f"token {label} printed on stdout by the {run}"
            assert value not in finished.stderr, f"token {label} printed on stderr by the {run}"
        for path in written:
            content = path.read_bytes()
            assert value.encode() not in content, f"token {label} written to {path.relative_to(tmp_path)}"
            assert value.lower().encode() not in content.lower(), f"token {label} (any case) in {path.name}"

    cassette_files = files_under(folder)
    assert any(b"X-Amz-Signature" in path.read_bytes() for path in cassette_files), "no signed URL was recorded"
    for path in cassette_files:
        content = path.read_bytes()
        assert not SIGNATURE.search(content), f"a signed-URL signature in {path.name}"
        assert not CREDENTIAL.search(content), f"a signed-URL access key in {path.name}"


# --- --scrub-host ---------------------------------------------------------------------------------


def test_scrub_host_leaves_no_address_and_replays(tmp_path: Path) -> None:
    scrubbed = record(tmp_path, "DIR", "--seed", RECORD_SEED, "--scrub-host")
    assert scrubbed.finished.code == 0, scrubbed.finished.output[-3000:]
    written = files_under(scrubbed.folder)
    for path in written:
        assert b"127.0.0.1" not in path.read_bytes(), f"the host is in {path.name}"
    assert b"lms.invalid" in (scrubbed.folder / CASSETTE_FILE).read_bytes()
    finished = replay(scrubbed.folder, tmp_path)
    assert finished.code == 0, finished.output[-3000:]
    replayed = read_results(tmp_path / "R2")
    assert_same_results(scrubbed.results, replayed)
    assert replayed["provenance"]["host_scrubbed"] is True


# --- broken, edited or stale cassettes: exit 2, a message, no traceback ---------------------------


def prose(output: str, folder: Path) -> str:
    """The message in lower case without the folder's path and file names, whose words prove nothing
    (the temporary folder is named after the test, which says "cassette")."""
    for name in (str(folder), CASSETTE_FILE, MANIFEST_FILE):
        output = output.replace(name, "<path>")
    return output.lower()


def edit_manifest(folder: Path, change: Callable[[dict[str, Any]], None]) -> None:
    """Load the manifest, change it, dump it back: keys this test does not know are kept."""
    path = folder / MANIFEST_FILE
    manifest = json.loads(path.read_text("utf-8"))
    change(manifest)
    path.write_text(json.dumps(manifest, indent=2) + "\n", "utf-8")


def edit_cassette(folder: Path, change: Callable[[dict[str, Any]], None]) -> None:
    """Load the cassette with the safe loader, change it, dump it back with the safe dumper."""
    path = folder / CASSETTE_FILE
    data = yaml.safe_load(path.read_text("utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data), "utf-8")


def truncate_cassette(folder: Path) -> None:
    path = folder / CASSETTE_FILE
    content = path.read_bytes()
    path.write_bytes(content[: len(content) // 2])


def write_cassette(text: str) -> Callable[[Path], None]:
    def write(folder: Path) -> None:
        (folder / CASSETTE_FILE).write_text(text, "utf-8")

    return write


def python_tag_cassette(folder: Path) -> None:
    """A YAML tag that a non-safe loader would execute: it would create ``pwned`` next to the folder."""
    pwned = folder.parent / "pwned"
    (folder / CASSETTE_FILE).write_text(
        f'interactions: !!python/object/apply:os.system ["touch {pwned}"]\nversion: 1\n', "utf-8"
    )


def delete(name: str) -> Callable[[Path], None]:
    def remove(folder: Path) -> None:
        (folder / name).unlink()

    return remove


def write_manifest(text: str) -> Callable[[Path], None]:
    def write(folder: Path) -> None:
        (folder / MANIFEST_FILE).write_text(text, "utf-8")

    return write


def change_body(data: dict[str, Any]) -> None:
    body = data["interactions"][5]["response"]["body"]
    edited = '{"Edited": "by hand"}'
    assert body["string"] != edited
    body["string"] = edited


def swap_interactions(data: dict[str, Any]) -> None:
    interactions = data["interactions"]
    assert interactions[0]["request"] != interactions[1]["request"], "swapping equal requests changes nothing"
    interactions[0], interactions[1] = interactions[1], interactions[0]


def drop_last_interaction(data: dict[str, Any]) -> None:
    del data["interactions"][-1]


def drop_body(data: dict[str, Any]) -> None:
    del data["interactions"][5]["response"]["body"]


def break_headers(data: dict[str, Any]) -> None:
    data["interactions"][5]["response"]["headers"] = "oops"


def set_key(path: tuple[str, ...], value: object) -> Callable[[dict[str, Any]], None]:
    def change(manifest: dict[str, Any]) -> None:
        node = manifest
        for key in path[:-1]:
            assert isinstance(node.get(key), dict), f"the manifest has no {'.'.join(path[:-1])} object: {manifest}"
            node = node[key]
        assert path[-1] in node, f"the manifest has no {'.'.join(path)}: {manifest}"
        node[path[-1]] = value(node[path[-1]]) if callable(value) else value

    return change


def in_manifest(change: Callable[[dict[str, Any]], None]) -> Callable[[Path], None]:
    return lambda folder: edit_manifest(folder, change)


def in_cassette(change: Callable[[dict[str, Any]], None]) -> Callable[[Path], None]:
    return lambda folder: edit_cassette(folder, change)


@pytest.fixture
def copied(recorded: Recorded, tmp_path: Path) -> Path:
    """A copy of the shared recording, to break."""
    assert recorded.finished.code == 0, recorded.finished.output[-3000:]
    folder = tmp_path / "DIR"
    shutil.copytree(recorded.folder, folder)
    return folder


@pytest.mark.parametrize(
    ("breakage", "expected"),
    [
        pytest.param(truncate_cassette, (), id="a-yaml-truncated"),
        pytest.param(write_cassette("not: [valid"), ("yaml",), id="b-invalid-yaml"),
        pytest.param(python_tag_cassette, (), id="c-python-tag"),
        pytest.param(write_cassette("hello: world\n"), ("vcr",), id="d-yaml-not-vcr"),
        pytest.param(delete(CASSETTE_FILE), (CASSETTE_FILE, "missing"), id="e-no-cassette"),
        pytest.param(delete(MANIFEST_FILE), (MANIFEST_FILE, "missing"), id="f-no-manifest"),
        pytest.param(write_manifest("{not json"), (MANIFEST_FILE, "json"), id="g-manifest-not-json"),
        pytest.param(in_cassette(change_body), ("edited",), id="h-body-hand-edited"),
        pytest.param(in_cassette(swap_interactions), ("edited",), id="i-interactions-swapped"),
        pytest.param(in_cassette(drop_last_interaction), ("edited",), id="j-last-interaction-deleted"),
        pytest.param(in_cassette(drop_body), ("edited",), id="k-response-without-body"),
        pytest.param(in_cassette(break_headers), ("edited",), id="l-headers-a-string"),
        pytest.param(in_manifest(set_key(("seed",), lambda seed: seed + 1)), ("edited",), id="m-seed-changed"),
        pytest.param(in_manifest(set_key(("seed",), "abc")), ("seed",), id="n-seed-not-int"),
        pytest.param(in_manifest(set_key(("limits", "max_requests"), "lots")), ("max_requests",), id="o-limit-not-int"),
        pytest.param(in_manifest(set_key(("spec_sha256",), "0" * 64)), ("stale",), id="p-spec-sha256-changed"),
    ],
)
def test_broken_cassette_exits_2_naming_the_problem(
    copied: Path, breakage: Callable[[Path], None], expected: tuple[str, ...]
) -> None:
    """``expected``: "stale" means stale and re-record; "edited" means the cassette was changed or is inconsistent;
    a file name must appear in the message; any other word must appear in its prose (case-insensitive)."""
    breakage(copied)
    finished = replay(copied, copied.parent)
    output = assert_refused(finished, copied.parent / "R2")
    message = prose(output, copied)
    assert not (copied.parent / "pwned").exists(), "a YAML tag in the cassette was executed"
    for text in expected:
        if text == "stale":
            assert "stale" in message and "re-record" in message, output[-2000:]
        elif text == "edited":
            assert "cassette" in message, output[-2000:]
            assert any(word in message for word in CHANGED_WORDS), output[-2000:]
        elif text in (CASSETTE_FILE, MANIFEST_FILE):
            assert text in output, output[-2000:]
        else:
            assert text.lower() in message, output[-2000:]


def test_other_hypothesis_version_exits_2_saying_what_to_install(copied: Path) -> None:
    edit_manifest(copied, set_key(("generator", "hypothesis"), "0.0.1"))
    output = assert_refused(replay(copied, copied.parent), copied.parent / "R2")
    message = prose(output, copied)
    assert "hypothesis" in message, output[-2000:]
    assert "0.0.1" in message, output[-2000:]
    assert "pip install" in message, output[-2000:]


# --- --replay takes no target options -------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        pytest.param(("--config", "target.toml"), "--config", id="config"),
        pytest.param(("--fault", "null-end-of-course"), "--fault", id="fault"),
        pytest.param(("--record", "ELSEWHERE"), "--record", id="record"),
    ],
)
def test_replay_with_a_target_option_exits_2(tmp_path: Path, extra: tuple[str, ...], expected: str) -> None:
    (tmp_path / "target.toml").write_text(canary_toml("http://127.0.0.1:1"), "utf-8")
    finished = run_cli(tmp_path, "--replay", str(CASSETTES / "reference"), *extra, "--report-dir", "R")
    assert finished.code == 2, finished.output
    assert "Traceback" not in finished.output
    lines = finished.stderr.strip().splitlines()
    assert len(lines) == 1, finished.stderr
    assert lines[0].startswith("ipsis-conformance: error: "), lines[0]
    assert expected in lines[0]
    assert not (tmp_path / "R").exists()
    assert not (tmp_path / "ELSEWHERE").exists()


# --- what a recording keeps of a token, and when it writes no manifest ----------------------------


@pytest.mark.parametrize(
    ("header", "scrubbed"),
    [
        pytest.param("Bearer canary-FULL-7f3a9c", "Bearer [token:full]", id="known-token-keeps-its-label"),
        pytest.param("Bearer someone-elses-token", "Bearer [REDACTED]", id="unknown-value-redacted"),
        pytest.param("canary-FULL-7f3a9c", "[REDACTED]", id="no-scheme-all-redacted"),
        pytest.param("Bearer [token:full]", "Bearer [token:full]", id="scrubbing-twice-changes-nothing"),
    ],
)
def test_authorization_header_keeps_only_the_token_label(header: str, scrubbed: str) -> None:
    from conformance.recording import Scrubber
    from conformance.target import TokenSpec

    scrubber = Scrubber([TokenSpec("full", "grades:gradeobjects:read", "canary-FULL-7f3a9c")], None)
    assert scrubber.authorization(header) == scrubbed


def test_a_recording_cut_short_writes_no_manifest_and_says_why(tmp_path: Path) -> None:
    """-x stops the run early: a replay could not repeat it, so it is not offered as one."""
    finished = run_cli(tmp_path, "--seed", RECORD_SEED, "--record", "DIR", "--report-dir", "R1", "-x",
                       "--fault", "drop-deprecated")  # fmt: skip
    assert finished.code == 3, finished.output[-3000:]
    assert not (tmp_path / "DIR" / MANIFEST_FILE).exists()
    assert "no manifest was written" in finished.output
    refused = replay(tmp_path / "DIR", tmp_path)
    assert refused.code == 2 and MANIFEST_FILE in refused.output and "Traceback" not in refused.output
