"""Running ``ipsis-conformance run`` as a real process and reading what it wrote (shared by the CLI tests).

Every run is a subprocess with its own ``cwd`` so that the suite's own pytest session never nests inside
the one running the tests.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conformance.reference import SEED

RUN_TIMEOUT = 120.0  # seconds; a full run takes ~5-8 s on a quiet machine


@dataclass(frozen=True)
class Finished:
    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def run_cli(cwd: Path, *args: str, env: dict[str, str] | None = None) -> Finished:
    """``python -m conformance run ARGS`` in ``cwd``; ``env`` is added to this process's environment."""
    return run_python(cwd, ["-m", "conformance", "run", *args], env=env)


def run_python(cwd: Path, args: list[str], env: dict[str, str] | None = None) -> Finished:
    done = subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )
    return Finished(done.returncode, done.stdout, done.stderr)


def read_results(report_dir: Path) -> dict[str, Any]:
    path = report_dir / "results.json"
    assert path.is_file(), f"no results.json in {report_dir}"
    data: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return data


def case_outcomes(results: dict[str, Any]) -> list[tuple[str, str]]:
    return [(item["case_id"], item["outcome"]) for item in results["results"]]


def target_toml(base_url: str, tokens: dict[str, tuple[str, str]]) -> str:
    """A target.toml for the seeded reference LMS; ``tokens`` maps label -> (scopes, environment variable)."""
    lines = [
        f'base_url = "{base_url}"',
        "",
        "[ids]",
        f"org_unit = {SEED.org_unit}",
        f"grade_category = {SEED.grade_category}",
        f"grade_object = {SEED.grade_object}",
        f"source_system = {SEED.source_system}",
        f"foreign_org_unit = {SEED.foreign_org_unit}",
    ]
    for label, (scopes, variable) in tokens.items():
        lines += ["", "[[tokens]]", f'label = "{label}"', f'scopes = "{scopes}"', f'env = "{variable}"']
    return "\n".join(lines) + "\n"
