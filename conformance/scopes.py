"""D2L's OAuth 2.0 scope grammar, as Brightspace's own library implements it.

``group:resource:permission[,permission...]``; ``*`` is a wildcard for one whole segment or
permission; matching is case-insensitive; a token's ``scope`` claim is space-separated and
unparsable entries are ignored. ``g2*:*:*`` is a literal group, not a prefix glob.
(d2l-facts.md, "Scope grammar", from Brightspace/D2L.Security.OAuth2 ``Scope.cs``, ``ScopeAuthorizer.cs``.)

The grammar is a value (:class:`ScopeGrammar`) so that the reference LMS can carry a faulty one
(case-sensitive, no wildcards, ...) without a second implementation of matching.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["D2L_GRAMMAR", "Scope", "ScopeGrammar", "grants", "parse_scope_list"]

WILDCARD = "*"


@dataclass(frozen=True)
class Scope:
    """One scope: a group, a resource and one or more permissions, as written."""

    group: str
    resource: str
    permissions: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> Scope | None:
        """Parse one scope; None for an entry D2L ignores (not three non-empty segments)."""
        # Like D2L's Scope.cs, empty pieces are dropped when splitting (``a::b:c`` is ``a:b:c``).
        segments = [segment for segment in text.strip().split(":") if segment]
        if len(segments) != 3:
            return None
        group, resource, permission_list = segments
        permissions = tuple(p.strip() for p in permission_list.split(",") if p.strip())
        if not permissions:
            return None
        return cls(group, resource, permissions)

    def __str__(self) -> str:
        return f"{self.group}:{self.resource}:{','.join(self.permissions)}"


@dataclass(frozen=True)
class ScopeGrammar:
    """How granted scopes are matched against a required one. The defaults are D2L's."""

    case_insensitive: bool = True
    wildcards: bool = True
    comma_permissions: bool = True
    prefix_globs: bool = False  # D2L: False ("g2*" is a literal); True only in a faulty server

    def _part_matches(self, granted: str, required: str) -> bool:
        if self.case_insensitive:
            granted, required = granted.lower(), required.lower()
        if granted == required:
            return True
        if granted == WILDCARD:
            return self.wildcards
        if self.prefix_globs and granted.endswith(WILDCARD):
            return required.startswith(granted[:-1])
        return False

    def scope_grants(self, granted: Scope, required: Scope) -> bool:
        if not self._part_matches(granted.group, required.group):
            return False
        if not self._part_matches(granted.resource, required.resource):
            return False
        permissions = granted.permissions if self.comma_permissions else granted.permissions[:1]
        return all(any(self._part_matches(have, needed) for have in permissions) for needed in required.permissions)

    def grants(self, granted: Iterable[Scope] | str, required: str) -> bool:
        """Whether any granted scope satisfies ``required`` (e.g. ``grades:gradeobjects:read``)."""
        required_scope = Scope.parse(required)
        if required_scope is None:
            raise ValueError(f"{required!r} is not a scope (group:resource:permission)")
        granted_scopes = parse_scope_list(granted) if isinstance(granted, str) else granted
        return any(self.scope_grants(scope, required_scope) for scope in granted_scopes)


D2L_GRAMMAR = ScopeGrammar()


def parse_scope_list(text: str) -> tuple[Scope, ...]:
    """Parse a space-separated ``scope`` claim, dropping unparsable entries as D2L does."""
    parsed = (Scope.parse(entry) for entry in text.split())
    return tuple(scope for scope in parsed if scope is not None)


def grants(granted: Iterable[Scope] | str, required: str) -> bool:
    """Whether ``granted`` satisfies ``required`` under D2L's grammar."""
    return D2L_GRAMMAR.grants(granted, required)
