"""Behaviour of the faithful reference LMS (no faults), through HTTP.

Every expected value here is written by hand from the vendor's page (``specs/ipsis-reference.txt``)
and ``specs/d2l-facts.md``; nothing is computed from the package under test. Seeded ids come from
``SEED``; the seeded blocks are restated below as literals.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from starlette.testclient import TestClient

from conformance.reference import SEED, Token
from conformance.reference.ratelimit import CreditBucket
from conformance.versions import ApiVersion
from tests.conftest import (
    CURRENT,
    DEPRECATED,
    LATEST,
    TOKENS,
    auth,
    category_url,
    grade_object_url,
    make_client,
    signed_url_url,
)

# --- Seeded blocks, by hand -----------------------------------------------------------------------

GRADE_OBJECT_21 = {
    "AcademicSessionOrgUnitId": 6000,
    "EndOfCourse": True,
    "PowerSchoolGradeType": 1,
    "SectionOrgUnitId": 6610,
}
GRADE_OBJECT_22_NULLS = {
    "AcademicSessionOrgUnitId": None,
    "EndOfCourse": False,
    "PowerSchoolGradeType": None,
    "SectionOrgUnitId": None,
}
FOREIGN_GRADE_OBJECT_31 = {
    "AcademicSessionOrgUnitId": 7000,
    "EndOfCourse": False,
    "PowerSchoolGradeType": 0,
    "SectionOrgUnitId": 7010,
}
CATEGORY_11 = {"ExportToSIS": True, "AcademicSessionOrgUnitId": 6000}
FOREIGN_CATEGORY_12 = {"ExportToSIS": False, "AcademicSessionOrgUnitId": None}

GRADE_OBJECT_FIELDS = {"AcademicSessionOrgUnitId", "EndOfCourse", "PowerSchoolGradeType", "SectionOrgUnitId"}
CATEGORY_FIELDS = {"ExportToSIS", "AcademicSessionOrgUnitId"}

#: Valid PUT bodies at 1.62+ that differ from every seeded value.
NEW_GRADE_OBJECT = {
    "AcademicSessionOrgUnitId": 6001,
    "EndOfCourse": False,
    "PowerSchoolGradeType": 2,
    "SectionOrgUnitId": 6611,
}
NEW_CATEGORY = {"ExportToSIS": False, "AcademicSessionOrgUnitId": 6001}

FILE_NAME = "D2LStdCSV-20240101120000.zip"  # the recommended batch file name (KB 23817)

#: Every LE version the faithful LMS serves at its default latest (1.94): 1.61 (deprecated) to 1.94.
SERVED_LE_VERSIONS = [f"1.{minor}" for minor in range(61, 95)]

UNKNOWN_ID = 99
UNKNOWN_ORG_UNIT = 9999


# --- Helpers --------------------------------------------------------------------------------------

#: The five IPSIS routes: method, URL at a version, a valid request body.
ROUTES: dict[str, tuple[str, Callable[[str], str], dict[str, Any] | None]] = {
    "GET grade object": ("GET", lambda v: grade_object_url(v), None),
    "PUT grade object": ("PUT", lambda v: grade_object_url(v), NEW_GRADE_OBJECT),
    "GET category": ("GET", lambda v: category_url(v), None),
    "PUT category": ("PUT", lambda v: category_url(v), NEW_CATEGORY),
    "POST signedurl": ("POST", lambda v: signed_url_url(v), {"FileName": FILE_NAME}),
}
#: The three routes whose scope the page documents.
DOCUMENTED_SCOPE_ROUTES = ("GET grade object", "PUT grade object", "POST signedurl")


def call(
    client: TestClient, route: str, version: str = CURRENT, headers: dict[str, str] | None = None
) -> httpx.Response:
    """Send ``route``'s valid request at ``version`` (with the full-scope token unless ``headers``)."""
    method, url, body = ROUTES[route]
    return client.request(method, url(version), json=body, headers=auth() if headers is None else headers)


def put_raw(client: TestClient, url: str, content: bytes, headers: dict[str, str] | None = None) -> httpx.Response:
    """PUT ``content`` as given, labelled as JSON."""
    return client.put(
        url, content=content, headers={**(auth() if headers is None else headers), "Content-Type": "application/json"}
    )


def with_value(block: dict[str, Any], name: str, value: Any) -> dict[str, Any]:
    return {**block, name: value}


def without(block: dict[str, Any], name: str) -> dict[str, Any]:
    return {key: value for key, value in block.items() if key != name}


def store_snapshot(client: TestClient) -> dict[str, Any]:
    snapshot: dict[str, Any] = client.app.state.lms.store.snapshot()  # type: ignore[attr-defined]
    return snapshot


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def install_fake_clock(client: TestClient) -> FakeClock:
    """Give the app a fresh credit bucket (same credits, window and cost) that reads a fake clock.

    The bucket takes its window start from its clock when it is built, so a new bucket is built
    rather than swapping the clock of the running one.
    """
    lms = client.app.state.lms  # type: ignore[attr-defined]
    clock = FakeClock()
    lms.bucket = CreditBucket(
        lms.config.rate_limit_credits, lms.config.rate_limit_window_seconds, lms.config.request_cost, clock=clock
    )
    return clock


@pytest.fixture
def tight_client() -> Iterator[TestClient]:
    """A reference LMS allowing three 10-credit calls per 60-second window."""
    with make_client(rate_limit_credits=30, rate_limit_window_seconds=60.0) as test_client:
        yield test_client


def rate_headers(response: httpx.Response) -> dict[str, str | None]:
    return {
        name: response.headers.get(name) for name in ("X-Rate-Limit-Remaining", "X-Rate-Limit-Reset", "X-Request-Cost")
    }


# --- Seeded data ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        pytest.param(grade_object_url(item=SEED.grade_object), GRADE_OBJECT_21, id="grade object 21"),
        pytest.param(category_url(item=SEED.grade_category), CATEGORY_11, id="category 11"),
        pytest.param(
            grade_object_url(org_unit=SEED.foreign_org_unit, item=SEED.foreign_grade_object),
            FOREIGN_GRADE_OBJECT_31,
            id="foreign org unit's grade object 31",
        ),
        pytest.param(
            category_url(org_unit=SEED.foreign_org_unit, item=SEED.foreign_grade_category),
            FOREIGN_CATEGORY_12,
            id="foreign org unit's category 12",
        ),
    ],
)
def test_get_returns_the_seeded_block(client: TestClient, url: str, expected: dict[str, Any]) -> None:
    response = client.get(url, headers=auth())
    assert response.status_code == 200
    assert response.json() == expected


def test_grade_object_with_nulls_returns_every_nullable_field_as_null(client: TestClient) -> None:
    response = client.get(grade_object_url(item=SEED.grade_object_with_nulls), headers=auth())
    assert response.status_code == 200
    assert response.json() == {
        "AcademicSessionOrgUnitId": None,
        "EndOfCourse": False,
        "PowerSchoolGradeType": None,
        "SectionOrgUnitId": None,
    }


def test_seeded_source_system_issues_a_signed_url(client: TestClient) -> None:
    response = client.post(
        signed_url_url(source_system=SEED.source_system), json={"FileName": FILE_NAME}, headers=auth()
    )
    assert response.status_code == 200
    assert set(response.json()) == {"SignedUrl"}


