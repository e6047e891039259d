"""D2L API versions (D2LVERSION, ``major.minor``) and their lifecycle on a route.

A version is compared numerically (1.9 < 1.10 < 1.67), never as text.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import total_ordering

__all__ = ["ApiVersion", "Lifecycle", "LifecycleRange", "Status"]

_VERSION = re.compile(r"(0|[1-9][0-9]{0,5})\.(0|[1-9][0-9]{0,5})")  # used with fullmatch: no trailing newline


@total_ordering
@dataclass(frozen=True)
class ApiVersion:
    """A D2LVERSION such as ``1.67``."""

    major: int
    minor: int

    @classmethod
    def parse(cls, text: str) -> ApiVersion:
        """Parse ``major.minor``; raise ValueError on anything else (``1``, ``1.6.7``, ``01.5``)."""
        match = _VERSION.fullmatch(text)
        if match is None:
            raise ValueError(f"{text!r} is not a D2LVERSION (major.minor, e.g. 1.67)")
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def try_parse(cls, text: str) -> ApiVersion | None:
        try:
            return cls.parse(text)
        except ValueError:
            return None

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}"

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, ApiVersion):
            return NotImplemented
        return (self.major, self.minor) < (other.major, other.minor)


class Status(enum.StrEnum):
    """A version's lifecycle status on a route, as the vendor's page names them."""

    CURRENT = "current"
    DEPRECATED = "deprecated"
    OBSOLETE = "obsolete"
    #: Above the target's LatestVersion: not (yet) a version of this LMS.
    UNRELEASED = "unreleased"
    #: Below the lowest range the page names.
    UNKNOWN = "unknown"

    @property
    def served(self) -> bool:
        return self in (Status.CURRENT, Status.DEPRECATED)


@dataclass(frozen=True)
class LifecycleRange:
    """One line of a route's "API Versions" list, e.g. ``1.61-66 Deprecated as of LMS v20.24.1``."""

    status: Status
    first: ApiVersion | None  # None: open below
    last: ApiVersion | None  # None: open above (up to the target's LatestVersion)
    lms_release: str
    requirement: str

    def contains(self, version: ApiVersion) -> bool:
        if self.first is not None and version < self.first:
            return False
        return not (self.last is not None and version > self.last)


@dataclass(frozen=True)
class Lifecycle:
    """All version ranges of a route; the target's LatestVersion closes the open current range."""

    ranges: tuple[LifecycleRange, ...]

    def status(self, version: ApiVersion, latest: ApiVersion) -> Status:
        if version > latest:
            return Status.UNRELEASED
        for lifecycle_range in self.ranges:
            if lifecycle_range.contains(version):
                return lifecycle_range.status
        return Status.UNKNOWN

    def range_for(self, status: Status) -> LifecycleRange | None:
        return next((r for r in self.ranges if r.status is status), None)

    def served_versions(self, latest: ApiVersion, also: Iterable[ApiVersion] = ()) -> list[ApiVersion]:
        """Every version of ``latest``'s major that the route serves, and those of ``also`` (e.g. listed
        versions of an earlier major, whose last minor no rule gives), oldest first."""
        candidates = {*(ApiVersion(latest.major, minor) for minor in range(latest.minor + 1)), *also}
        return sorted(v for v in candidates if self.status(v, latest).served)
