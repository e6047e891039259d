"""``ipsis-conformance serve``: the reference LMS in the foreground."""

from __future__ import annotations

import argparse

from conformance.cli import UsageError
from conformance.contract import load_contract
from conformance.reference import (
    DEFAULT_LATEST_LE_VERSION,
    FAULTS,
    SEED,
    ReferenceConfig,
    TokenFileError,
    UnknownFaultError,
    create_app,
    generate_tokens,
    load_tokens,
    resolve_faults,
)
from conformance.reference.server import PortUnavailableError, bind, make_server
from conformance.versions import ApiVersion, Status


def list_faults() -> str:
    width = max(len(name) for name in FAULTS)
    lines = [f"{'fault':<{width}}  {'family':<11}  breaks / description"]
    for fault in FAULTS.values():
        lines.append(f"{fault.name:<{width}}  {fault.family:<11}  {fault.breaks}: {fault.description}")
    return "\n".join(lines)


def config_from_args(args: argparse.Namespace) -> ReferenceConfig:
    try:
        faults = resolve_faults(args.fault)
        tokens = load_tokens(args.tokens) if args.tokens else generate_tokens()
    except (UnknownFaultError, TokenFileError) as error:
        raise UsageError(str(error)) from None
    latest = ApiVersion.parse(args.latest_version) if args.latest_version else DEFAULT_LATEST_LE_VERSION
    current = load_contract().lifecycle().range_for(Status.CURRENT)
    if current is not None and current.first is not None and latest < current.first:
        raise UsageError(
            f"--latest-version {latest} is below {current.first}, the first current IPSIS version on the page"
        )
    if current is not None and current.first is not None and latest.major != current.first.major:
        # The page's ranges are all of major 1: it cannot say which 1.x versions a 2.x LMS still serves.
        raise UsageError(
            f"--latest-version {latest}: the vendor's page names LE {current.first.major}.x versions only; "
            f"give a {current.first.major}.x version of at least {current.first}"
        )
    defaults = ReferenceConfig(tokens=())
    return ReferenceConfig(
        latest_le_version=latest,
        tokens=tokens,
        faults=faults,
        require_category_scopes=args.require_category_scopes,
        extra_response_field=args.extra_field,
        rate_limit_credits=args.rate_limit or defaults.rate_limit_credits,
        rate_limit_window_seconds=float(args.rate_window or defaults.rate_limit_window_seconds),
    )


def banner(config: ReferenceConfig, base_url: str, show_tokens: bool) -> str:
    faults = ", ".join(sorted(config.faults)) or "none (faithful)"
    lines = [
        f"Reference LMS on {base_url}  (LE latest {config.latest_le_version}; faults: {faults})",
        f"Seeded: org unit {SEED.org_unit}, grade category {SEED.grade_category}, grade objects "
        f"{SEED.grade_object} and {SEED.grade_object_with_nulls} (nulls), source system {SEED.source_system}",
    ]
    if show_tokens:
        lines.append("Tokens (Authorization: Bearer <token>):")
        width = max(len(t.label) for t in config.tokens)
        lines += [f"  {t.label:<{width}}  {t.value}  {t.scopes}" for t in config.tokens]
    else:
        lines.append(f"Tokens: {len(config.tokens)} from the tokens file")
    lines.append("Ctrl-C stops it.")
    return "\n".join(lines)


def run_serve(args: argparse.Namespace) -> int:
    if args.list_faults:
        print(list_faults())
        return 0
    config = config_from_args(args)
    try:
        sock = bind(args.host, args.port)
    except PortUnavailableError as error:
        raise UsageError(f"{error}; choose another --port, or --port 0 for a free one") from None
    host, port = sock.getsockname()[:2]
    url_host = f"[{host}]" if ":" in host else host
    print(banner(config, f"http://{url_host}:{port}", show_tokens=args.tokens is None), flush=True)
    server = make_server(create_app(config))
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
    return 0
