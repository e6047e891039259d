"""D2L's OAuth 2.0 scope grammar (d2l-facts.md, "Scope grammar") as conformance.scopes implements it."""

from __future__ import annotations

import re
from typing import Any

import pytest

from conformance.scopes import D2L_GRAMMAR, Scope, ScopeGrammar, grants, parse_scope_list

READ = "grades:gradeobjects:read"
WRITE = "grades:gradeobjects:write"
UPLOAD = "ipsis:batch:upload"
READ_WRITE = "grades:gradeobjects:read,write"

#: Entries D2L cannot parse and therefore ignores in a ``scope`` claim.
UNPARSABLE = ["garbage", "a:b", "a:b:c:d", "::", "grades::read", "grades:gradeobjects:", ""]


@pytest.mark.parametrize(
    ("claim", "required", "expected"),
    [
        # exact match
        pytest.param(READ, READ, True, id="exact-read"),
        pytest.param(WRITE, WRITE, True, id="exact-write"),
        pytest.param(UPLOAD, UPLOAD, True, id="exact-upload"),
        pytest.param(READ, WRITE, False, id="read-does-not-grant-write"),
        pytest.param(WRITE, READ, False, id="write-does-not-grant-read"),
        # comma permissions
        pytest.param(READ_WRITE, READ, True, id="comma-read-write-grants-read"),
        pytest.param(READ_WRITE, WRITE, True, id="comma-read-write-grants-write"),
        pytest.param("grades:gradeobjects:write,read", READ, True, id="comma-order-irrelevant"),
        pytest.param("grades:gradeobjects:read,delete", WRITE, False, id="comma-read-delete-not-write"),
        pytest.param("grades:gradeobjects:read,delete", READ, True, id="comma-read-delete-grants-read"),
        # wildcard in each position
        pytest.param("*:gradeobjects:read", READ, True, id="wildcard-group"),
        pytest.param("grades:*:read", READ, True, id="wildcard-resource"),
        pytest.param("grades:gradeobjects:*", READ, True, id="wildcard-permission-read"),
        pytest.param("grades:gradeobjects:*", WRITE, True, id="wildcard-permission-write"),
        pytest.param("grades:*:*", WRITE, True, id="wildcard-resource-and-permission"),
        pytest.param("*:*:*", READ, True, id="wildcard-all-read"),
        pytest.param("*:*:*", UPLOAD, True, id="wildcard-all-upload"),
        pytest.param("*:*:read", READ, True, id="wildcard-group-resource-read"),
        pytest.param("*:*:read", WRITE, False, id="wildcard-group-resource-read-not-write"),
        pytest.param("*:gradeobjects:read", UPLOAD, False, id="wildcard-group-wrong-resource"),
        pytest.param("grades:*:read", WRITE, False, id="wildcard-resource-wrong-permission"),
        pytest.param("grades:*:*", UPLOAD, False, id="wildcard-grades-not-ipsis"),
        pytest.param("grades:gradeobjects:read,*", WRITE, True, id="wildcard-inside-comma-list"),
        # case-insensitivity, segment by segment
        pytest.param("GRADES:gradeobjects:read", READ, True, id="case-group"),
        pytest.param("grades:GradeObjects:read", READ, True, id="case-resource"),
        pytest.param("grades:gradeobjects:READ", READ, True, id="case-permission"),
        pytest.param("GRADES:GradeObjects:READ", READ, True, id="case-all-segments"),
        pytest.param(READ, "GRADES:GradeObjects:READ", True, id="case-in-required"),
        pytest.param("grades:gradeobjects:READ,Write", WRITE, True, id="case-comma-permission"),
        # unrelated scopes
        pytest.param("users:profile:read", READ, False, id="unrelated-users-profile"),
        pytest.param(UPLOAD, READ, False, id="unrelated-upload-vs-read"),
        pytest.param(UPLOAD, WRITE, False, id="unrelated-upload-vs-write"),
        pytest.param(READ, UPLOAD, False, id="unrelated-read-vs-upload"),
        pytest.param("grades:gradecategories:read", READ, False, id="unrelated-gradecategories"),
        # space-separated lists
        pytest.param(f"users:profile:read {READ}", READ, True, id="list-grant-second"),
        pytest.param(f"users:profile:read {UPLOAD} {WRITE}", WRITE, True, id="list-grant-third"),
        pytest.param(f"users:profile:read {UPLOAD} {READ}", WRITE, False, id="list-no-grant"),
        pytest.param(f"{READ} grades:gradeobjects:write", WRITE, True, id="list-split-permissions"),
        # unparsable entries are ignored; a valid entry in the same list still grants
        *(pytest.param(f"{bad} {READ}", READ, True, id=f"unparsable-then-valid[{bad}]") for bad in UNPARSABLE if bad),
        pytest.param(f"{READ} garbage a:b", READ, True, id="valid-then-unparsable"),
        pytest.param("garbage a:b a:b:c:d :: grades::read grades:gradeobjects:", READ, False, id="only-unparsable"),
        pytest.param("grades:gradeobjects:read:write", READ, False, id="four-segments-not-read"),
        pytest.param("grades::read", READ, False, id="empty-resource-not-wildcard"),
        pytest.param("grades:gradeobjects:", READ, False, id="empty-permission-not-wildcard"),
        # prefix-looking patterns are literals, not globs
        pytest.param("g*:*:*", READ, False, id="prefix-g-star-group"),
        pytest.param("g2*:*:*", "g:resource:read", False, id="d2l-example-g2-star-does-not-match-g"),
        pytest.param("grade*:gradeobjects:read", READ, False, id="prefix-grade-star-group"),
        pytest.param("grades:gradeobject*:read", READ, False, id="prefix-resource"),
        pytest.param("grades:gradeobjects:r*", READ, False, id="prefix-permission"),
        pytest.param("grades2:gradeobjects:read", READ, False, id="longer-group"),
        pytest.param("grade:gradeobjects:read", READ, False, id="shorter-group"),
        pytest.param("grades:gradeobjects:reads", READ, False, id="longer-permission"),
        pytest.param("grades:gradeobjects:rea", READ, False, id="shorter-permission"),
        pytest.param("grades:gradeobject:read", READ, False, id="shorter-resource"),
        # empty claim
        pytest.param("", READ, False, id="empty-claim"),
        pytest.param("   ", READ, False, id="blank-claim"),
        # extra white space between entries
        pytest.param(f"  users:profile:read    {READ}  ", READ, True, id="extra-spaces"),
        pytest.param(f"users:profile:read\n{READ}", READ, True, id="newline-separated"),
        pytest.param(f"users:profile:read \n\t {UPLOAD}\r\n{WRITE}\n", WRITE, True, id="mixed-whitespace"),
    ],
)
def test_grants(claim: str, required: str, expected: bool) -> None:
    assert grants(claim, required) is expected
    assert D2L_GRAMMAR.grants(claim, required) is expected
    assert D2L_GRAMMAR.grants(parse_scope_list(claim), required) is expected