@pytest.mark.parametrize(
    "route",
    ["GET grade object", "PUT grade object", "GET category", "PUT category", "POST signedurl"],
)
def test_successful_ipsis_answer_is_json(client: TestClient, route: str) -> None:
    response = call(client, route)
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0].strip() == "application/json"
    assert isinstance(response.json(), dict)


# --- Not found ------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "PUT"])
@pytest.mark.parametrize(
    ("url", "body"),
    [
        pytest.param(
            grade_object_url(org_unit=UNKNOWN_ORG_UNIT), NEW_GRADE_OBJECT, id="grade object, unknown org unit"
        ),
        pytest.param(grade_object_url(item=UNKNOWN_ID), NEW_GRADE_OBJECT, id="unknown grade object"),
        pytest.param(category_url(org_unit=UNKNOWN_ORG_UNIT), NEW_CATEGORY, id="category, unknown org unit"),
        pytest.param(category_url(item=UNKNOWN_ID), NEW_CATEGORY, id="unknown category"),
        pytest.param(
            grade_object_url(item=SEED.grade_category), NEW_GRADE_OBJECT, id="a category id asked for as a grade object"
        ),
        pytest.param(
            category_url(item=SEED.grade_object), NEW_CATEGORY, id="a grade object id asked for as a category"
        ),
    ],
)
def test_unknown_org_unit_category_or_grade_object_answers_404(
    client: TestClient, method: str, url: str, body: dict[str, Any]
) -> None:
    response = client.request(method, url, json=body if method == "PUT" else None, headers=auth())
    assert response.status_code == 404


@pytest.mark.parametrize("source_system", [UNKNOWN_ID, SEED.source_system + 1, SEED.org_unit])
def test_unknown_source_system_answers_404(client: TestClient, source_system: int) -> None:
    response = client.post(signed_url_url(source_system=source_system), json={"FileName": FILE_NAME}, headers=auth())
    assert response.status_code == 404


@pytest.mark.parametrize("method", ["GET", "PUT"])
@pytest.mark.parametrize(
    ("url", "body", "untouched_url", "untouched"),
    [
        pytest.param(
            grade_object_url(org_unit=SEED.org_unit, item=SEED.foreign_grade_object),
            NEW_GRADE_OBJECT,
            grade_object_url(org_unit=SEED.foreign_org_unit, item=SEED.foreign_grade_object),
            FOREIGN_GRADE_OBJECT_31,
            id="foreign grade object 31 under org unit 6606",
        ),
        pytest.param(
            grade_object_url(org_unit=SEED.foreign_org_unit, item=SEED.grade_object),
            NEW_GRADE_OBJECT,
            grade_object_url(org_unit=SEED.org_unit, item=SEED.grade_object),
            GRADE_OBJECT_21,
            id="grade object 21 under org unit 6607",
        ),
        pytest.param(
            category_url(org_unit=SEED.org_unit, item=SEED.foreign_grade_category),
            NEW_CATEGORY,
            category_url(org_unit=SEED.foreign_org_unit, item=SEED.foreign_grade_category),
            FOREIGN_CATEGORY_12,
            id="foreign category 12 under org unit 6606",
        ),
        pytest.param(
            category_url(org_unit=SEED.foreign_org_unit, item=SEED.grade_category),
            NEW_CATEGORY,
            category_url(org_unit=SEED.org_unit, item=SEED.grade_category),
            CATEGORY_11,
            id="category 11 under org unit 6607",
        ),
    ],
)
def test_item_asked_for_under_the_foreign_org_unit_answers_404_and_is_left_alone(
    client: TestClient, method: str, url: str, body: dict[str, Any], untouched_url: str, untouched: dict[str, Any]
) -> None:
    response = client.request(method, url, json=body if method == "PUT" else None, headers=auth())
    assert response.status_code == 404
    assert client.get(untouched_url, headers=auth()).json() == untouched


BAD_IDS = [
    pytest.param("0", id="zero"),
    pytest.param("-1", id="negative"),
    pytest.param("-21", id="negative of a seeded id"),
    pytest.param("abc", id="non-numeric"),
    pytest.param("21abc", id="digits then letters"),
    pytest.param("21.0", id="decimal"),
    pytest.param("+21", id="plus sign"),
    pytest.param("021", id="leading zero"),
    pytest.param(str(2**32 + 21), id="2**32+21 (21 if truncated to 32 bits)"),
    pytest.param(str(2**63 + 5), id="2**63+5"),
    pytest.param(str(10**30), id="10**30"),
    pytest.param("9" * 5000, id="5000 digits (past Python's int conversion limit)"),
]


@pytest.mark.parametrize("bad_id", BAD_IDS)
@pytest.mark.parametrize(
    "template",
    [
        pytest.param("/d2l/api/le/{v}/{bad}/grades/21/ipsis", id="grade object route, org unit"),
        pytest.param("/d2l/api/le/{v}/6606/grades/{bad}/ipsis", id="grade object route, grade object"),
        pytest.param("/d2l/api/le/{v}/{bad}/grades/categories/11/ipsis", id="category route, org unit"),
        pytest.param("/d2l/api/le/{v}/6606/grades/categories/{bad}/ipsis", id="category route, category"),
    ],
)
def test_get_with_a_malformed_or_unknown_id_answers_404(client: TestClient, template: str, bad_id: str) -> None:
    """Ids are positive integers of no documented width: no 32-bit cap, so huge ids are 404, never 5xx."""
    response = client.get(template.format(v=CURRENT, bad=bad_id), headers=auth())
    assert response.status_code == 404


@pytest.mark.parametrize("bad_id", BAD_IDS)
def test_put_with_a_malformed_or_unknown_grade_object_id_answers_404_and_stores_nothing(
    client: TestClient, bad_id: str
) -> None:
    before = store_snapshot(client)
    response = client.put(f"/d2l/api/le/{CURRENT}/6606/grades/{bad_id}/ipsis", json=NEW_GRADE_OBJECT, headers=auth())
    assert response.status_code == 404
    assert store_snapshot(client) == before


@pytest.mark.parametrize("bad_id", BAD_IDS)
def test_signed_url_with_a_malformed_or_unknown_source_system_id_answers_404(client: TestClient, bad_id: str) -> None:
    response = client.post(
        f"/d2l/api/le/{CURRENT}/ipsis/upload/{bad_id}/signedurl", json={"FileName": FILE_NAME}, headers=auth()
    )
    assert response.status_code == 404


# --- Versions -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        pytest.param(
            grade_object_url(DEPRECATED, item=SEED.grade_object),
            {"AcademicSessionOrgUnitId": 6000, "EndOfCourse": True},
            id="grade object 21",
        ),
        pytest.param(
            grade_object_url(DEPRECATED, item=SEED.grade_object_with_nulls),
            {"AcademicSessionOrgUnitId": None, "EndOfCourse": False},
            id="grade object 22 (nulls)",
        ),
        pytest.param(category_url(DEPRECATED, item=SEED.grade_category), {"ExportToSIS": True}, id="category 11"),
        pytest.param(
            category_url(DEPRECATED, org_unit=SEED.foreign_org_unit, item=SEED.foreign_grade_category),
            {"ExportToSIS": False},
            id="category 12",
        ),
    ],
)
def test_at_1_61_the_fields_added_in_1_62_are_absent(client: TestClient, url: str, expected: dict[str, Any]) -> None:
    """GradeCategoryInfo.AcademicSessionOrgUnitId, GradeObjectDetails.PowerSchoolGradeType and SectionOrgUnitId."""
    response = client.get(url, headers=auth())
    assert response.status_code == 200
    assert response.json() == expected


