"""The catalogue of faults: named, one-line deviations of the reference LMS from the vendor's page.

Each fault changes one behaviour and names the requirement of the spec it breaks, so the suite can
prove each of its checks fails where it should (Bowtie's "miniatures", kept as data).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["FAULTS", "Fault", "UnknownFaultError", "resolve_faults"]


@dataclass(frozen=True)
class Fault:
    name: str
    family: str
    description: str
    breaks: str  # the requirement id this fault violates


_CATALOGUE = (
    # nullability
    Fault(
        "null-end-of-course",
        "nullability",
        "GradeObjectDetails.EndOfCourse (never null) is returned as null.",
        "field.GradeObjectDetails.EndOfCourse",
    ),
    Fault(
        "null-export-to-sis",
        "nullability",
        "GradeCategoryInfo.ExportToSIS (never null) is returned as null.",
        "field.GradeCategoryInfo.ExportToSIS",
    ),
    Fault(
        "unset-field-omitted",
        "nullability",
        "At 1.62+, a nullable field that is unset is left out instead of being null.",
        "presence.since-present-from",
    ),
    Fault(
        "null-put-refused",
        "nullability",
        "A PUT with null in a nullable field is refused with 400.",
        "put.null-accepted-for-nullable",
    ),
    Fault(
        "null-put-accepted",
        "nullability",
        "A PUT with null in a non-nullable field is accepted and stored.",
        "put.invalid-block-400",
    ),
    # versions
    Fault(
        "leak-since-fields",
        "versions",
        "Fields added with LE 1.62 are also returned at 1.61.",
        "presence.since-absent-before",
    ),
    Fault(
        "serve-obsolete",
        "versions",
        "Obsolete versions (1.60 and older) are served like current ones.",
        "version.obsolete-not-served",
    ),
    Fault("drop-deprecated", "versions", "Deprecated versions 1.61-1.66 answer 404.", "version.deprecated-served"),
    Fault("serve-unreleased", "versions", "Versions above LatestVersion are served.", "version.unsupported-not-served"),
    Fault(
        "malformed-version-500",
        "versions",
        "A version that is not major.minor answers 500 instead of 404.",
        "version.malformed-not-served",
    ),
    Fault(
        "versions-omit-deprecated",
        "versions",
        "The versions routes do not list the deprecated versions that are still served.",
        "version.route-served-are-listed",
    ),
    Fault(
        "current-version-gap",
        "versions",
        "The current version just below LatestVersion answers 404 (and is still listed).",
        "version.current-served",
    ),
    # scopes
    Fault(
        "read-scope-ignored",
        "scopes",
        "GET of a grade object's IPSIS details accepts any valid token.",
        "scope.grade-object-read",
    ),
    Fault(
        "write-scope-ignored",
        "scopes",
        "PUT of a grade object's IPSIS details accepts any valid token.",
        "scope.grade-object-write",
    ),
    Fault("upload-scope-ignored", "scopes", "POST signedurl accepts any valid token.", "scope.batch-upload"),
    Fault(
        "missing-scope-401",
        "scopes",
        "A valid token that lacks the route's scope gets 401 instead of 403.",
        "auth.missing-scope-403",
    ),
    Fault(
        "scope-case-sensitive",
        "scopes",
        "Granted scopes are matched case-sensitively (GRADES:... grants nothing).",
        "auth.granted-scope-accepted",
    ),
    Fault(
        "wildcards-ignored", "scopes", "A '*' segment in a granted scope grants nothing.", "auth.granted-scope-accepted"
    ),
    Fault(
        "comma-permissions-ignored",
        "scopes",
        "Only the first of comma-separated permissions is honoured (read,write grants read only).",
        "auth.granted-scope-accepted",
    ),
    Fault(
        "scope-prefix-glob",
        "scopes",
        "A segment ending in '*' matches by prefix (grade*:... grants grades:...).",
        "scope.grade-object-read",
    ),
    Fault("anonymous-allowed", "scopes", "IPSIS routes answer requests that carry no token.", "auth.no-token-401"),
    Fault(
        "unknown-token-accepted", "scopes", "Any bearer token is accepted, with every scope.", "auth.unknown-token-401"
    ),
    # schema and status
    Fault(
        "unknown-id-500",
        "schema",
        "An unknown grade object or grade category id answers 500 instead of 404.",
        "status.unknown-id-404",
    ),
    Fault("int32-ids", "schema", "An id above 2147483647 answers 500 (a 32-bit cap on D2LID).", "type.D2LID"),
    Fault(
        "foreign-org-unit-served",
        "schema",
        "A grade object or category is served under any org unit, not only its own.",
        "status.foreign-org-unit-not-served",
    ),
    Fault(
        "grade-type-as-string",
        "schema",
        'PowerSchoolGradeType is returned as a string ("1") instead of a number.',
        "field.GradeObjectDetails.PowerSchoolGradeType",
    ),
    Fault(
        "bad-enum-accepted",
        "schema",
        "A PUT with PowerSchoolGradeType outside {0, 1, 2} is accepted and stored.",
        "put.unknown-enum-400",
    ),
    Fault(
        "wrong-type-accepted",
        "schema",
        "A PUT with any string for a boolean field is accepted (a non-empty string is stored as true).",
        "put.invalid-block-400",
    ),
    Fault(
        "missing-field-accepted",
        "schema",
        "A PUT that leaves out a field of the block is accepted (the field keeps its value).",
        "put.incomplete-block-400",
    ),
    Fault(
        "text-content-type",
        "schema",
        "200 answers carry Content-Type text/plain instead of JSON.",
        "status.content-type-json",
    ),
    # state
    Fault("put-not-persisted", "state", "A PUT answers the new block but stores nothing.", "put.valid-block-stored"),
    Fault(
        "rejected-put-partly-stored",
        "state",
        "A PUT answered 400 still stores the fields that were valid.",
        "put.rejected-changes-nothing",
    ),
    Fault(
        "put-answers-old-block",
        "state",
        "A PUT stores the new block but answers the previous one.",
        "put.valid-block-stored",
    ),
    # signed URL
    Fault(
        "relative-signed-url", "signed-url", "SignedUrl is a path relative to an unnamed host.", "signed-url.absolute"
    ),
    Fault("http-signed-url", "signed-url", "SignedUrl uses plain http.", "signed-url.https"),
    Fault(
        "empty-file-name-accepted",
        "signed-url",
        "An empty FileName is accepted.",
        "field.FileNameData.FileName.non-empty",
    ),
    Fault(
        "missing-file-name-500",
        "signed-url",
        "A signed-URL request without FileName answers 500 instead of 400.",
        "field.FileNameData.FileName",
    ),
    # rate limiting
    Fault(
        "no-rate-limit-headers",
        "rate-limit",
        "Answers carry no X-Rate-Limit-Remaining, X-Rate-Limit-Reset or X-Request-Cost.",
        "rate.headers",
    ),
    Fault("throttle-without-retry-after", "rate-limit", "A 429 carries no Retry-After.", "rate.retry-after"),
)

FAULTS: dict[str, Fault] = {fault.name: fault for fault in _CATALOGUE}
if len(FAULTS) != len(_CATALOGUE):  # a duplicate name would silently shadow a fault
    raise RuntimeError("duplicate fault name in the catalogue")


class UnknownFaultError(ValueError):
    pass


def resolve_faults(names: Iterable[str]) -> frozenset[str]:
    """Validate fault names; an unknown one is an error that lists what is allowed."""
    chosen = frozenset(names)
    unknown = sorted(chosen - FAULTS.keys())
    if unknown:
        raise UnknownFaultError(
            f"unknown fault {', '.join(unknown)}; choose from: {', '.join(sorted(FAULTS))} "
            "(see `ipsis-conformance serve --list-faults`)"
        )
    return chosen
