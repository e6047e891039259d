"""The pytest face of the suite: one test item per requirement x version x token case.

Load it with ``pytest -p conformance.suite.plugin --pyargs conformance.suite`` (what ``run`` does).
Users keep pytest's habits: ``-k``, markers per family and level (``-m "scopes and must"``), ``-x``,
``--junitxml``. The session's exit status is the verdict's: 0 conformant, 1 non-conformant,
3 inconclusive; a bad config is a pytest usage error.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from conformance import __version__
from conformance.contract import load_contract
from conformance.embedded import EmbeddedOptions, embedded_target
from conformance.http import UnrecordedRequestError
from conformance.recording import (
    CassetteError,
    Recording,
    check_replayable,
    manifest_for,
    read_manifest,
    recording,
    replaying,
    stale,
    target_from_manifest,
)
from conformance.reference import UnknownFaultError, resolve_faults
from conformance.report import render_summary
from conformance.results import Outcome, RunResults, must_failed
from conformance.suite.cases import Case
from conformance.suite.context import SuiteContext
from conformance.suite.runner import new_seed, open_context
from conformance.target import FAMILIES, ConfigError, load_target_config

LEVEL_MARKS = {"MUST": "must", "SHOULD": "should", "INFO": "info"}
#: A stale cassette ends the run with the usage-error code of the CLI: re-recording is the fix.
EXIT_STALE = 2


def mark_name(family: str) -> str:
    return family.replace("-", "_")


@dataclass
class SuiteSession:
    ctx: SuiteContext
    stack: contextlib.ExitStack
    cases: list[Case] = field(default_factory=list)
    results: RunResults | None = None
    recording: Recording | None = None
    provenance: dict[str, Any] = field(default_factory=dict)


SESSION_KEY = pytest.StashKey[SuiteSession]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("ipsis", "IPSIS conformance")
    group.addoption("--ipsis-config", metavar="TOML", help="target.toml of a live LMS (default: the embedded one)")
    group.addoption("--ipsis-report-dir", metavar="DIR", default="conformance-report", help="where results.json goes")
    group.addoption("--ipsis-seed", metavar="N", type=int, help="seed of generated requests (default: random)")
    group.addoption("--ipsis-fault", action="append", default=[], metavar="NAME", help="embedded target: a fault")
    group.addoption("--ipsis-require-category-scopes", action="store_true", help="embedded target option")
    group.addoption("--ipsis-extra-field", action="store_true", help="embedded target option")
    group.addoption("--ipsis-rate-limit", type=int, metavar="CREDITS", help="embedded target: credits per window")
    group.addoption("--ipsis-rate-window", type=float, metavar="SECONDS", help="embedded target: window length")
    group.addoption("--ipsis-record", metavar="DIR", help="record every HTTP interaction to cassettes in DIR")
    group.addoption("--ipsis-scrub-host", action="store_true", help="with --ipsis-record: replace the host too")
    group.addoption("--ipsis-replay", metavar="DIR", help="replay cassettes from DIR, offline (no config needed)")


def pytest_configure(config: pytest.Config) -> None:
    for family in FAMILIES:
        config.addinivalue_line("markers", f"{mark_name(family)}: IPSIS requirements of the {family} family")
    config.addinivalue_line("markers", "audit: audits of every answer seen in the run")
    for level, mark in LEVEL_MARKS.items():
        config.addinivalue_line("markers", f"{mark}: IPSIS requirements of level {level}")
    stack = contextlib.ExitStack()
    try:
        session = _open_session(config, stack)
    except (ConfigError, UnknownFaultError, CassetteError, UnrecordedRequestError) as error:
        stack.close()
        raise pytest.UsageError(str(error)) from None
    config.stash[SESSION_KEY] = session


def _open_session(config: pytest.Config, stack: contextlib.ExitStack) -> SuiteSession:
    seed = config.getoption("ipsis_seed")
    report_dir = Path(config.getoption("ipsis_report_dir"))
    record, replay = config.getoption("ipsis_record"), config.getoption("ipsis_replay")
    config_path = config.getoption("ipsis_config")
    provenance: dict[str, Any] = {"mode": "live"}
    sleep: Callable[[float], None] = time.sleep
    if record and replay:
        raise ConfigError("--record and --replay exclude each other")
    if replay:
        if config_path:
            raise ConfigError("--replay needs no --config: the cassette folder's manifest describes the target")
        folder = Path(replay)
        manifest = read_manifest(folder)
        check_replayable(manifest, folder, __version__, load_contract().spec_sha256)
        if seed is not None and seed != manifest.seed:
            raise ConfigError(f"--seed {seed} differs from the recording's seed {manifest.seed}; drop --seed to replay")
        seed = manifest.seed
        _select_as_recorded(config, manifest.selection)
        target = target_from_manifest(manifest, folder)
        kind, faults = manifest.kind, tuple(manifest.faults)
        provenance = {"mode": "replay", "folder": str(folder), "recorded_at": manifest.recorded_at,
                      "recorded_base_url": manifest.base_url, "host_scrubbed": manifest.host_scrubbed}  # fmt: skip
        stack.enter_context(replaying(folder, manifest, target.tokens))
        sleep = _no_sleep  # a replayed 429 needs no waiting
    elif config_path:
        target = load_target_config(Path(config_path))
        kind, faults = "live", tuple[str, ...]()
    else:
        options = EmbeddedOptions(
            faults=resolve_faults(config.getoption("ipsis_fault")),
            require_category_scopes=config.getoption("ipsis_require_category_scopes"),
            extra_response_field=config.getoption("ipsis_extra_field"),
            rate_limit_credits=config.getoption("ipsis_rate_limit"),
            rate_limit_window_seconds=config.getoption("ipsis_rate_window"),
        )
        target = stack.enter_context(embedded_target(options))
        kind, faults = "embedded", tuple(sorted(options.faults))
    seed = new_seed() if seed is None else seed
    active_recording: Recording | None = None
    if record:
        folder = Path(record)
        scrub_host = bool(config.getoption("ipsis_scrub_host"))
        active_recording = stack.enter_context(recording(folder, target.tokens, target.base_url, scrub_host))
        provenance = {"mode": "record", "folder": str(folder), "host_scrubbed": scrub_host}
    ctx = stack.enter_context(open_context(target, seed=seed, report_dir=report_dir, kind=kind, faults=faults,
                                           sleep=sleep))  # fmt: skip
    session = SuiteSession(ctx, stack, recording=active_recording, provenance=provenance)
    if not ctx.inconclusive_reason:
        session.cases = ctx.plan()
    return session


def _no_sleep(seconds: float) -> None:
    return None


#: pytest's selection options a recording keeps, so that its replay runs the same cases.
SELECTION_OPTIONS = {"keyword": "-k", "markexpr": "-m"}


def _selection(config: pytest.Config) -> dict[str, str]:
    return {name: value for name in SELECTION_OPTIONS if (value := getattr(config.option, name, ""))}


def _select_as_recorded(config: pytest.Config, recorded: dict[str, str]) -> None:
    """A replay runs the recorded cases: the recording's -k / -m, and no other."""
    given = _selection(config)
    if given and given != recorded:
        shown = " ".join(f"{SELECTION_OPTIONS[k]} {v!r}" for k, v in recorded.items()) or "no -k or -m"
        raise ConfigError(f"a replay runs the cases that were recorded ({shown}); drop -k and -m to replay")
    for name, value in recorded.items():
        setattr(config.option, name, value)