@pytest.mark.parametrize("version", ["1.62", "1.63", "1.66", "1.67", CURRENT, LATEST])
@pytest.mark.parametrize(
    ("url", "expected"),
    [
        pytest.param(
            lambda v: grade_object_url(v, item=SEED.grade_object_with_nulls),
            GRADE_OBJECT_22_NULLS,
            id="grade object 22",
        ),
        pytest.param(lambda v: grade_object_url(v, item=SEED.grade_object), GRADE_OBJECT_21, id="grade object 21"),
        pytest.param(
            lambda v: category_url(v, org_unit=SEED.foreign_org_unit, item=SEED.foreign_grade_category),
            FOREIGN_CATEGORY_12,
            id="category 12 (null session)",
        ),
        pytest.param(lambda v: category_url(v, item=SEED.grade_category), CATEGORY_11, id="category 11"),
    ],
)
def test_from_1_62_the_added_fields_are_always_present_null_when_unset(
    client: TestClient, version: str, url: Callable[[str], str], expected: dict[str, Any]
) -> None:
    response = client.get(url(version), headers=auth())
    assert response.status_code == 200
    assert response.json() == expected


ALL_ROUTES = list(ROUTES)


@pytest.mark.parametrize("version", ["1.61", "1.62", "1.63", "1.64", "1.65", "1.66"])
@pytest.mark.parametrize("route", ALL_ROUTES)
def test_deprecated_versions_1_61_to_1_66_are_served(client: TestClient, route: str, version: str) -> None:
    assert call(client, route, version).status_code == 200


@pytest.mark.parametrize("version", ["1.67", "1.68", CURRENT, "1.80", "1.93", LATEST])
@pytest.mark.parametrize("route", ALL_ROUTES)
def test_current_versions_up_to_latest_are_served(client: TestClient, route: str, version: str) -> None:
    assert call(client, route, version).status_code == 200


@pytest.mark.parametrize(
    "version",
    [
        "1.60",
        "1.59",
        "1.40",
        "1.0",
        pytest.param("1.6", id="1.6 (below 1.61 numerically)"),
        pytest.param("1.9", id="1.9 (above 1.61 as text, below numerically)"),
        "0.99",
    ],
)
@pytest.mark.parametrize("route", ALL_ROUTES)
def test_obsolete_versions_answer_404(client: TestClient, route: str, version: str) -> None:
    assert call(client, route, version).status_code == 404


@pytest.mark.parametrize("version", ["1.95", pytest.param("1.100", id="1.100 (above 1.94 numerically)"), "2.0", "2.70"])
@pytest.mark.parametrize("route", ALL_ROUTES)
def test_versions_above_latest_answer_404(client: TestClient, route: str, version: str) -> None:
    assert call(client, route, version).status_code == 404


@pytest.mark.parametrize(
    "version", ["1", "1.6.7", "abc", "v1.70", "1.070", "01.70", "1.70a", "1.", ".70", "1-70", "1.7O"]
)
@pytest.mark.parametrize("route", ALL_ROUTES)
def test_malformed_versions_answer_404_never_5xx(client: TestClient, route: str, version: str) -> None:
    assert call(client, route, version).status_code == 404


def test_latest_le_version_is_configurable() -> None:
    with make_client(latest_le_version=ApiVersion(1, 80)) as client:
        assert client.get(grade_object_url("1.80"), headers=auth()).status_code == 200
        assert client.get(grade_object_url("1.81"), headers=auth()).status_code == 404
        assert client.get(grade_object_url(LATEST), headers=auth()).status_code == 404
        assert client.get(grade_object_url(DEPRECATED), headers=auth()).status_code == 200
        listed = client.get("/d2l/api/le/versions/").json()
    assert listed == {
        "ProductCode": "le",
        "LatestVersion": "1.80",
        "SupportedVersions": [f"1.{minor}" for minor in range(61, 81)],
    }


def test_versions_route_lists_exactly_the_served_le_versions_anonymously(client: TestClient) -> None:
    response = client.get("/d2l/api/versions/")
    assert response.status_code == 200
    products = response.json()
    assert isinstance(products, list)
    le_entries = [entry for entry in products if entry["ProductCode"] == "le"]
    assert le_entries == [{"ProductCode": "le", "LatestVersion": LATEST, "SupportedVersions": SERVED_LE_VERSIONS}]


def test_le_versions_route_lists_exactly_the_served_le_versions_anonymously(client: TestClient) -> None:
    response = client.get("/d2l/api/le/versions/")
    assert response.status_code == 200
    assert response.json() == {"ProductCode": "le", "LatestVersion": LATEST, "SupportedVersions": SERVED_LE_VERSIONS}


def test_every_listed_le_version_serves_the_ipsis_routes(client: TestClient) -> None:
    listed = client.get("/d2l/api/le/versions/").json()["SupportedVersions"]
    refused = {version: call(client, "GET grade object", version).status_code for version in listed}
    assert refused == dict.fromkeys(listed, 200)


@pytest.mark.parametrize("product", ["nosuchproduct", "xyz"])
def test_versions_of_an_unknown_product_answer_404(client: TestClient, product: str) -> None:
    assert client.get(f"/d2l/api/{product}/versions/").status_code == 404


@pytest.mark.parametrize("label", ["full", "unrelated", "read"])
def test_whoami_returns_the_identifier_for_any_valid_token(client: TestClient, label: str) -> None:
    response = client.get("/d2l/api/lp/1.50/users/whoami", headers=auth(label))
    assert response.status_code == 200
    identifier = response.json()["Identifier"]
    assert isinstance(identifier, str)
    assert identifier


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="no token"),
        pytest.param({"Authorization": "Bearer not-a-token"}, id="unknown token"),
    ],
)
def test_whoami_without_a_valid_token_answers_401(client: TestClient, headers: dict[str, str]) -> None:
    assert client.get("/d2l/api/lp/1.50/users/whoami", headers=headers).status_code == 401


# --- PUT ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "body"),
    [
        *(
            pytest.param(grade_object_url(), without(NEW_GRADE_OBJECT, name), id=f"grade object at 1.70 without {name}")
            for name in sorted(GRADE_OBJECT_FIELDS)
        ),
        *(
            pytest.param(category_url(), without(NEW_CATEGORY, name), id=f"category at 1.70 without {name}")
            for name in sorted(CATEGORY_FIELDS)
        ),
        pytest.param(
            grade_object_url(DEPRECATED),
            {"EndOfCourse": False},
            id="grade object at 1.61 without AcademicSessionOrgUnitId",
        ),
        pytest.param(
            grade_object_url(DEPRECATED),
            {"AcademicSessionOrgUnitId": 6001},
            id="grade object at 1.61 without EndOfCourse",
        ),
        pytest.param(
            category_url(DEPRECATED), {"AcademicSessionOrgUnitId": 6001}, id="category at 1.61 without ExportToSIS"
        ),
        pytest.param(grade_object_url(), {}, id="grade object, empty object"),
        pytest.param(category_url(), {}, id="category, empty object"),
    ],
)
def test_put_missing_a_field_of_the_version_block_answers_400(
    client: TestClient, url: str, body: dict[str, Any]
) -> None:
    before = client.get(url, headers=auth()).json()
    assert client.put(url, json=body, headers=auth()).status_code == 400
    assert client.get(url, headers=auth()).json() == before


