"""Each fault of the catalogue changes exactly the behaviour it names, and nothing else a test can see.

A battery of probes (one request, or a short fixed sequence, each on a freshly seeded reference LMS)
is run against the faithful app and against the app with each fault switched on. The probes whose
observation differs must be exactly the ones ``EXPECTED_CHANGES`` names for that fault: fewer means
the fault does not do what it says, more means it leaks into behaviour it does not name.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Hashable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any, NamedTuple
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from conformance.contract import load_contract
from conformance.reference import FAULTS, SEED, Token, UnknownFaultError, create_app, resolve_faults
from tests.conftest import DEPRECATED, LATEST, TOKENS, category_url, grade_object_url, make_config, signed_url_url

# --- tokens -----------------------------------------------------------------------------------------

#: The conftest tokens plus one whose group is a prefix glob (``grade*`` is a literal for D2L).
PROBE_TOKENS: dict[str, Token] = {**TOKENS, "prefix": Token("prefix", "test-prefix", "grade*:gradeobjects:read")}
UNKNOWN_TOKEN = "test-not-issued"
NO_TOKEN = ""


def _headers(token: str) -> dict[str, str]:
    """Authorization for a PROBE_TOKENS label, for UNKNOWN_TOKEN, or none for NO_TOKEN."""
    if token == NO_TOKEN:
        return {}
    value = UNKNOWN_TOKEN if token == UNKNOWN_TOKEN else PROBE_TOKENS[token].value
    return {"Authorization": f"Bearer {value}"}


# --- observations -----------------------------------------------------------------------------------


class Seen(NamedTuple):
    """One answer, normalised: its status and its body (canonical JSON, or the text as sent)."""

    status: int
    body: str


Observation = tuple[Hashable, ...]
ProbeFn = Callable[[httpx.AsyncClient], Awaitable[Observation]]

RATE_HEADERS = ("retry-after", "x-rate-limit-remaining", "x-rate-limit-reset", "x-request-cost")
_NO_BODY = object()


def _url_shape(url: str) -> dict[str, Any]:
    """What a signed URL is made of, without its random key, timestamp and signature."""
    parts = urlsplit(url)
    return {
        "scheme": parts.scheme,
        "absolute": bool(parts.scheme and parts.netloc),
        "host": parts.hostname,
        "query_keys": sorted(parse_qs(parts.query, keep_blank_values=True)),
    }


def _seen(response: httpx.Response) -> Seen:
    """Normalise an answer; whether its body is JSON is judged by parsing it, not by its Content-Type."""
    try:
        value = json.loads(response.text)
    except ValueError:
        return Seen(response.status_code, "text:" + response.text)
    if isinstance(value, dict) and isinstance(value.get("SignedUrl"), str):
        value = {**value, "SignedUrl": _url_shape(value["SignedUrl"])}
    return Seen(response.status_code, "json:" + json.dumps(value, sort_keys=True))


async def _send(client: httpx.AsyncClient, method: str, url: str, token: str, body: Any = _NO_BODY) -> httpx.Response:
    kwargs: dict[str, Any] = {"headers": _headers(token)}
    if body is not _NO_BODY:
        kwargs["json"] = body
    return await client.request(method, url, **kwargs)


# --- the battery ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Probe:
    name: str
    doc: str  # one line: what the probe sends
    run: ProbeFn
    config: Mapping[str, Any] = field(default_factory=dict)  # ReferenceConfig overrides of this probe


PROBES: dict[str, Probe] = {}


def _register(name: str, doc: str, run: ProbeFn, **config: Any) -> None:
    assert name not in PROBES, f"duplicate probe {name}"
    run.__doc__ = doc
    PROBES[name] = Probe(name, doc, run, config)


def _one(method: str, url: str, token: str = "full", body: Any = _NO_BODY) -> ProbeFn:
    async def run(client: httpx.AsyncClient) -> Observation:
        return (_seen(await _send(client, method, url, token, body)),)

    return run


def _get(url: str, token: str = "full") -> ProbeFn:
    return _one("GET", url, token)


def _put_then_get(url: str, body: Any, token: str = "full") -> ProbeFn:
    """A PUT (with ``token``), then a GET of the same block (with the full token)."""

    async def run(client: httpx.AsyncClient) -> Observation:
        put = _seen(await _send(client, "PUT", url, token, body))
        return (put, _seen(await _send(client, "GET", url, "full")))

    return run


def _signed_url(body: Any, token: str = "upload") -> ProbeFn:
    return _one("POST", signed_url_url(), token, body)


OBJECT_21 = {"AcademicSessionOrgUnitId": 6000, "EndOfCourse": True, "PowerSchoolGradeType": 1, "SectionOrgUnitId": 6610}
NEW_OBJECT = {
    "AcademicSessionOrgUnitId": 6001,
    "EndOfCourse": False,
    "PowerSchoolGradeType": 2,
    "SectionOrgUnitId": 6611,
}
OBJECT_URL = grade_object_url()
OBJECT_NULLS_URL = grade_object_url(item=SEED.grade_object_with_nulls)

# Reads, across the version lifecycle.
_register("get-object-1.70", "GET grade object 21 at a current version.", _get(OBJECT_URL))
_register("get-object-nulls-1.70", "GET grade object 22 (nullable fields null) at 1.70.", _get(OBJECT_NULLS_URL))
_register("get-object-1.61", "GET grade object 21 at 1.61, before the 1.62 fields.", _get(grade_object_url(DEPRECATED)))
_register(
    "get-object-nulls-1.61",
    "GET grade object 22 at 1.61.",
    _get(grade_object_url(DEPRECATED, item=SEED.grade_object_with_nulls)),
)
_register("get-object-1.63-deprecated", "GET grade object 21 at deprecated 1.63.", _get(grade_object_url("1.63")))
_register("get-object-1.93-current", "GET grade object 21 at 1.93, the current version below the latest.",
          _get(grade_object_url("1.93")))  # fmt: skip
_register("get-object-1.94-latest", "GET grade object 21 at the latest version.", _get(grade_object_url(LATEST)))
_register("get-object-1.60-obsolete", "GET grade object 21 at obsolete 1.60.", _get(grade_object_url("1.60")))
_register("get-object-1.40-obsolete", "GET grade object 21 at obsolete 1.40.", _get(grade_object_url("1.40")))
_register("get-object-1.95-unreleased", "GET grade object 21 above LatestVersion.", _get(grade_object_url("1.95")))
_register("get-object-malformed-version", "GET grade object 21 at version 'abc'.", _get(grade_object_url("abc")))
_register("get-category-1.70", "GET grade category 11 at 1.70.", _get(category_url()))
_register("get-category-1.61", "GET grade category 11 at 1.61.", _get(category_url(DEPRECATED)))

# Supporting routes.
_register("versions-all", "GET /d2l/api/versions/ anonymously.", _get("/d2l/api/versions/", NO_TOKEN))
_register("versions-le", "GET /d2l/api/le/versions/ anonymously.", _get("/d2l/api/le/versions/", NO_TOKEN))
_register("versions-lp", "GET /d2l/api/lp/versions/ anonymously.", _get("/d2l/api/lp/versions/", NO_TOKEN))
_register("whoami", "GET whoami with the full token.", _get("/d2l/api/lp/1.50/users/whoami"))
_register("whoami-no-token", "GET whoami without a token.", _get("/d2l/api/lp/1.50/users/whoami", NO_TOKEN))
_register(
    "whoami-unknown-token",
    "GET whoami with a token never issued.",
    _get("/d2l/api/lp/1.50/users/whoami", UNKNOWN_TOKEN),
)

# Scopes and tokens.
_register("get-object-read-token", "GET grade object 21 with the read token.", _get(OBJECT_URL, "read"))
_register("get-object-unrelated-token", "GET grade object 21 with users:profile:read.", _get(OBJECT_URL, "unrelated"))
_register("get-object-write-token", "GET grade object 21 with the write-only token.", _get(OBJECT_URL, "write"))
_register(
    "get-object-comma-token", "GET grade object 21 with grades:gradeobjects:read,write.", _get(OBJECT_URL, "comma")
)
_register("get-object-wildcard-resource", "GET grade object 21 with grades:*:*.", _get(OBJECT_URL, "wildcard-resource"))
_register("get-object-upper-case", "GET grade object 21 with GRADES:GRADEOBJECTS:READ.", _get(OBJECT_URL, "upper-case"))
_register("get-object-prefix-glob", "GET grade object 21 with grade*:gradeobjects:read.", _get(OBJECT_URL, "prefix"))
_register("get-object-no-token", "GET grade object 21 without a token.", _get(OBJECT_URL, NO_TOKEN))
_register("get-object-unknown-token", "GET grade object 21 with a token never issued.", _get(OBJECT_URL, UNKNOWN_TOKEN))
_register("get-category-unrelated-token", "GET category 11 with users:profile:read.", _get(category_url(), "unrelated"))
_register("get-category-no-token", "GET category 11 without a token.", _get(category_url(), NO_TOKEN))
_register(
    "get-category-unknown-token", "GET category 11 with a token never issued.", _get(category_url(), UNKNOWN_TOKEN)
)
_register(
    "put-object-unrelated-token",
    "PUT a changed block with users:profile:read, then GET.",
    _put_then_get(OBJECT_URL, NEW_OBJECT, "unrelated"),
)
_register(
    "put-object-read-token",
    "PUT a changed block with the read token, then GET.",
    _put_then_get(OBJECT_URL, NEW_OBJECT, "read"),
)
_register(
    "put-object-comma-token",
    "PUT a changed block with grades:gradeobjects:read,write, then GET.",
    _put_then_get(OBJECT_URL, NEW_OBJECT, "comma"),
)
_register(
    "put-object-no-token",
    "PUT a changed block without a token, then GET.",
    _put_then_get(OBJECT_URL, NEW_OBJECT, NO_TOKEN),
)
_register(
    "put-object-unknown-token",
    "PUT a changed block with a token never issued, then GET.",
    _put_then_get(OBJECT_URL, NEW_OBJECT, UNKNOWN_TOKEN),
)
_register(
    "signed-url-unrelated-token",
    "POST signedurl with users:profile:read.",
    _signed_url({"FileName": "a.zip"}, "unrelated"),
)
_register("signed-url-read-token", "POST signedurl with the read token.", _signed_url({"FileName": "a.zip"}, "read"))
_register("signed-url-no-token", "POST signedurl without a token.", _signed_url({"FileName": "a.zip"}, NO_TOKEN))
_register(
    "signed-url-unknown-token",
    "POST signedurl with a token never issued.",
    _signed_url({"FileName": "a.zip"}, UNKNOWN_TOKEN),
)
_register("signed-url-wildcard-all", "POST signedurl with *:*:*.", _signed_url({"FileName": "a.zip"}, "wildcard-all"))

# Ids and org units.
_register("get-object-unknown-id", "GET grade object 999, which does not exist.", _get(grade_object_url(item=999)))
_register("get-category-unknown-id", "GET grade category 999, which does not exist.", _get(category_url(item=999)))
_register("get-object-huge-id", "GET grade object 2**40 under the known org unit.", _get(grade_object_url(item=2**40)))
_register(
    "get-object-foreign",
    "GET the foreign org unit's grade object under the seeded org unit.",
    _get(grade_object_url(item=SEED.foreign_grade_object)),
)
_register(
    "get-category-foreign",
    "GET the foreign org unit's category under the seeded org unit.",
    _get(category_url(item=SEED.foreign_grade_category)),
)

# PUTs, each followed by a GET of the same block.
_register("put-object-valid", "PUT a valid changed block, then GET.", _put_then_get(OBJECT_URL, NEW_OBJECT))
for _name in ("AcademicSessionOrgUnitId", "PowerSchoolGradeType", "SectionOrgUnitId"):
    _register(
        f"put-object-null-{_name}",
        f"PUT null into nullable {_name}, then GET.",
        _put_then_get(OBJECT_URL, {**OBJECT_21, _name: None}),
    )
_register(
    "put-object-null-EndOfCourse",
    "PUT null into non-nullable EndOfCourse, then GET.",
    _put_then_get(OBJECT_URL, {**OBJECT_21, "EndOfCourse": None}),
)
_register(
    "put-object-grade-type-7",
    "PUT PowerSchoolGradeType 7, then GET.",
    _put_then_get(OBJECT_URL, {**OBJECT_21, "PowerSchoolGradeType": 7}),
)
_register(
    "put-object-string-boolean",
    'PUT EndOfCourse "true" (a string), then GET.',
    _put_then_get(OBJECT_URL, {**OBJECT_21, "EndOfCourse": "true"}),
)
_register(
    "put-object-missing-EndOfCourse",
    "PUT a block without EndOfCourse, then GET.",
    _put_then_get(OBJECT_URL, {k: v for k, v in OBJECT_21.items() if k != "EndOfCourse"}),
)
_register(
    "put-object-partly-invalid",
    "PUT EndOfCourse 5 (invalid) with a changed SectionOrgUnitId, then GET.",
    _put_then_get(OBJECT_URL, {**OBJECT_21, "EndOfCourse": 5, "SectionOrgUnitId": 6611}),
)
_register(
    "put-object-1.61",
    "PUT a valid changed 1.61 block at 1.61, then GET at 1.61.",
    _put_then_get(grade_object_url(DEPRECATED), {"AcademicSessionOrgUnitId": 6001, "EndOfCourse": False}),
)
_register(
    "put-category-valid",
    "PUT a valid changed category block, then GET.",
    _put_then_get(category_url(), {"ExportToSIS": False, "AcademicSessionOrgUnitId": 6001}),
)
_register(
    "put-category-null-AcademicSessionOrgUnitId",
    "PUT null into the category's nullable AcademicSessionOrgUnitId, then GET.",
    _put_then_get(category_url(), {"ExportToSIS": True, "AcademicSessionOrgUnitId": None}),
)


async def _content_type(client: httpx.AsyncClient) -> Observation:
    """GET grade object 21 and observe only the media type of the 200."""
    response = await _send(client, "GET", OBJECT_URL, "full")
    return (response.status_code, response.headers.get("content-type", "").split(";")[0].strip())


_register("content-type-200", "GET grade object 21; observe the Content-Type only.", _content_type)

# Signed URLs.
_register("signed-url-valid", "POST signedurl with a file name.", _signed_url({"FileName": "grades.zip"}))
_register("signed-url-empty-file-name", "POST signedurl with an empty FileName.", _signed_url({"FileName": ""}))
_register("signed-url-missing-file-name", "POST signedurl without FileName.", _signed_url({}))


# Rate limiting: which headers are present, never their values.
def _rate_headers(response: httpx.Response) -> Observation:
    return (response.status_code, tuple(name for name in RATE_HEADERS if name in response.headers))


async def _rate_limited_200(client: httpx.AsyncClient) -> Observation:
    """GET grade object 21; observe the status and the rate-limit headers present."""
    return _rate_headers(await _send(client, "GET", OBJECT_URL, "full"))


async def _rate_limited_429(client: httpx.AsyncClient) -> Observation:
    """GET twice on a bucket of one call; observe the second answer's status and rate-limit headers."""
    await _send(client, "GET", OBJECT_URL, "full")
    return _rate_headers(await _send(client, "GET", OBJECT_URL, "full"))


