"""A schemathesis configuration that points raw ``st run`` at real fixtures of a target.

Without it, generated ids almost never exist and nearly every case stops at 404; with it, each
IPSIS operation is exercised on the seeded (or configured) grade category, grade object and
source system at one LE version, so bodies, nullability and PUT validation are really tested.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

__all__ = ["RawRunTarget", "schemathesis_toml"]


@dataclass(frozen=True)
class RawRunTarget:
    token: str
    org_unit: int
    grade_category: int
    grade_object: int
    source_system: int
    le_version: str
    lp_version: str


def _toml_string(value: str) -> str:
    return json.dumps(value)  # a JSON string literal is a valid TOML basic string


def schemathesis_toml(target: RawRunTarget) -> str:
    """The text of a ``schemathesis.toml`` for ``st --config-file FILE run SPEC --url BASE``."""
    return "\n".join(
        [
            f"headers = {{ Authorization = {_toml_string('Bearer ' + target.token)} }}",
            "# No cross-run state: a run must not replay an earlier run's failures (determinism).",
            "[cache]",
            "enabled = false",
            "[parameters]",
            f'"path.orgUnitId" = {target.org_unit}',
            f'"path.categoryId" = {target.grade_category}',
            f'"path.gradeObjectId" = {target.grade_object}',
            f'"path.sourceSystemId" = {target.source_system}',
            '"path.product" = "le"',
            "[[operations]]",
            'include-path-regex = "^/d2l/api/le/"',
            f'parameters = {{ "path.version" = {_toml_string(target.le_version)} }}',
            "[[operations]]",
            'include-path-regex = "^/d2l/api/lp/"',
            f'parameters = {{ "path.version" = {_toml_string(target.lp_version)} }}',
            "",
        ]
    )