def test_put_at_1_61_without_the_1_62_fields_keeps_the_stored_1_62_fields(client: TestClient) -> None:
    go_response = client.put(
        grade_object_url(DEPRECATED), json={"AcademicSessionOrgUnitId": 6001, "EndOfCourse": False}, headers=auth()
    )
    assert go_response.status_code == 200
    assert go_response.json() == {"AcademicSessionOrgUnitId": 6001, "EndOfCourse": False}
    assert client.get(grade_object_url(CURRENT), headers=auth()).json() == {
        "AcademicSessionOrgUnitId": 6001,
        "EndOfCourse": False,
        "PowerSchoolGradeType": 1,
        "SectionOrgUnitId": 6610,
    }

    category_response = client.put(category_url(DEPRECATED), json={"ExportToSIS": False}, headers=auth())
    assert category_response.status_code == 200
    assert category_response.json() == {"ExportToSIS": False}
    assert client.get(category_url(CURRENT), headers=auth()).json() == {
        "ExportToSIS": False,
        "AcademicSessionOrgUnitId": 6000,
    }


def test_put_at_1_61_ignores_the_1_62_fields_as_unknown_fields(client: TestClient) -> None:
    """At 1.61 the 1.62 fields are not part of the block: like any unknown field, they are not stored."""
    response = client.put(grade_object_url(DEPRECATED), json=NEW_GRADE_OBJECT, headers=auth())
    assert response.status_code == 200
    assert response.json() == {"AcademicSessionOrgUnitId": 6001, "EndOfCourse": False}
    assert client.get(grade_object_url(CURRENT), headers=auth()).json() == {
        "AcademicSessionOrgUnitId": 6001,
        "EndOfCourse": False,
        "PowerSchoolGradeType": 1,
        "SectionOrgUnitId": 6610,
    }


WRONG_TYPES = [
    # GradeObjectDetails
    pytest.param("grade object", "EndOfCourse", "true", id="EndOfCourse string 'true'"),
    pytest.param("grade object", "EndOfCourse", "false", id="EndOfCourse string 'false'"),
    pytest.param("grade object", "EndOfCourse", 1, id="EndOfCourse integer 1"),
    pytest.param("grade object", "EndOfCourse", 0, id="EndOfCourse integer 0"),
    pytest.param("grade object", "EndOfCourse", [], id="EndOfCourse array"),
    pytest.param("grade object", "AcademicSessionOrgUnitId", True, id="AcademicSessionOrgUnitId boolean"),
    pytest.param("grade object", "AcademicSessionOrgUnitId", "6000", id="AcademicSessionOrgUnitId string id"),
    pytest.param("grade object", "AcademicSessionOrgUnitId", 1.5, id="AcademicSessionOrgUnitId float 1.5"),
    pytest.param("grade object", "AcademicSessionOrgUnitId", 0, id="AcademicSessionOrgUnitId 0"),
    pytest.param("grade object", "AcademicSessionOrgUnitId", -6000, id="AcademicSessionOrgUnitId negative"),
    pytest.param("grade object", "AcademicSessionOrgUnitId", {"Id": 6000}, id="AcademicSessionOrgUnitId object"),
    pytest.param("grade object", "SectionOrgUnitId", False, id="SectionOrgUnitId boolean"),
    pytest.param("grade object", "SectionOrgUnitId", "6610", id="SectionOrgUnitId string id"),
    pytest.param("grade object", "SectionOrgUnitId", 1.5, id="SectionOrgUnitId float 1.5"),
    pytest.param("grade object", "SectionOrgUnitId", 0, id="SectionOrgUnitId 0"),
    pytest.param("grade object", "PowerSchoolGradeType", True, id="PowerSchoolGradeType boolean"),
    pytest.param("grade object", "PowerSchoolGradeType", "1", id="PowerSchoolGradeType string"),
    pytest.param("grade object", "PowerSchoolGradeType", "Points", id="PowerSchoolGradeType name"),
    pytest.param("grade object", "PowerSchoolGradeType", 1.5, id="PowerSchoolGradeType float 1.5"),
    # GradeCategoryInfo
    pytest.param("category", "ExportToSIS", "true", id="ExportToSIS string 'true'"),
    pytest.param("category", "ExportToSIS", 1, id="ExportToSIS integer 1"),
    pytest.param("category", "AcademicSessionOrgUnitId", True, id="category AcademicSessionOrgUnitId boolean"),
    pytest.param("category", "AcademicSessionOrgUnitId", "6000", id="category AcademicSessionOrgUnitId string id"),
    pytest.param("category", "AcademicSessionOrgUnitId", 1.5, id="category AcademicSessionOrgUnitId float 1.5"),
    pytest.param("category", "AcademicSessionOrgUnitId", 0, id="category AcademicSessionOrgUnitId 0"),
]


def _block_target(block: str) -> tuple[str, dict[str, Any]]:
    return (grade_object_url(), NEW_GRADE_OBJECT) if block == "grade object" else (category_url(), NEW_CATEGORY)


@pytest.mark.parametrize(("block", "name", "value"), WRONG_TYPES)
def test_put_with_a_wrong_type_answers_400(client: TestClient, block: str, name: str, value: Any) -> None:
    url, valid = _block_target(block)
    assert client.put(url, json=with_value(valid, name, value), headers=auth()).status_code == 400


@pytest.mark.parametrize("grade_type", [3, -1, 4, 100])
def test_put_with_an_unknown_power_school_grade_type_answers_400(client: TestClient, grade_type: int) -> None:
    """POWERSCHOOL_GRADE_TYPE_T is Points 0, Percent 1, Gradescale 2; "Grade" is a heading, not 3."""
    body = with_value(NEW_GRADE_OBJECT, "PowerSchoolGradeType", grade_type)
    assert client.put(grade_object_url(), json=body, headers=auth()).status_code == 400


@pytest.mark.parametrize(
    "grade_type",
    [pytest.param(0, id="Points 0"), pytest.param(1, id="Percent 1"), pytest.param(2, id="Gradescale 2"), None],
)
def test_put_accepts_every_power_school_grade_type_and_null(client: TestClient, grade_type: int | None) -> None:
    body = with_value(NEW_GRADE_OBJECT, "PowerSchoolGradeType", grade_type)
    response = client.put(grade_object_url(), json=body, headers=auth())
    assert response.status_code == 200
    assert response.json()["PowerSchoolGradeType"] == grade_type
    assert client.get(grade_object_url(), headers=auth()).json()["PowerSchoolGradeType"] == grade_type