_register("rate-limit-headers-200", "GET grade object 21; observe the rate-limit headers.", _rate_limited_200)
_register(
    "rate-limit-429",
    "A second call on a one-call bucket; observe the 429's headers.",
    _rate_limited_429,
    rate_limit_credits=10,
)


def _client(faults: frozenset[str], **overrides: Any) -> httpx.AsyncClient:
    """An in-process client of a freshly seeded reference LMS with the probe tokens and ``faults``.

    Like conftest's ``make_client``, but async: Starlette's TestClient hops threads on every request,
    which makes ~40 batteries of ~60 probes take half a minute instead of a few seconds.
    """
    app = create_app(make_config(tokens=tuple(PROBE_TOKENS.values()), faults=faults, **overrides))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


async def _run_probes(faults: frozenset[str]) -> dict[str, Observation]:
    observations = {}
    for probe in PROBES.values():
        async with _client(faults, **probe.config) as client:
            observations[probe.name] = await probe.run(client)
    return observations


def run_battery(faults: frozenset[str]) -> dict[str, Observation]:
    """Every probe, each on its own freshly seeded app with ``faults`` switched on."""
    return asyncio.run(_run_probes(faults))


@cache
def battery(faults: frozenset[str]) -> dict[str, Observation]:
    return run_battery(faults)


