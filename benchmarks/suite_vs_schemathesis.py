"""Benchmark (not a test): our full suite vs raw ``st run`` against the same ``serve`` instance.

    python benchmarks/suite_vs_schemathesis.py [--seed 1]

For each: wall time, requests the server received (read from its X-Rate-Limit-Remaining before and
after, with a bucket too large to refill), and what was checked.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from conformance.contract import SPEC_FILE, spec_dir
from conformance.raw_schemathesis import RawRunTarget, schemathesis_toml
from conformance.reference import SEED

COST = 10
BIG_BUCKET = ["--rate-limit", "1000000000", "--rate-window", "86400"]


def remaining(base_url: str) -> int:
    return int(httpx.get(base_url + "/d2l/api/versions/").headers["X-Rate-Limit-Remaining"])


def requests_between(before: int, after: int) -> int:
    return (before - after) // COST - 1  # minus the GET that read `after`


def start_serve() -> tuple[subprocess.Popen[str], str, dict[str, tuple[str, str]]]:
    """Start ``serve``; return it, its URL and its tokens (label -> (value, scopes))."""
    command = [sys.executable, "-m", "conformance", "serve", "--port", "0", *BIG_BUCKET]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    banner = ""
    for line in process.stdout:
        banner += line
        if line.startswith("Ctrl-C"):
            break
    url = re.search(r"on (http://\S+)", banner)
    assert url, banner
    rows = re.findall(r"^  (\S+)\s+(ref-\S+)\s+(.*)$", banner, flags=re.MULTILINE)
    return process, url.group(1), {label: (value, scopes) for label, value, scopes in rows}


def target_toml(base_url: str, tokens: dict[str, tuple[str, str]]) -> str:
    entries = "".join(
        f'[[tokens]]\nlabel = "{label}"\nscopes = "{scopes}"\nenv = "BENCH_TOKEN_{label.upper().replace("-", "_")}"\n'
        for label, (_, scopes) in tokens.items()
    )
    return (
        f'base_url = "{base_url}"\n[ids]\norg_unit = {SEED.org_unit}\ngrade_category = {SEED.grade_category}\n'
        f"grade_object = {SEED.grade_object}\nsource_system = {SEED.source_system}\n"
        f"foreign_org_unit = {SEED.foreign_org_unit}\n{entries}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=1)
    seed = parser.parse_args().seed
    process, base_url, tokens = start_serve()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            env = dict(os.environ)
            for label, (value, _) in tokens.items():
                env[f"BENCH_TOKEN_{label.upper().replace('-', '_')}"] = value
            (work / "target.toml").write_text(target_toml(base_url, tokens))

            before = remaining(base_url)
            started = time.perf_counter()
            suite = subprocess.run(
                [sys.executable, "-m", "conformance", "run", "--config", "target.toml", "--seed", str(seed)],
                cwd=work, env=env, capture_output=True, text=True, check=False,
            )  # fmt: skip
            suite_time = time.perf_counter() - started
            suite_requests = requests_between(before, remaining(base_url))
            results = json.loads((work / "conformance-report" / "results.json").read_text())
            judged = {r["requirement"] for r in results["results"] if r["outcome"] in ("pass", "fail")}
            cases = len(results["results"])

            (work / "st.toml").write_text(
                schemathesis_toml(
                    RawRunTarget(
                        tokens["full"][0],
                        SEED.org_unit,
                        SEED.grade_category,
                        SEED.grade_object,
                        SEED.source_system,
                        "1.70",
                        "1.50",
                    )
                )
            )
            before = remaining(base_url)
            started = time.perf_counter()
            st = subprocess.run(
                [sys.executable, "-m", "schemathesis.cli", "--config-file", "st.toml", "run",
                 str(spec_dir() / SPEC_FILE), "--url", base_url, "--checks", "all", "--seed", str(seed),
                 "--generation-database", "none", "--no-color"],
                cwd=work, capture_output=True, text=True, check=False,
            )  # fmt: skip
            st_time = time.perf_counter() - started
            st_requests = requests_between(before, remaining(base_url))
            generated = re.search(r"(\d+) generated", st.stdout)
    finally:
        process.terminate()
        process.wait()

    print(f"{'':28}{'wall time':>12}{'requests':>10}  checked")
    print(
        f"{'ipsis-conformance run':28}{suite_time:>11.1f}s{suite_requests:>10}  "
        f"{len(judged)} requirements judged in {cases} cases; verdict {results['verdict']} (exit {suite.returncode})"
    )
    print(
        f"{'st run --checks all':28}{st_time:>11.1f}s{st_requests:>10}  "
        f"{generated.group(1) if generated else '?'} generated cases, schemathesis' checks; no requirement ids "
        f"(exit {st.returncode})"
    )


if __name__ == "__main__":
    main()