@pytest.mark.parametrize(
    ("block", "name"),
    [
        pytest.param("grade object", "EndOfCourse", id="EndOfCourse"),
        pytest.param("category", "ExportToSIS", id="ExportToSIS"),
    ],
)
def test_put_with_null_in_a_non_nullable_field_answers_400(client: TestClient, block: str, name: str) -> None:
    url, valid = _block_target(block)
    before = client.get(url, headers=auth()).json()
    assert client.put(url, json=with_value(valid, name, None), headers=auth()).status_code == 400
    assert client.get(url, headers=auth()).json() == before


@pytest.mark.parametrize(
    ("url", "seeded", "name"),
    [
        pytest.param(
            grade_object_url(), GRADE_OBJECT_21, "AcademicSessionOrgUnitId", id="grade object AcademicSessionOrgUnitId"
        ),
        pytest.param(
            grade_object_url(), GRADE_OBJECT_21, "PowerSchoolGradeType", id="grade object PowerSchoolGradeType"
        ),
        pytest.param(grade_object_url(), GRADE_OBJECT_21, "SectionOrgUnitId", id="grade object SectionOrgUnitId"),
        pytest.param(category_url(), CATEGORY_11, "AcademicSessionOrgUnitId", id="category AcademicSessionOrgUnitId"),
    ],
)
def test_put_with_null_in_a_nullable_field_is_stored_and_read_back_as_null(
    client: TestClient, url: str, seeded: dict[str, Any], name: str
) -> None:
    body = with_value(seeded, name, None)
    response = client.put(url, json=body, headers=auth())
    assert response.status_code == 200
    assert response.json() == body
    got = client.get(url, headers=auth()).json()
    assert name in got
    assert got[name] is None
    assert got == body


@pytest.mark.parametrize(
    ("url", "valid"),
    [
        pytest.param(grade_object_url(), NEW_GRADE_OBJECT, id="grade object"),
        pytest.param(category_url(), NEW_CATEGORY, id="category"),
    ],
)
def test_put_ignores_unknown_extra_fields(client: TestClient, url: str, valid: dict[str, Any]) -> None:
    """Accepted, not stored, not echoed."""
    body = {**valid, "UnknownField": 42, "Comment": "not an IPSIS field"}
    response = client.put(url, json=body, headers=auth())
    assert response.status_code == 200
    assert response.json() == valid
    assert client.get(url, headers=auth()).json() == valid
    assert "UnknownField" not in json.dumps(store_snapshot(client))


NOT_AN_OBJECT = [
    pytest.param(b"not json", id="not JSON"),
    pytest.param(b"", id="empty body"),
    pytest.param(b'{"EndOfCourse": true', id="truncated JSON"),
    pytest.param(b"\xff\xfe\x00", id="not UTF-8"),
    pytest.param(b"[]", id="empty array"),
    pytest.param(b"null", id="JSON null"),
    pytest.param(b"42", id="JSON number"),
    pytest.param(b'"text"', id="JSON string"),
    pytest.param(b"true", id="JSON boolean"),
]


@pytest.mark.parametrize("content", NOT_AN_OBJECT)
@pytest.mark.parametrize(
    "url", [pytest.param(grade_object_url(), id="grade object"), pytest.param(category_url(), id="category")]
)
def test_put_with_a_body_that_is_not_a_json_object_answers_400(client: TestClient, url: str, content: bytes) -> None:
    assert put_raw(client, url, content).status_code == 400


@pytest.mark.parametrize(
    ("url", "valid"),
    [
        pytest.param(grade_object_url(), NEW_GRADE_OBJECT, id="grade object"),
        pytest.param(category_url(), NEW_CATEGORY, id="category"),
    ],
)
def test_put_with_a_json_array_holding_a_valid_block_answers_400(
    client: TestClient, url: str, valid: dict[str, Any]
) -> None:
    assert put_raw(client, url, json.dumps([valid]).encode()).status_code == 400


@pytest.mark.parametrize(
    ("url", "content", "headers", "status"),
    [
        pytest.param(
            grade_object_url(),
            json.dumps({**NEW_GRADE_OBJECT, "PowerSchoolGradeType": 3}).encode(),
            auth(),
            400,
            id="grade object, valid fields beside grade type 3",
        ),
        pytest.param(
            grade_object_url(),
            json.dumps({**NEW_GRADE_OBJECT, "EndOfCourse": None}).encode(),
            auth(),
            400,
            id="grade object, valid fields beside null EndOfCourse",
        ),
        pytest.param(
            grade_object_url(),
            json.dumps(without(NEW_GRADE_OBJECT, "SectionOrgUnitId")).encode(),
            auth(),
            400,
            id="grade object, three valid fields of four",
        ),
        pytest.param(
            grade_object_url(),
            json.dumps({**NEW_GRADE_OBJECT, "AcademicSessionOrgUnitId": "6001"}).encode(),
            auth(),
            400,
            id="grade object, string id beside valid fields",
        ),
        pytest.param(
            category_url(),
            json.dumps({**NEW_CATEGORY, "ExportToSIS": "false"}).encode(),
            auth(),
            400,
            id="category, valid session beside string ExportToSIS",
        ),
        pytest.param(
            category_url(),
            json.dumps(without(NEW_CATEGORY, "ExportToSIS")).encode(),
            auth(),
            400,
            id="category, valid session without ExportToSIS",
        ),
        pytest.param(grade_object_url(), b"not json", auth(), 400, id="grade object, not JSON"),
        pytest.param(
            grade_object_url(), json.dumps([NEW_GRADE_OBJECT]).encode(), auth(), 400, id="grade object, array"
        ),
        pytest.param(
            grade_object_url(), json.dumps(NEW_GRADE_OBJECT).encode(), auth("read"), 403, id="grade object, read token"
        ),
        pytest.param(grade_object_url(), json.dumps(NEW_GRADE_OBJECT).encode(), {}, 401, id="grade object, no token"),
        pytest.param(category_url(), json.dumps(NEW_CATEGORY).encode(), {}, 401, id="category, no token"),
    ],
)
def test_rejected_put_changes_nothing(
    client: TestClient, url: str, content: bytes, headers: dict[str, str], status: int
) -> None:
    seeded_before = store_snapshot(client)
    get_before = client.get(url, headers=auth()).json()
    response = put_raw(client, url, content, headers)
    assert response.status_code == status
    assert client.get(url, headers=auth()).json() == get_before
    assert store_snapshot(client) == seeded_before


@pytest.mark.parametrize(
    ("url", "body", "other_url", "other"),
    [
        pytest.param(
            grade_object_url(),
            NEW_GRADE_OBJECT,
            grade_object_url(item=SEED.grade_object_with_nulls),
            GRADE_OBJECT_22_NULLS,
            id="grade object 21",
        ),
        pytest.param(
            grade_object_url(item=SEED.grade_object_with_nulls),
            {
                "AcademicSessionOrgUnitId": 6002,
                "EndOfCourse": True,
                "PowerSchoolGradeType": 0,
                "SectionOrgUnitId": 6612,
            },
            grade_object_url(),
            GRADE_OBJECT_21,
            id="grade object 22 from nulls to values",
        ),
        pytest.param(
            category_url(),
            NEW_CATEGORY,
            category_url(org_unit=SEED.foreign_org_unit, item=SEED.foreign_grade_category),
            FOREIGN_CATEGORY_12,
            id="category 11",
        ),
    ],
)
def test_successful_put_returns_the_stored_block_and_get_returns_it(
    client: TestClient, url: str, body: dict[str, Any], other_url: str, other: dict[str, Any]
) -> None:
    response = client.put(url, json=body, headers=auth())
    assert response.status_code == 200
    assert response.json() == body
    assert client.get(url, headers=auth()).json() == body
    assert client.get(other_url, headers=auth()).json() == other