# --- what each fault must change --------------------------------------------------------------------

#: Probes with a 200 GradeObjectDetails in what they observe (the answers EndOfCourse is rendered in).
OBJECT_BLOCKS = {
    "get-object-1.70",
    "get-object-nulls-1.70",
    "get-object-1.61",
    "get-object-nulls-1.61",
    "get-object-1.63-deprecated",
    "get-object-1.93-current",
    "get-object-1.94-latest",
    "get-object-read-token",
    "get-object-comma-token",
    "get-object-wildcard-resource",
    "get-object-upper-case",
    "put-object-unrelated-token",  # its GET
    "put-object-read-token",
    "put-object-comma-token",
    "put-object-no-token",
    "put-object-unknown-token",
    "put-object-valid",
    "put-object-null-AcademicSessionOrgUnitId",
    "put-object-null-PowerSchoolGradeType",
    "put-object-null-SectionOrgUnitId",
    "put-object-null-EndOfCourse",
    "put-object-grade-type-7",
    "put-object-string-boolean",
    "put-object-missing-EndOfCourse",
    "put-object-partly-invalid",
    "put-object-1.61",
}
#: ... of which these carry a PowerSchoolGradeType that is not null (1.62+, not the nulls object, not set to null).
GRADE_TYPE_BLOCKS = OBJECT_BLOCKS - {
    "get-object-nulls-1.70",
    "get-object-1.61",
    "get-object-nulls-1.61",
    "put-object-1.61",
    "put-object-null-PowerSchoolGradeType",
}
#: Probes with a 200 GradeCategoryInfo.
CATEGORY_BLOCKS = {
    "get-category-1.70",
    "get-category-1.61",
    "get-category-unrelated-token",
    "put-category-valid",
    "put-category-null-AcademicSessionOrgUnitId",
}
#: Accepted PUTs whose new block differs from the stored one.
CHANGING_PUTS = {
    "put-object-valid",
    "put-object-comma-token",
    "put-object-null-AcademicSessionOrgUnitId",
    "put-object-null-PowerSchoolGradeType",
    "put-object-null-SectionOrgUnitId",
    "put-object-1.61",
    "put-category-valid",
    "put-category-null-AcademicSessionOrgUnitId",
}
#: Probes of a deprecated version (1.61-1.66).
DEPRECATED_VERSION = {
    "get-object-1.61",
    "get-object-nulls-1.61",
    "get-object-1.63-deprecated",
    "get-category-1.61",
    "put-object-1.61",
}
#: Probes answered 403 by the faithful app: a valid token that lacks a documented scope.
MISSING_SCOPE = {
    "get-object-unrelated-token",
    "get-object-write-token",
    "get-object-prefix-glob",
    "put-object-unrelated-token",
    "put-object-read-token",
    "signed-url-unrelated-token",
    "signed-url-read-token",
}
SIGNED_URLS_ISSUED = {"signed-url-valid", "signed-url-wildcard-all"}

