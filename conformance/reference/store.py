"""The reference LMS's in-memory data, seeded anew at each start."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

__all__ = ["SEED", "Seed", "Store"]

Block = dict[str, Any]


@dataclass(frozen=True)
class Seed:
    """Ids of the seeded fixtures; the suite's default [ids] for the embedded target."""

    org_unit: int = 6606
    grade_category: int = 11
    grade_object: int = 21
    grade_object_with_nulls: int = 22
    source_system: int = 5
    #: Another course, whose category and grade object must not be reachable under ``org_unit``.
    foreign_org_unit: int = 6607
    foreign_grade_category: int = 12
    foreign_grade_object: int = 31


SEED = Seed()


@dataclass
class Store:
    """Blocks are stored at their fullest (latest-version) shape; each answer is cut to its version."""

    org_units: set[int] = field(default_factory=set)
    categories: dict[int, tuple[int, Block]] = field(default_factory=dict)  # id -> (org unit, block)
    grade_objects: dict[int, tuple[int, Block]] = field(default_factory=dict)
    source_systems: set[int] = field(default_factory=set)

    @classmethod
    def seeded(cls, seed: Seed = SEED) -> Store:
        return cls(
            org_units={seed.org_unit, seed.foreign_org_unit},
            categories={
                seed.grade_category: (seed.org_unit, {"ExportToSIS": True, "AcademicSessionOrgUnitId": 6000}),
                seed.foreign_grade_category: (
                    seed.foreign_org_unit,
                    {"ExportToSIS": False, "AcademicSessionOrgUnitId": None},
                ),
            },
            grade_objects={
                seed.grade_object: (
                    seed.org_unit,
                    {
                        "AcademicSessionOrgUnitId": 6000,
                        "EndOfCourse": True,
                        "PowerSchoolGradeType": 1,
                        "SectionOrgUnitId": 6610,
                    },
                ),
                # Every nullable field null: the case most clients get wrong.
                seed.grade_object_with_nulls: (
                    seed.org_unit,
                    {
                        "AcademicSessionOrgUnitId": None,
                        "EndOfCourse": False,
                        "PowerSchoolGradeType": None,
                        "SectionOrgUnitId": None,
                    },
                ),
                seed.foreign_grade_object: (
                    seed.foreign_org_unit,
                    {
                        "AcademicSessionOrgUnitId": 7000,
                        "EndOfCourse": False,
                        "PowerSchoolGradeType": 0,
                        "SectionOrgUnitId": 7010,
                    },
                ),
            },
            source_systems={seed.source_system},
        )

    def snapshot(self) -> dict[str, Any]:
        """A deep copy, for tests that prove a rejected request changed nothing."""
        return copy.deepcopy({"categories": self.categories, "grade_objects": self.grade_objects})