@pytest.mark.parametrize(
    ("url", "valid", "name"),
    [
        pytest.param(
            grade_object_url(), NEW_GRADE_OBJECT, "AcademicSessionOrgUnitId", id="grade object AcademicSessionOrgUnitId"
        ),
        pytest.param(grade_object_url(), NEW_GRADE_OBJECT, "SectionOrgUnitId", id="grade object SectionOrgUnitId"),
        pytest.param(category_url(), NEW_CATEGORY, "AcademicSessionOrgUnitId", id="category AcademicSessionOrgUnitId"),
    ],
)
def test_put_accepts_an_integer_valued_float_id_as_that_integer(
    client: TestClient, url: str, valid: dict[str, Any], name: str
) -> None:
    """JSON has one number type: 515.0 is the integer 515."""
    response = put_raw(client, url, json.dumps(with_value(valid, name, 515.0)).encode())
    assert response.status_code == 200
    assert response.json() == with_value(valid, name, 515)
    got = client.get(url, headers=auth())
    assert got.json() == with_value(valid, name, 515)
    assert type(got.json()[name]) is int
    assert f'"{name}":515.0' not in got.text.replace(" ", "")


@pytest.mark.parametrize("huge", [pytest.param(2**31, id="2**31"), pytest.param(2**63 + 5, id="2**63+5")])
def test_put_accepts_an_id_beyond_32_bits_and_returns_it_exactly(client: TestClient, huge: int) -> None:
    body = with_value(NEW_GRADE_OBJECT, "SectionOrgUnitId", huge)
    response = client.put(grade_object_url(), json=body, headers=auth())
    assert response.status_code == 200
    assert response.json() == body
    assert client.get(grade_object_url(), headers=auth()).json()["SectionOrgUnitId"] == huge


@pytest.mark.parametrize(
    "number",
    [pytest.param("NaN", id="NaN"), pytest.param("Infinity", id="Infinity"), pytest.param("1e300", id="1e300")],
)
def test_put_refuses_numbers_that_name_no_exact_integer(client: TestClient, number: str) -> None:
    """NaN and Infinity are not JSON (RFC 8259); 1e300 as a float no longer says which integer it is."""
    before = store_snapshot(client)
    content = json.dumps(NEW_GRADE_OBJECT).replace("6611", number).encode()
    assert put_raw(client, grade_object_url(), content).status_code == 400
    assert store_snapshot(client) == before


@pytest.mark.parametrize("label", ["read", "full"])
def test_head_reads_like_get_and_never_writes(client: TestClient, label: str) -> None:
    """Starlette answers HEAD on GET routes: it needs the read scope and a body sent with it is not stored."""
    before = store_snapshot(client)
    response = client.request("HEAD", grade_object_url(), headers=auth(label), json=NEW_GRADE_OBJECT)
    assert response.status_code == 200
    assert response.content == b""
    assert store_snapshot(client) == before


def test_head_needs_the_read_scope(client: TestClient) -> None:
    assert client.request("HEAD", grade_object_url(), headers=auth("write")).status_code == 403


def test_head_on_a_category_route_reads_when_category_scopes_are_required() -> None:
    with make_client(require_category_scopes=True) as client:
        assert client.request("HEAD", category_url(), headers=auth("categories")).status_code == 200
        assert client.request("HEAD", category_url(), headers=auth("read")).status_code == 403


# --- POST signedurl -------------------------------------------------------------------------------


@pytest.mark.parametrize("version", [DEPRECATED, CURRENT, LATEST])
def test_signed_url_is_an_absolute_https_url_shaped_like_an_s3_presigned_put_url(
    client: TestClient, version: str
) -> None:
    response = client.post(signed_url_url(version), json={"FileName": FILE_NAME}, headers=auth())
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"SignedUrl"}
    signed = urlsplit(body["SignedUrl"])
    assert signed.scheme == "https"
    assert signed.netloc
    assert signed.path.startswith("/")
    query = parse_qs(signed.query)
    assert {"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature", "X-Amz-Expires"} <= set(query)
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert query["X-Amz-Credential"][0].endswith("/s3/aws4_request")
    assert int(query["X-Amz-Expires"][0]) > 0
    assert query["X-Amz-Signature"][0]


@pytest.mark.parametrize(
    ("file_name", "encoded"),
    [
        pytest.param(FILE_NAME, "D2LStdCSV-20240101120000.zip", id="recommended name"),
        pytest.param("batch file #1.zip", "batch%20file%20%231.zip", id="space and hash"),
        pytest.param("notes?v=2&x.zip", "notes%3Fv%3D2%26x.zip", id="query characters"),
        pytest.param("é.zip", "%C3%A9.zip", id="non-ASCII"),
    ],
)
def test_signed_url_contains_the_url_encoded_file_name(client: TestClient, file_name: str, encoded: str) -> None:
    response = client.post(signed_url_url(), json={"FileName": file_name}, headers=auth())
    assert response.status_code == 200
    signed = response.json()["SignedUrl"]
    assert encoded in urlsplit(signed).path
    if encoded != file_name:
        assert file_name not in signed


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"{}", id="missing FileName"),
        pytest.param(b'{"Filename": "a.zip"}', id="FileName misspelt"),
        pytest.param(b'{"FileName": ""}', id="empty FileName"),
        pytest.param(b'{"FileName": 123}', id="FileName number"),
        pytest.param(b'{"FileName": null}', id="FileName null"),
        pytest.param(b'{"FileName": true}', id="FileName boolean"),
        pytest.param(b'{"FileName": ["a.zip"]}', id="FileName array"),
        pytest.param(b'["D2LStdCSV-20240101120000.zip"]', id="array body"),
        pytest.param(b'"D2LStdCSV-20240101120000.zip"', id="string body"),
        pytest.param(b"null", id="null body"),
        pytest.param(b"not json", id="not JSON"),
        pytest.param(b"", id="empty body"),
    ],
)
def test_signed_url_request_without_a_valid_file_name_answers_400(client: TestClient, content: bytes) -> None:
    response = client.post(signed_url_url(), content=content, headers={**auth(), "Content-Type": "application/json"})
    assert response.status_code == 400


# --- Auth -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="no token"),
        pytest.param({"Authorization": "Bearer test-nobody"}, id="unknown token"),
        pytest.param({"Authorization": "Bearer "}, id="empty bearer"),
        pytest.param(
            {"Authorization": "Basic " + base64.b64encode(b"test-full:").decode()}, id="Basic with the token as user"
        ),
        pytest.param({"Authorization": "Basic test-full"}, id="Basic carrying a valid token value"),
        pytest.param({"Authorization": "test-full"}, id="token without scheme"),
    ],
)
@pytest.mark.parametrize("route", ALL_ROUTES)
def test_request_without_a_valid_bearer_token_answers_401(
    client: TestClient, route: str, headers: dict[str, str]
) -> None:
    assert call(client, route, headers=headers).status_code == 401


