"""Raw schemathesis (``st run``, every check) finds nothing wrong with the faithful reference LMS."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conformance.contract import SPEC_FILE, load_contract, spec_dir, version_view
from conformance.raw_schemathesis import RawRunTarget, schemathesis_toml
from conformance.reference import SEED
from conformance.versions import ApiVersion
from tests.serving import serve_process

pytestmark = pytest.mark.slow


def run_st(spec: Path, config: Path, base_url: str) -> subprocess.CompletedProcess[str]:
    command = [
        sys.executable, "-m", "schemathesis.cli", "--config-file", str(config),
        "run", str(spec), "--url", base_url,
        "--checks", "all", "--seed", "20261203", "--generation-database", "none",
        "--max-examples", "40", "--no-color",
    ]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)


@pytest.mark.parametrize(
    ("le_version", "grade_object"),
    [
        pytest.param("1.70", SEED.grade_object, id="current-1.70"),
        pytest.param("1.94", SEED.grade_object_with_nulls, id="latest-1.94-nulls"),
        pytest.param("1.61", SEED.grade_object, id="deprecated-1.61-view"),
    ],
)
def test_st_run_all_checks_reports_no_failure(tmp_path: Path, le_version: str, grade_object: int) -> None:
    version = ApiVersion.parse(le_version)
    spec = spec_dir() / SPEC_FILE
    if version < ApiVersion(1, 62):
        # Before 1.62 the blocks lack the fields added then: test against that version's view.
        spec = tmp_path / f"ipsis-{le_version}.yaml"
        spec.write_text(yaml.safe_dump(version_view(load_contract().raw, version), allow_unicode=True))
    config = tmp_path / "schemathesis.toml"
    with serve_process("--rate-limit", "100000000") as served:
        target = RawRunTarget(
            token=served.tokens["full"],
            org_unit=SEED.org_unit,
            grade_category=SEED.grade_category,
            grade_object=grade_object,
            source_system=SEED.source_system,
            le_version=le_version,
            lp_version="1.50",
        )
        config.write_text(schemathesis_toml(target))
        result = run_st(spec, config, served.base_url)
    summary = result.stdout[-4000:] + result.stderr[-2000:]
    assert result.returncode == 0, summary
    assert "No issues found" in result.stdout, summary
    assert "8 selected / 8 total" in result.stdout, summary


def test_st_run_catches_a_fault(tmp_path: Path) -> None:
    """The same run is not blind: a server that nulls a non-nullable field fails it."""
    config = tmp_path / "schemathesis.toml"
    with serve_process("--rate-limit", "100000000", "--fault", "null-end-of-course") as served:
        target = RawRunTarget(served.tokens["full"], SEED.org_unit, SEED.grade_category, SEED.grade_object,
                              SEED.source_system, "1.70", "1.50")  # fmt: skip
        config.write_text(schemathesis_toml(target))
        result = run_st(spec_dir() / SPEC_FILE, config, served.base_url)
    assert result.returncode == 1, result.stdout[-3000:]
    assert "Response violates schema" in result.stdout and "EndOfCourse" in result.stdout