@pytest.mark.parametrize("required", [pytest.param(text, id=text or "empty") for text in UNPARSABLE])
def test_grants_rejects_unparsable_required_scope(required: str) -> None:
    with pytest.raises(ValueError, match=re.escape(repr(required))):
        grants(READ, required)


@pytest.mark.parametrize("text", [pytest.param(text, id=text or "empty") for text in [*UNPARSABLE, "   ", "a:b:,"]])
def test_parse_refuses_unparsable_entries(text: str) -> None:
    assert Scope.parse(text) is None


@pytest.mark.parametrize(
    ("text", "group", "resource", "permissions"),
    [
        pytest.param(READ, "grades", "gradeobjects", ("read",), id="single-permission"),
        pytest.param("grades:gradeobjects:write,read", "grades", "gradeobjects", ("write", "read"), id="order-kept"),
        pytest.param("GRADES:GradeObjects:Read,WRITE", "GRADES", "GradeObjects", ("Read", "WRITE"), id="case-kept"),
        pytest.param("*:*:*", "*", "*", ("*",), id="wildcards"),
        pytest.param(f"  {UPLOAD}\n", "ipsis", "batch", ("upload",), id="surrounding-whitespace"),
    ],
)
def test_parse_keeps_scope_as_written(text: str, group: str, resource: str, permissions: tuple[str, ...]) -> None:
    scope = Scope.parse(text)
    assert scope == Scope(group, resource, permissions)
    assert str(scope) == text.strip()