@pytest.mark.parametrize(
    ("route", "label"),
    [
        pytest.param("GET grade object", "write", id="GET grade object with write token"),
        pytest.param("PUT grade object", "read", id="PUT grade object with read token"),
        pytest.param("POST signedurl", "read", id="POST signedurl with read token"),
        pytest.param("POST signedurl", "unrelated", id="POST signedurl with unrelated token"),
    ],
)
def test_token_lacking_the_scope_answers_403_insufficient_scope(client: TestClient, route: str, label: str) -> None:
    response = call(client, route, headers=auth(label))
    assert response.status_code == 403
    assert "Insufficient scope to call" in response.text


#: Derived by hand from D2L's grammar: label -> granted for (GET grade object, PUT grade object, POST signedurl).
SCOPE_TABLE: dict[str, tuple[bool, bool, bool]] = {
    "full": (True, True, True),
    "read": (True, False, False),
    "write": (False, True, False),
    "upload": (False, False, True),
    "comma": (True, True, False),  # grades:gradeobjects:read,write
    "wildcard-resource": (True, True, False),  # grades:*:*
    "wildcard-all": (True, True, True),  # *:*:*
    "upper-case": (True, False, False),  # GRADES:GRADEOBJECTS:READ
    "categories": (False, False, False),  # grades:gradecategories:read/write
    "unrelated": (False, False, False),  # users:profile:read
    "prefix-pattern": (False, False, False),  # grade*:gradeobjects:read: "grade*" is a literal group
}


@pytest.mark.parametrize(
    ("route", "label", "granted"),
    [
        pytest.param(
            route,
            label,
            SCOPE_TABLE[label][index],
            id=f"{route} / {label} / {'granted' if SCOPE_TABLE[label][index] else '403'}",
        )
        for index, route in enumerate(DOCUMENTED_SCOPE_ROUTES)
        for label in TOKENS
    ],
)
def test_documented_scope_grants_or_refuses_each_test_token(
    client: TestClient, route: str, label: str, granted: bool
) -> None:
    response = call(client, route, headers=auth(label))
    if granted:
        assert response.status_code == 200
    else:
        assert response.status_code == 403
        assert "Insufficient scope to call" in response.text


@pytest.mark.parametrize(
    "scopes",
    [
        pytest.param("grades*:gradeobjects:read", id="group prefix glob"),
        pytest.param("g*:*:*", id="short group prefix glob"),
        pytest.param("grades:gradeobj*:read", id="resource prefix glob"),
        pytest.param("grades:gradeobjects:re*", id="permission prefix glob"),
    ],
)
def test_a_segment_ending_in_a_star_is_not_a_prefix_glob(scopes: str) -> None:
    """``*`` is a wildcard only as a whole segment: ``g2*:*:*`` does not match group ``g`` (d2l-facts.md)."""
    with make_client(tokens=(Token("glob", "test-glob", scopes),)) as client:
        response = client.get(grade_object_url(), headers={"Authorization": "Bearer test-glob"})
    assert response.status_code == 403
    assert "Insufficient scope to call" in response.text


@pytest.mark.parametrize("label", list(TOKENS))
@pytest.mark.parametrize("route", ["GET category", "PUT category"])
def test_category_routes_accept_any_valid_token_by_default(client: TestClient, route: str, label: str) -> None:
    """The category routes' scope is undocumented: by default every valid token works, even ``unrelated``."""
    assert call(client, route, headers=auth(label)).status_code == 200


#: With require_category_scopes: label -> granted for (GET category, PUT category).
CATEGORY_SCOPE_TABLE: dict[str, tuple[bool, bool]] = {
    "full": (False, False),
    "read": (False, False),
    "write": (False, False),
    "upload": (False, False),
    "comma": (False, False),
    "wildcard-resource": (True, True),  # grades:*:*
    "wildcard-all": (True, True),
    "upper-case": (False, False),
    "categories": (True, True),  # grades:gradecategories:read grades:gradecategories:write
    "unrelated": (False, False),
    "prefix-pattern": (False, False),
}


@pytest.mark.parametrize(
    ("route", "label", "granted"),
    [
        pytest.param(
            route,
            label,
            CATEGORY_SCOPE_TABLE[label][index],
            id=f"{route} / {label} / {'granted' if CATEGORY_SCOPE_TABLE[label][index] else '403'}",
        )
        for index, route in enumerate(("GET category", "PUT category"))
        for label in TOKENS
    ],
)
def test_category_routes_need_gradecategories_scopes_when_required(route: str, label: str, granted: bool) -> None:
    with make_client(require_category_scopes=True) as client:
        response = call(client, route, headers=auth(label))
    if granted:
        assert response.status_code == 200
    else:
        assert response.status_code == 403
        assert "Insufficient scope to call" in response.text


def test_category_read_scope_does_not_grant_write_when_scopes_are_required() -> None:
    with make_client(
        require_category_scopes=True,
        tokens=(*TOKENS.values(), Token("cat-read", "test-cat-read", "grades:gradecategories:read")),
    ) as client:
        headers = {"Authorization": "Bearer test-cat-read"}
        assert client.get(category_url(), headers=headers).status_code == 200
        assert client.put(category_url(), json=NEW_CATEGORY, headers=headers).status_code == 403


@pytest.mark.parametrize("route", ["GET category", "PUT category"])
def test_category_routes_without_a_token_answer_401_when_scopes_are_required(route: str) -> None:
    with make_client(require_category_scopes=True) as client:
        assert call(client, route, headers={}).status_code == 401


# --- Rate limiting --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url", "headers", "body", "status"),
    [
        pytest.param("GET", grade_object_url(), auth(), None, 200, id="200 GET grade object"),
        pytest.param("POST", signed_url_url(), auth(), {"FileName": FILE_NAME}, 200, id="200 POST signedurl"),
        pytest.param("GET", "/d2l/api/versions/", {}, None, 200, id="200 anonymous versions"),
        pytest.param("GET", grade_object_url(), {}, None, 401, id="401 no token"),
        pytest.param("PUT", grade_object_url(), auth("read"), NEW_GRADE_OBJECT, 403, id="403 missing scope"),
        pytest.param("GET", grade_object_url(item=UNKNOWN_ID), auth(), None, 404, id="404 unknown grade object"),
        pytest.param("GET", grade_object_url("1.60"), auth(), None, 404, id="404 obsolete version"),
        pytest.param("PUT", grade_object_url(), auth(), {"EndOfCourse": True}, 400, id="400 incomplete PUT"),
        pytest.param("POST", signed_url_url(), auth(), {}, 400, id="400 signedurl without FileName"),
    ],
)
def test_every_response_carries_the_rate_limit_headers(
    client: TestClient, method: str, url: str, headers: dict[str, str], body: dict[str, Any] | None, status: int
) -> None:
    response = client.request(method, url, json=body, headers=headers)
    assert response.status_code == status
    assert response.headers["X-Request-Cost"] == "10"
    assert response.headers["X-Rate-Limit-Remaining"] == str(50_000 - 10)
    reset = int(response.headers["X-Rate-Limit-Reset"])
    assert 1 <= reset <= 60