EXPECTED_CHANGES: dict[str, set[str]] = {
    # nullability
    "null-end-of-course": OBJECT_BLOCKS,
    "null-export-to-sis": CATEGORY_BLOCKS,
    "unset-field-omitted": {
        # 1.62+ only: at 1.61 the null AcademicSessionOrgUnitId of object 22 stays (get-object-nulls-1.61).
        "get-object-nulls-1.70",
        "put-object-null-AcademicSessionOrgUnitId",
        "put-object-null-PowerSchoolGradeType",
        "put-object-null-SectionOrgUnitId",
        "put-category-null-AcademicSessionOrgUnitId",
    },
    "null-put-refused": {
        "put-object-null-AcademicSessionOrgUnitId",
        "put-object-null-PowerSchoolGradeType",
        "put-object-null-SectionOrgUnitId",
        "put-category-null-AcademicSessionOrgUnitId",
    },
    "null-put-accepted": {"put-object-null-EndOfCourse"},
    # versions
    "leak-since-fields": {"get-object-1.61", "get-object-nulls-1.61", "get-category-1.61", "put-object-1.61"},
    "serve-obsolete": {"get-object-1.60-obsolete", "get-object-1.40-obsolete"},
    "drop-deprecated": DEPRECATED_VERSION,
    "serve-unreleased": {"get-object-1.95-unreleased"},
    "malformed-version-500": {"get-object-malformed-version"},
    "versions-omit-deprecated": {"versions-all", "versions-le"},
    "current-version-gap": {"get-object-1.93-current"},
    # scopes
    "read-scope-ignored": {"get-object-unrelated-token", "get-object-write-token", "get-object-prefix-glob"},
    "write-scope-ignored": {"put-object-unrelated-token", "put-object-read-token"},
    "upload-scope-ignored": {"signed-url-unrelated-token", "signed-url-read-token"},
    "missing-scope-401": MISSING_SCOPE,
    "scope-case-sensitive": {"get-object-upper-case"},
    "wildcards-ignored": {"get-object-wildcard-resource", "signed-url-wildcard-all"},
    "comma-permissions-ignored": {"put-object-comma-token"},
    "scope-prefix-glob": {"get-object-prefix-glob"},
    "anonymous-allowed": {"get-object-no-token", "put-object-no-token", "get-category-no-token", "signed-url-no-token"},
    "unknown-token-accepted": {
        "get-object-unknown-token",
        "put-object-unknown-token",
        "get-category-unknown-token",
        "signed-url-unknown-token",
        "whoami-unknown-token",  # "any bearer token", not only on the IPSIS routes
    },
    # schema and status
    "unknown-id-500": {
        "get-object-unknown-id",
        "get-category-unknown-id",
        "get-object-huge-id",
    },  # 2**40 is unknown too
    "int32-ids": {"get-object-huge-id"},
    "foreign-org-unit-served": {"get-object-foreign", "get-category-foreign"},
    "grade-type-as-string": GRADE_TYPE_BLOCKS,
    "bad-enum-accepted": {"put-object-grade-type-7"},
    "wrong-type-accepted": {"put-object-string-boolean"},
    "missing-field-accepted": {"put-object-missing-EndOfCourse"},
    "text-content-type": {"content-type-200"},
    # state
    "put-not-persisted": CHANGING_PUTS,
    "rejected-put-partly-stored": {"put-object-partly-invalid"},
    "put-answers-old-block": CHANGING_PUTS,
    # signed URL
    "relative-signed-url": SIGNED_URLS_ISSUED,
    "http-signed-url": SIGNED_URLS_ISSUED,
    "empty-file-name-accepted": {"signed-url-empty-file-name"},
    "missing-file-name-500": {"signed-url-missing-file-name"},
    # rate limiting
    "no-rate-limit-headers": {"rate-limit-headers-200"},
    "throttle-without-retry-after": {"rate-limit-429"},
}