def pytest_unconfigure(config: pytest.Config) -> None:
    session = config.stash.get(SESSION_KEY, None)
    if session is not None:
        session.stack.close()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "ipsis_case" not in metafunc.fixturenames:
        return
    session = metafunc.config.stash[SESSION_KEY]
    params = []
    for case in session.cases:
        requirement = session.ctx.contract.requirement(case.requirement)
        marks = [
            getattr(pytest.mark, mark_name(requirement.family)),
            getattr(pytest.mark, LEVEL_MARKS[requirement.level]),
        ]
        if case.planner.startswith("audit:"):
            marks.append(pytest.mark.audit)
        params.append(pytest.param(case, id=case.case_id, marks=marks))
    metafunc.parametrize("ipsis_case", params)


@pytest.fixture(scope="session")
def ipsis_context(request: pytest.FixtureRequest) -> SuiteContext:
    """The running suite's shared context (target, client, discovery, restore ledger)."""
    return request.config.stash[SESSION_KEY].ctx


def stale_message(error: Exception, session: SuiteSession) -> str:
    return str(stale(Path(session.provenance.get("folder", "DIR")), error, session.ctx.kind))


def run_case_as_test(ctx: SuiteContext, case: Case, config: pytest.Config) -> None:
    try:
        result = ctx.run_case(case)
    except UnrecordedRequestError as error:
        ctx.stale_cassette = str(error)
        pytest.exit(stale_message(error, config.stash[SESSION_KEY]), returncode=EXIT_STALE)
    if result.outcome is Outcome.FAIL:
        pytest.fail(f"[{result.level}] {result.requirement}: {result.message}", pytrace=False)
    if result.outcome is Outcome.NOT_TESTED:
        pytest.skip(f"not tested: {result.message}")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    suite = session.config.stash.get(SESSION_KEY, None)
    if suite is None:
        return
    interrupted = exitstatus == pytest.ExitCode.INTERRUPTED
    if interrupted and not suite.ctx.inconclusive_reason:
        suite.ctx.inconclusive_reason = "interrupted before every case ran"
    selected = len(getattr(session, "items", []))
    if not suite.ctx.inconclusive_reason and not suite.ctx.stale_cassette:
        if suite.cases and selected == 0:
            suite.ctx.inconclusive_reason = "no case was selected (-k / -m matched none of the suite's cases)"
        elif session.shouldfail and len(suite.ctx.results) < selected and not must_failed(suite.ctx.results):
            # -x stopped the run: what did not run was not judged, so a partial run cannot be conformant.
            ran = len(suite.ctx.results)
            suite.ctx.inconclusive_reason = f"stopped at the first failure (-x) after {ran} of {selected} cases"
    if exitstatus == pytest.ExitCode.USAGE_ERROR or suite.ctx.stale_cassette:
        return  # no verdict: nothing to restore against a cassette, and nothing judged worth writing
    try:
        restored = suite.ctx.restore()
    except UnrecordedRequestError as error:  # a replay whose restoring the recording did not see: stale too
        suite.ctx.stale_cassette = str(error)
        _say(session, stale_message(error, suite), red=True)
        session.exitstatus = EXIT_STALE
        return
    suite.results = suite.ctx.finish(restored, interrupted, suite.provenance)
    if suite.recording is not None:
        # A replay repeats the recording's -k / -m; a run cut short, or narrowed another way, it cannot repeat.
        narrowed = selected < len(suite.cases) and not _selection(session.config)
        if interrupted or session.shouldfail or session.shouldstop or narrowed:
            _say(
                session,
                f"{suite.recording.folder}: the recording stopped early or ran a selection a replay cannot repeat "
                "(-x, --maxfail, node ids, --deselect, Ctrl-C), so no manifest was written and it cannot be "
                "replayed: record a whole run (-k and -m are fine)",
                yellow=True,
            )
        else:
            scrub_host = bool(suite.provenance.get("host_scrubbed"))
            # Written beside the cassette once VCR.py has saved it (the manifest carries its sha256).
            suite.recording.manifest = manifest_for(suite.ctx.target, suite.results, scrub_host=scrub_host,
                                                    kind=suite.ctx.kind, faults=suite.ctx.faults,
                                                    selection=_selection(session.config))  # fmt: skip
    if exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED, pytest.ExitCode.NO_TESTS_COLLECTED):
        session.exitstatus = suite.results.verdict.exit_code


def _say(session: pytest.Session, text: str, **markup: bool) -> None:
    """A line of its own on pytest's terminal (after any progress dots)."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write("\n")
        reporter.write_line(text, **markup)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    suite = config.stash.get(SESSION_KEY, None)
    if suite is None or suite.results is None:
        return
    terminalreporter.section("IPSIS conformance")
    terminalreporter.line(render_summary(suite.results))
    report_dir = config.getoption("ipsis_report_dir")
    terminalreporter.line(f"Results: {Path(report_dir) / 'results.json'}")