def test_each_call_costs_10_credits_whatever_its_status(client: TestClient) -> None:
    answers = [
        (client.get(grade_object_url(), headers=auth()), 200),
        (client.get(grade_object_url(), headers={}), 401),
        (client.put(grade_object_url(), json=NEW_GRADE_OBJECT, headers=auth("read")), 403),
        (client.get(grade_object_url(item=UNKNOWN_ID), headers=auth()), 404),
        (client.put(grade_object_url(), json={}, headers=auth()), 400),
        (client.get("/d2l/api/le/versions/"), 200),
    ]
    assert [response.status_code for response, _ in answers] == [s for _, s in answers]
    assert [int(r.headers["X-Rate-Limit-Remaining"]) for r, _ in answers] == [
        49_990,
        49_980,
        49_970,
        49_960,
        49_950,
        49_940,
    ]
    assert {r.headers["X-Request-Cost"] for r, _ in answers} == {"10"}


def test_call_over_the_credit_limit_answers_429_with_retry_after_and_no_rate_headers(tight_client: TestClient) -> None:
    remaining = [int(call(tight_client, "GET grade object").headers["X-Rate-Limit-Remaining"]) for _ in range(3)]
    assert remaining == [20, 10, 0]
    throttled = call(tight_client, "GET grade object")
    assert throttled.status_code == 429
    retry_after = throttled.headers["Retry-After"]
    assert retry_after.isdigit()
    assert int(retry_after) > 0
    assert rate_headers(throttled) == {
        "X-Rate-Limit-Remaining": None,
        "X-Rate-Limit-Reset": None,
        "X-Request-Cost": None,
    }


def test_throttling_applies_to_every_route_and_to_anonymous_calls(tight_client: TestClient) -> None:
    for _ in range(3):
        assert call(tight_client, "GET category").status_code == 200
    assert tight_client.get("/d2l/api/versions/").status_code == 429
    assert call(tight_client, "POST signedurl").status_code == 429
    assert call(tight_client, "GET grade object", headers={}).status_code == 429


def test_rate_limit_reset_counts_down_the_seconds_left_in_the_window(tight_client: TestClient) -> None:
    clock = install_fake_clock(tight_client)
    assert call(tight_client, "GET grade object").headers["X-Rate-Limit-Reset"] == "60"
    clock.advance(15)
    assert call(tight_client, "GET grade object").headers["X-Rate-Limit-Reset"] == "45"
    clock.advance(25)
    last = call(tight_client, "GET grade object")
    assert last.headers["X-Rate-Limit-Reset"] == "20"
    assert last.headers["X-Rate-Limit-Remaining"] == "0"
    throttled = call(tight_client, "GET grade object")
    assert throttled.status_code == 429
    assert throttled.headers["Retry-After"] == "20"


def test_bucket_refills_after_the_window(tight_client: TestClient) -> None:
    clock = install_fake_clock(tight_client)
    for _ in range(3):
        assert call(tight_client, "GET grade object").status_code == 200
    assert call(tight_client, "GET grade object").status_code == 429
    clock.advance(59)
    still = call(tight_client, "GET grade object")
    assert still.status_code == 429
    assert still.headers["Retry-After"] == "1"
    clock.advance(1)
    refilled = call(tight_client, "GET grade object")
    assert refilled.status_code == 200
    assert refilled.headers["X-Rate-Limit-Remaining"] == "20"
    assert refilled.headers["X-Rate-Limit-Reset"] == "60"
    assert refilled.json() == GRADE_OBJECT_21


# --- Fresh state per app --------------------------------------------------------------------------


def test_put_on_one_app_is_not_visible_in_a_new_app() -> None:
    with make_client() as first:
        assert first.put(grade_object_url(), json=NEW_GRADE_OBJECT, headers=auth()).status_code == 200
        assert first.put(category_url(), json=NEW_CATEGORY, headers=auth()).status_code == 200
        with make_client() as second:
            assert second.get(grade_object_url(), headers=auth()).json() == GRADE_OBJECT_21
            assert second.get(category_url(), headers=auth()).json() == CATEGORY_11
        assert first.get(grade_object_url(), headers=auth()).json() == NEW_GRADE_OBJECT


# --- extra_response_field -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url", "body", "documented"),
    [
        pytest.param("GET", grade_object_url(), None, GRADE_OBJECT_21, id="GET grade object"),
        pytest.param(
            "GET",
            grade_object_url(item=SEED.grade_object_with_nulls),
            None,
            GRADE_OBJECT_22_NULLS,
            id="GET grade object 22",
        ),
        pytest.param(
            "GET",
            grade_object_url(DEPRECATED),
            None,
            {"AcademicSessionOrgUnitId": 6000, "EndOfCourse": True},
            id="GET grade object at 1.61",
        ),
        pytest.param("GET", category_url(), None, CATEGORY_11, id="GET category"),
        pytest.param("PUT", grade_object_url(), NEW_GRADE_OBJECT, NEW_GRADE_OBJECT, id="PUT grade object"),
        pytest.param("PUT", category_url(), NEW_CATEGORY, NEW_CATEGORY, id="PUT category"),
    ],
)
def test_extra_response_field_adds_one_undocumented_field_to_ipsis_blocks(
    method: str, url: str, body: dict[str, Any] | None, documented: dict[str, Any]
) -> None:
    with make_client(extra_response_field=True) as client:
        response = client.request(method, url, json=body, headers=auth())
        stored_after = client.get(url, headers=auth()).json()
    assert response.status_code == 200
    answer = response.json()
    extra = set(answer) - set(documented)
    assert len(extra) == 1
    assert {name: value for name, value in answer.items() if name not in extra} == documented
    assert {name: value for name, value in stored_after.items() if name not in extra} == documented


def test_extra_response_field_adds_one_field_to_the_signed_url_block() -> None:
    with make_client(extra_response_field=True) as client:
        response = client.post(signed_url_url(), json={"FileName": FILE_NAME}, headers=auth())
    assert response.status_code == 200
    answer = response.json()
    assert "SignedUrl" in answer
    assert len(set(answer) - {"SignedUrl"}) == 1
    assert urlsplit(answer["SignedUrl"]).scheme == "https"


def test_extra_response_field_changes_nothing_else() -> None:
    """Errors, versions and the stored data are what a faithful LMS answers."""
    with make_client(extra_response_field=True) as client:
        assert client.get(grade_object_url(item=UNKNOWN_ID), headers=auth()).status_code == 404
        assert client.get(grade_object_url(), headers={}).status_code == 401
        assert call(client, "PUT grade object", headers=auth("read")).status_code == 403
        assert client.put(grade_object_url(), json={"EndOfCourse": True}, headers=auth()).status_code == 400
        assert client.get(grade_object_url("1.60"), headers=auth()).status_code == 404
        assert client.get("/d2l/api/le/versions/").json() == {
            "ProductCode": "le",
            "LatestVersion": LATEST,
            "SupportedVersions": SERVED_LE_VERSIONS,
        }
        (extra_name,) = set(client.get(grade_object_url(), headers=auth()).json()) - GRADE_OBJECT_FIELDS
        response = client.put(grade_object_url(), json={**NEW_GRADE_OBJECT, extra_name: "sent back"}, headers=auth())
        assert response.status_code == 200
        assert response.json()[extra_name] != "sent back"
        assert "sent back" not in json.dumps(store_snapshot(client))
        assert response.headers["X-Request-Cost"] == "10"
