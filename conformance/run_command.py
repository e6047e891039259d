"""``ipsis-conformance run``: build the pytest run of ``conformance.suite`` and map its verdict to an exit code."""

from __future__ import annotations

import argparse
from pathlib import Path

from conformance import __version__
from conformance.cli import EXIT_USAGE, UsageError
from conformance.contract import load_contract
from conformance.recording import (
    CassetteError,
    check_cassette_file,
    check_replayable,
    read_manifest,
    target_from_manifest,
)
from conformance.reference import UnknownFaultError, resolve_faults
from conformance.results import RunResults
from conformance.target import ConfigError, load_target_config

SUITE_DIR = Path(__file__).parent / "suite"
EXIT_INCONCLUSIVE = 3
EMBEDDED_ONLY = ("fault", "require_category_scopes", "extra_field", "rate_limit", "rate_window")


def pytest_arguments(args: argparse.Namespace) -> list[str]:
    """The pytest command line for these ``run`` options (also what a user can run by hand)."""
    argv = ["-p", "conformance.suite.plugin", "--pyargs", "conformance.suite"]
    # The suite's own ini and no conftest: a project's pytest setup must not change a conformance run.
    argv += ["-c", str(SUITE_DIR / "pytest.ini"), "--rootdir", str(SUITE_DIR), "--noconftest"]
    argv += ["--ipsis-report-dir", str(args.report_dir)]
    argv += ["-v"] if args.verbose else ["-q"]
    if args.config:
        argv += ["--ipsis-config", str(args.config)]
    if args.seed is not None:
        argv += ["--ipsis-seed", str(args.seed)]
    for fault in args.fault:
        argv += ["--ipsis-fault", fault]
    if args.require_category_scopes:
        argv.append("--ipsis-require-category-scopes")
    if args.extra_field:
        argv.append("--ipsis-extra-field")
    if args.rate_limit:
        argv += ["--ipsis-rate-limit", str(args.rate_limit)]
    if args.rate_window:
        argv += ["--ipsis-rate-window", str(args.rate_window)]
    if args.k:
        argv += ["-k", args.k]
    if args.m:
        argv += ["-m", args.m]
    if args.exitfirst:
        argv.append("-x")
    if args.junitxml:
        argv += ["--junitxml", str(args.junitxml)]
    if args.record:
        argv += ["--ipsis-record", str(args.record)]
    if args.scrub_host:
        argv.append("--ipsis-scrub-host")
    if args.replay:
        # VCR.py refuses what the cassette lacks, and every socket is blocked while it plays (recording.replaying).
        argv += ["--ipsis-replay", str(args.replay)]
    return argv + list(args.pytest_args)


def check_arguments(args: argparse.Namespace) -> None:
    if args.replay:
        if args.config or args.record:
            raise UsageError("--replay takes no --config or --record: the cassette folder describes the target")
        given = [f"--{name.replace('_', '-')}" for name in EMBEDDED_ONLY if getattr(args, name)]
        if given:
            raise UsageError(f"{', '.join(given)} cannot change a replayed run (the recording fixed them)")
        try:
            manifest = read_manifest(args.replay)
            check_replayable(manifest, args.replay, __version__, load_contract().spec_sha256)
            target_from_manifest(manifest, args.replay)  # its ids and limits, checked as a target.toml's
            check_cassette_file(args.replay, manifest)
        except CassetteError as error:
            raise UsageError(str(error)) from None
    if args.scrub_host and not args.record:
        raise UsageError("--scrub-host goes with --record")
    if args.config:
        given = [f"--{name.replace('_', '-')}" for name in EMBEDDED_ONLY if getattr(args, name)]
        if given:
            raise UsageError(f"{', '.join(given)} apply to the embedded reference LMS only, not to --config")
        try:
            load_target_config(args.config)
        except ConfigError as error:
            raise UsageError(str(error)) from None
    try:
        resolve_faults(args.fault)
    except UnknownFaultError as error:
        raise UsageError(str(error)) from None
    if args.report_dir.exists() and not args.report_dir.is_dir():
        raise UsageError(f"--report-dir {args.report_dir} exists and is not a directory")


def run_run(args: argparse.Namespace) -> int:
    import pytest

    check_arguments(args)
    results_path = args.report_dir / "results.json"
    results_path.unlink(missing_ok=True)  # a stale verdict must never be read as this run's
    code = pytest.main(pytest_arguments(args))
    if code == pytest.ExitCode.USAGE_ERROR:
        return EXIT_USAGE
    if code == EXIT_USAGE and not results_path.is_file():
        return EXIT_USAGE  # a stale cassette: pytest printed what to re-record
    if not results_path.is_file():
        print("ipsis-conformance: the run wrote no results (see the output above): inconclusive")
        return EXIT_INCONCLUSIVE
    return RunResults.read(results_path).verdict.exit_code
