"""The spec itself: it validates, every rule is an id'd requirement citing a real sentence."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from openapi_spec_validator import validate

from conformance.contract import (
    SPEC_FILE,
    Citation,
    Level,
    SourceTexts,
    load_contract,
    spec_dir,
    version_view,
)
from conformance.versions import ApiVersion, Status

SPEC_PATH = spec_dir() / SPEC_FILE
SHARED_DOCS = Path(__file__).resolve().parents[2] / "shared" / "docs"


def raw_spec() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(SPEC_PATH.read_text("utf-8"))
    return loaded


def referenced_ids(node: Any) -> list[str]:
    """Every requirement id named by an ``x-requirement(s)`` anywhere in the spec."""
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "x-requirement":
                found.append(value)
            elif key == "x-requirements" and all(isinstance(v, str) for v in value):
                found.extend(value)
            else:
                found.extend(referenced_ids(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(referenced_ids(item))
    return found


def test_spec_is_valid_openapi_3_1() -> None:
    spec = raw_spec()
    assert spec["openapi"].startswith("3.1")
    validate(spec)


def test_requirement_ids_are_unique() -> None:
    ids = [r["id"] for r in raw_spec()["x-requirements"]]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    assert not duplicates, f"duplicate requirement ids: {duplicates}"


@pytest.mark.parametrize("requirement", load_contract().requirements.values(), ids=lambda r: r.id)
def test_every_citation_is_a_sentence_of_its_source(requirement: Any) -> None:
    sources = SourceTexts.load()
    assert requirement.cites, f"{requirement.id} cites nothing"
    for citation in requirement.cites:
        assert sources.contains(citation), f"{requirement.id}: not in {citation.source}: {citation.quote!r}"


def test_a_misquote_is_caught() -> None:
    sources = SourceTexts.load()
    assert not sources.contains(Citation("ipsis-reference.txt", "Route first appears in LMS v20.25.1."))
    assert not sources.contains(Citation("nowhere.txt", "IPSIS"))


def test_every_referenced_requirement_exists_and_every_requirement_is_used() -> None:
    contract = load_contract()
    referenced = set(referenced_ids(raw_spec()))
    assert referenced - contract.requirements.keys() == set(), "spec names requirements that do not exist"
    # Requirements that are pure behaviour (no spec element can carry them) are listed here with why.
    behavioural = {
        "presence.since-absent-before",  # x-since carries it, per field
        "presence.since-present-from",
        "version.unsupported-not-served",
        "version.route-listed-are-served",
        "version.route-served-are-listed",
        "version.deprecation-headers",
        "status.documented",
        "status.documented.same-set",
        "status.no-server-error",
        "status.content-type-json",
        "status.foreign-org-unit-not-served",
        "put.null-accepted-for-nullable",
        "put.rejected-changes-nothing",
        "put.incomplete-block-400",
        "put.unknown-enum-400",
        "signed-url.https",
        "auth.granted-scope-accepted",
    }
    unused = contract.requirements.keys() - referenced - behavioural
    assert unused == set(), f"requirements no spec element names: {sorted(unused)}"


def test_copied_sources_match_the_shared_originals() -> None:
    """specs/ carries copies so the package never reads ../shared at run time; they must not drift."""
    if not SHARED_DOCS.is_dir():
        pytest.skip(f"no {SHARED_DOCS} beside this checkout: nothing to compare the copies with")
    for name in ("ipsis-reference.txt", "d2l-facts.md"):
        assert (spec_dir() / name).read_bytes() == (SHARED_DOCS / name).read_bytes(), name


def test_levels_and_families() -> None:
    contract = load_contract()
    assert {r.level for r in contract.requirements.values()} == set(Level)
    inferred_must = [r.id for r in contract.requirements.values() if r.basis == "inferred" and r.level is Level.MUST]
    # d2l-facts.md: "Where a fact is only [inferred] ... the suite must not fail a target on it".
    assert inferred_must == []


def test_five_ipsis_operations_with_their_documented_scopes() -> None:
    contract = load_contract()
    scopes = {op.operation_id: (op.method, op.scope, op.scope_documented) for op in contract.ipsis_operations}
    assert scopes == {
        "getGradeCategoryIpsis": ("GET", None, False),
        "putGradeCategoryIpsis": ("PUT", None, False),
        "getGradeObjectIpsis": ("GET", "grades:gradeobjects:read", True),
        "putGradeObjectIpsis": ("PUT", "grades:gradeobjects:write", True),
        "postIpsisSignedUrl": ("POST", "ipsis:batch:upload", True),
    }
    assert all(op.needs_token for op in contract.ipsis_operations)


def test_supporting_routes_are_marked_and_anonymous_where_d2l_says() -> None:
    contract = load_contract()
    supporting = {op.path: op.needs_token for op in contract.operations.values() if op.supporting}
    assert supporting == {
        "/d2l/api/versions/": False,
        "/d2l/api/{product}/versions/": False,
        "/d2l/api/lp/{version}/users/whoami": True,
    }


def test_blocks_fields_nullability_and_since() -> None:
    blocks = load_contract().blocks
    shape = {
        name: {f.name: (f.nullable, str(f.since) if f.since else None) for f in block.fields}
        for name, block in blocks.items()
    }
    assert shape == {
        "GradeCategoryInfo": {"ExportToSIS": (False, None), "AcademicSessionOrgUnitId": (True, "1.62")},
        "GradeObjectDetails": {
            "AcademicSessionOrgUnitId": (True, None),
            "EndOfCourse": (False, None),
            "PowerSchoolGradeType": (True, "1.62"),
            "SectionOrgUnitId": (True, "1.62"),
        },
        "FileNameData": {"FileName": (False, None)},
        "SignedUrlData": {"SignedUrl": (False, None)},
    }
    assert blocks["GradeObjectDetails"].field("PowerSchoolGradeType").enum == (0, 1, 2, None)


def test_ids_are_positive_integers_without_a_32_bit_cap() -> None:
    parameters = raw_spec()["components"]["parameters"]
    for name in ("OrgUnitId", "CategoryId", "GradeObjectId", "SourceSystemId"):
        schema = parameters[name]["schema"]
        assert schema == {"type": "integer", "minimum": 1}, name
    assert parameters["Version"]["schema"]["pattern"] == "^[0-9]+\\.[0-9]+$"


def test_lifecycle_as_the_page_states_it() -> None:
    lifecycle = load_contract().lifecycle()
    latest = ApiVersion(1, 94)
    assert [(r.status, str(r.first), str(r.last), r.lms_release) for r in lifecycle.ranges] == [
        (Status.CURRENT, "1.67", "None", "20.23.1"),
        (Status.DEPRECATED, "1.61", "1.66", "20.24.1"),
        (Status.OBSOLETE, "None", "1.60", "20.24.1"),
    ]
    assert lifecycle.status(ApiVersion(1, 60), latest) is Status.OBSOLETE


def test_no_error_body_schema_is_invented() -> None:
    responses = raw_spec()["components"]["responses"]
    assert all("content" not in response for response in responses.values())


def test_version_view_drops_fields_added_later() -> None:
    view = version_view(raw_spec(), ApiVersion(1, 61))
    schemas = view["components"]["schemas"]
    assert list(schemas["GradeObjectDetails"]["properties"]) == ["AcademicSessionOrgUnitId", "EndOfCourse"]
    assert schemas["GradeObjectDetails"]["required"] == ["AcademicSessionOrgUnitId", "EndOfCourse"]
    assert list(schemas["GradeCategoryInfo"]["properties"]) == ["ExportToSIS"]
    assert view["components"]["parameters"]["Version"]["schema"] == {"type": "string", "enum": ["1.61"]}
    validate(view)
    current = version_view(raw_spec(), ApiVersion(1, 62))
    assert len(current["components"]["schemas"]["GradeObjectDetails"]["required"]) == 4
    assert raw_spec() == yaml.safe_load(SPEC_PATH.read_text("utf-8")), "the view must not modify its input"
