"""A case is one requirement checked at one version with one token: the unit of every report.

Checks are planners kept in a registry (like schemathesis' checks): each family's planner turns
what discovery found into cases; each case's ``run`` returns an :class:`Observed` or raises
:class:`CheckFailed` / :class:`CheckNotTested`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from conformance.results import Evidence, Outcome

if TYPE_CHECKING:
    from conformance.suite.context import SuiteContext

__all__ = ["PLANNERS", "Case", "CheckFailed", "CheckNotTested", "Observed", "planner", "planners_in_order"]


@dataclass(frozen=True)
class Observed:
    """A case that passed (or, for an INFO requirement, what was seen)."""

    message: str = ""
    evidence: list[Evidence] = field(default_factory=list)
    outcome: Outcome = Outcome.PASS


class CheckFailed(Exception):
    """The target did not do what the requirement says; message puts received beside expected."""

    def __init__(self, message: str, evidence: list[Evidence] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.evidence = evidence or []


class CheckNotTested(Exception):
    """The case could not be judged (no suitable token, a version not served, budget spent...)."""

    def __init__(self, reason: str, evidence: list[Evidence] | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.evidence = evidence or []


@dataclass(frozen=True)
class Case:
    requirement: str
    run: Callable[[SuiteContext], Observed] = field(compare=False, repr=False)
    version: str | None = None
    token: str | None = None  # label
    route: str | None = None  # operationId
    detail: str | None = None  # what distinguishes cases of one requirement, e.g. a field or probe
    planner: str = ""  # the registered planner that made it ("audit:statuses", ...), set by the plan

    @property
    def case_id(self) -> str:
        parts = [self.requirement]
        parts += [p for p in (self.route, self.version, self.token, self.detail) if p]
        return "/".join(parts)


Planner = Callable[["SuiteContext"], Iterator[Case]]


@dataclass(frozen=True)
class RegisteredPlanner:
    name: str  # "family:what"
    order: int  # run order: reads first, then what changes data, audits of everything seen last
    make_cases: Planner

    @property
    def family(self) -> str:
        return self.name.split(":", 1)[0]


PLANNERS: dict[str, RegisteredPlanner] = {}


def planner(name: str, order: int) -> Callable[[Planner], Planner]:
    """Register a planner under ``family:what``; a duplicate name is a programming error."""

    def register(function: Planner) -> Planner:
        if name in PLANNERS:
            raise RuntimeError(f"a planner named {name!r} is already registered")
        PLANNERS[name] = RegisteredPlanner(name, order, function)
        return function

    return register


def planners_in_order() -> list[RegisteredPlanner]:
    return sorted(PLANNERS.values(), key=lambda p: (p.order, p.name))