FAMILIES = {"nullability", "versions", "scopes", "schema", "state", "signed-url", "rate-limit"}


# --- tests ------------------------------------------------------------------------------------------


def test_expected_changes_cover_exactly_the_catalogue() -> None:
    """The table names every fault of the catalogue, and no other."""
    assert set(EXPECTED_CHANGES) - FAULTS.keys() == set(), "faults in the table but not in the catalogue"
    assert FAULTS.keys() - set(EXPECTED_CHANGES) == set(), "faults in the catalogue but not in the table"


def test_expected_changes_name_only_probes_of_the_battery() -> None:
    """A probe name in the table that is no probe (a typo) would make an expectation unmeetable."""
    unknown = {f"{fault}: {name}" for fault, names in EXPECTED_CHANGES.items() for name in names if name not in PROBES}
    assert unknown == set()


@pytest.mark.parametrize("fault", sorted(FAULTS), ids=str)
def test_fault_changes_exactly_what_it_names(fault: str) -> None:
    """Switching the fault on changes the observations of exactly the expected probes."""
    faithful = battery(frozenset())
    faulty = battery(frozenset({fault}))
    changed = {name for name in PROBES if faulty[name] != faithful[name]}
    assert changed, f"{fault} changes nothing a probe can see"
    expected = EXPECTED_CHANGES[fault]
    unexpected = sorted(changed - expected)
    missing = sorted(expected - changed)
    details = "".join(f"\n  {name}: faithful {faithful[name]!r}, faulty {faulty[name]!r}" for name in unexpected)
    assert changed == expected, f"{fault}: unexpected changes {unexpected}, missing changes {missing}{details}"


