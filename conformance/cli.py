"""The ``ipsis-conformance`` command line: a thin layer over the package.

Usage errors (bad arguments, unreadable files, a busy port) print one message saying what was
wrong and what to do, and exit 2; never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from conformance import __version__

__all__ = ["main"]

EXIT_USAGE = 2


class UsageError(Exception):
    """A problem with what the user asked for; its message says what to do."""


def _version_arg(text: str) -> str:
    from conformance.versions import ApiVersion

    try:
        ApiVersion.parse(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text


def _port_arg(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (0-65535; 0 picks a free port)") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port number (0-65535; 0 picks a free port)")
    return port


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ipsis-conformance",
        description="Contract tests for the IPSIS routes of D2L Brightspace's Learning Environment API.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    serve = commands.add_parser(
        "serve",
        help="serve the embedded reference LMS",
        description="Serve the reference LMS, a faithful fake of the IPSIS routes, on HTTP. "
        "Data is seeded anew at each start.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    serve.add_argument("--port", type=_port_arg, default=8000, help="port (default: 8000; 0 picks a free one)")
    serve.add_argument("--tokens", type=Path, metavar="FILE", help="TOML file of [[tokens]] (value, scopes, label)")
    serve.add_argument(
        "--latest-version", type=_version_arg, metavar="X.Y", help="the LMS's latest LE API version (default: 1.94)"
    )
    serve.add_argument(
        "--fault", action="append", default=[], metavar="NAME", help="switch a fault on (repeatable; --list-faults)"
    )
    serve.add_argument("--list-faults", action="store_true", help="list the fault catalogue and exit")
    serve.add_argument(
        "--require-category-scopes",
        action="store_true",
        help="the category routes require grades:gradecategories:read/write (default: any valid token)",
    )
    serve.add_argument(
        "--extra-field", action="store_true", help="add an undocumented field to every IPSIS block answered"
    )
    serve.add_argument(
        "--rate-limit", type=_positive_int, metavar="CREDITS", help="credits per window (default: 50000)"
    )
    serve.add_argument(
        "--rate-window", type=_positive_int, metavar="SECONDS", help="rate-limit window in seconds (default: 60)"
    )
    run = commands.add_parser(
        "run",
        help="run the conformance suite (default target: the embedded reference LMS)",
        description="Run the IPSIS conformance suite under pytest and write results.json. Exit codes: "
        "0 conformant, 1 non-conformant, 2 usage or config error, 3 inconclusive.",
    )
    run.add_argument("--config", type=Path, metavar="TOML", help="target.toml of a live LMS (conformance.example.toml)")
    run.add_argument(
        "--report-dir",
        type=Path,
        default=Path("conformance-report"),
        metavar="DIR",
        help="default: ./conformance-report/",
    )
    run.add_argument("--seed", type=int, metavar="N", help="seed of generated requests; the same seed repeats a run")
    run.add_argument("-k", metavar="EXPR", help="pytest -k: run only cases whose id matches")
    run.add_argument("-m", metavar="MARKEXPR", help='pytest -m: families and levels, e.g. "scopes and must"')
    run.add_argument("-x", "--exitfirst", action="store_true", help="stop at the first failure (data is restored)")
    run.add_argument("--junitxml", type=Path, metavar="PATH", help="also write pytest's JUnit XML")
    run.add_argument("-v", "--verbose", action="store_true", help="one line per case")
    cassettes = run.add_argument_group("cassettes (offline replay)")
    cassettes.add_argument("--record", type=Path, metavar="DIR", help="record every HTTP interaction to DIR, scrubbed")
    cassettes.add_argument("--scrub-host", action="store_true", help="with --record: also replace the host")
    cassettes.add_argument("--replay", type=Path, metavar="DIR", help="replay DIR offline; needs no config or network")
    embedded = run.add_argument_group("embedded reference LMS only")
    embedded.add_argument("--fault", action="append", default=[], metavar="NAME", help="switch a fault on")
    embedded.add_argument("--require-category-scopes", action="store_true")
    embedded.add_argument("--extra-field", action="store_true")
    embedded.add_argument("--rate-limit", type=_positive_int, metavar="CREDITS")
    embedded.add_argument("--rate-window", type=_positive_int, metavar="SECONDS")
    run.add_argument("pytest_args", nargs="*", metavar="-- PYTEST_ARGS", help="more pytest arguments, after --")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "serve":
            from conformance.serve_command import run_serve

            return run_serve(args)
        if args.command == "run":
            from conformance.run_command import run_run

            return run_run(args)
    except UsageError as error:
        print(f"ipsis-conformance: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    parser.error(f"unknown command {args.command!r}")
    return EXIT_USAGE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