def test_parse_scope_list_drops_unparsable_entries() -> None:
    scopes = parse_scope_list(f"garbage {READ} a:b\n{UPLOAD} a:b:c:d grades:gradeobjects:read,write")
    assert scopes == (
        Scope("grades", "gradeobjects", ("read",)),
        Scope("ipsis", "batch", ("upload",)),
        Scope("grades", "gradeobjects", ("read", "write")),
    )
    assert parse_scope_list("") == ()
    assert parse_scope_list("garbage :: a:b") == ()


def test_d2l_grammar_is_the_default_grammar() -> None:
    defaults = ScopeGrammar(case_insensitive=True, wildcards=True, comma_permissions=True, prefix_globs=False)
    assert ScopeGrammar() == D2L_GRAMMAR
    assert defaults == D2L_GRAMMAR


@pytest.mark.parametrize(
    ("flag", "claim", "required", "d2l_expected", "flagged_expected"),
    [
        # case_insensitive=False: refuses a case difference, nothing else
        pytest.param({"case_insensitive": False}, "GRADES:GRADEOBJECTS:READ", READ, True, False, id="case-upper"),
        pytest.param({"case_insensitive": False}, "grades:GradeObjects:read", READ, True, False, id="case-resource"),
        pytest.param({"case_insensitive": False}, READ, READ, True, True, id="case-lower-still-grants"),
        pytest.param({"case_insensitive": False}, "grades:*:*", READ, True, True, id="case-wildcard-unaffected"),
        pytest.param({"case_insensitive": False}, READ, WRITE, False, False, id="case-mismatch-unaffected"),
        # wildcards=False: "*" is refused, exact scopes still grant
        pytest.param({"wildcards": False}, "grades:*:*", READ, True, False, id="wildcards-resource-permission"),
        pytest.param({"wildcards": False}, "*:*:*", UPLOAD, True, False, id="wildcards-all"),
        pytest.param({"wildcards": False}, "grades:gradeobjects:*", WRITE, True, False, id="wildcards-permission"),
        pytest.param({"wildcards": False}, READ, READ, True, True, id="wildcards-exact-still-grants"),
        pytest.param({"wildcards": False}, "GRADES:GradeObjects:READ", READ, True, True, id="wildcards-case"),
        # comma_permissions=False: only the first permission of a list counts
        pytest.param({"comma_permissions": False}, READ_WRITE, READ, True, True, id="comma-first-grants"),
        pytest.param({"comma_permissions": False}, READ_WRITE, WRITE, True, False, id="comma-second-refused"),
        pytest.param({"comma_permissions": False}, WRITE, WRITE, True, True, id="comma-single-unaffected"),
        # prefix_globs=True: "grade*" becomes a prefix glob
        pytest.param({"prefix_globs": True}, "grade*:gradeobjects:read", READ, False, True, id="globs-group"),
        pytest.param({"prefix_globs": True}, "g*:*:*", WRITE, False, True, id="globs-g-star"),
        pytest.param({"prefix_globs": True}, "grades:gradeobject*:read", READ, False, True, id="globs-resource"),
        pytest.param({"prefix_globs": True}, "users*:profile:read", READ, False, False, id="globs-other-prefix"),
        pytest.param({"prefix_globs": True}, "grades2:gradeobjects:read", READ, False, False, id="globs-grades2"),
        pytest.param({"prefix_globs": True}, READ, READ, True, True, id="globs-exact-unaffected"),
    ],
)
def test_grammar_flags(
    flag: dict[str, Any], claim: str, required: str, d2l_expected: bool, flagged_expected: bool
) -> None:
    assert D2L_GRAMMAR.grants(claim, required) is d2l_expected
    assert ScopeGrammar(**flag).grants(claim, required) is flagged_expected


@pytest.mark.parametrize(
    ("claim", "required", "expected"),
    [
        pytest.param("grades::gradeobjects:read", "grades:gradeobjects:read", True, id="empty-segment-dropped"),
        pytest.param(
            "grades:gradeobjects:read,,write", "grades:gradeobjects:write", True, id="empty-permission-dropped"
        ),
        pytest.param(":grades:gradeobjects:read", "grades:gradeobjects:read", True, id="leading-colon-dropped"),
        pytest.param("grades::read", "grades:gradeobjects:read", False, id="two-segments-after-dropping"),
    ],
)
def test_empty_pieces_are_dropped_like_d2l_scope_cs(claim: str, required: str, expected: bool) -> None:
    """D2L's Scope.cs splits with RemoveEmptyEntries: empty pieces vanish before segments are counted."""
    assert grants(claim, required) is expected