def test_faithful_app_is_deterministic() -> None:
    """Two runs of the battery on the faithful app observe the same things."""
    assert run_battery(frozenset()) == run_battery(frozenset())


def test_probes_are_documented() -> None:
    """Every probe says in one line what it sends."""
    for probe in PROBES.values():
        assert probe.doc.strip() and "\n" not in probe.doc, probe.name


@pytest.mark.parametrize("fault", sorted(FAULTS), ids=str)
def test_fault_is_described_and_names_a_requirement(fault: str) -> None:
    """A fault has a description, a known family and breaks a requirement of the spec."""
    entry = FAULTS[fault]
    assert entry.name == fault
    assert entry.description.strip()
    assert entry.family in FAMILIES
    assert entry.breaks in load_contract().requirements


def test_catalogue_is_large_and_covers_every_family() -> None:
    """At least 20 faults, and at least one in each family."""
    assert len(FAULTS) >= 20
    assert {fault.family for fault in FAULTS.values()} == FAMILIES


def test_unknown_fault_is_refused_with_the_allowed_names() -> None:
    """resolve_faults names what is allowed when it is given an unknown fault."""
    with pytest.raises(UnknownFaultError) as raised:
        resolve_faults(["nope"])
    message = str(raised.value)
    assert "nope" in message
    for name in FAULTS:
        assert name in message
