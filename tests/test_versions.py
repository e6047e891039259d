"""D2LVERSION parsing, ordering and the IPSIS routes' version lifecycle (d2l-facts.md, "Versions")."""

from __future__ import annotations

import re

import pytest

from conformance.contract import load_contract
from conformance.versions import ApiVersion, Lifecycle, Status

LATEST = ApiVersion(1, 94)


@pytest.fixture(scope="module")
def lifecycle() -> Lifecycle:
    return load_contract().lifecycle()


@pytest.mark.parametrize(
    ("text", "major", "minor"),
    [
        pytest.param("1.67", 1, 67, id="1.67"),
        pytest.param("1.0", 1, 0, id="1.0"),
        pytest.param("10.5", 10, 5, id="10.5"),
        pytest.param("0.0", 0, 0, id="0.0"),
        pytest.param("1.10", 1, 10, id="1.10"),
    ],
)
def test_parse_valid(text: str, major: int, minor: int) -> None:
    version = ApiVersion.parse(text)
    assert version == ApiVersion(major, minor)
    assert (version.major, version.minor) == (major, minor)
    assert str(version) == text
    assert ApiVersion.try_parse(text) == version


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("1", id="major-only"),
        pytest.param("1.", id="missing-minor"),
        pytest.param(".5", id="missing-major"),
        pytest.param("1.6.7", id="three-parts"),
        pytest.param("01.5", id="leading-zero-major"),
        pytest.param("1.05", id="leading-zero-minor"),
        pytest.param("00.0", id="double-zero"),
        pytest.param("v1.6", id="v-prefix"),
        pytest.param("1,6", id="comma"),
        pytest.param(" 1.6", id="leading-space"),
        pytest.param("1.6 ", id="trailing-space"),
        pytest.param("1.6\n", id="trailing-newline"),
        pytest.param("", id="empty"),
        pytest.param("1.6a", id="trailing-letter"),
        pytest.param("-1.6", id="negative"),
        pytest.param("+1.6", id="plus-sign"),
        pytest.param("\uff11.\uff16", id="fullwidth-digits"),
        pytest.param("\u0661.\u0666", id="arabic-indic-digits"),
    ],
)
def test_parse_invalid(text: str) -> None:
    with pytest.raises(ValueError, match=re.escape(repr(text))):
        ApiVersion.parse(text)
    assert ApiVersion.try_parse(text) is None


def test_ordering_is_numeric() -> None:
    texts = ["2.0", "1.67", "1.9", "1.10"]
    assert [str(v) for v in sorted(ApiVersion.parse(t) for t in texts)] == ["1.9", "1.10", "1.67", "2.0"]
    assert ApiVersion(1, 9) < ApiVersion(1, 10) < ApiVersion(1, 67) < ApiVersion(2, 0)
    assert ApiVersion(2, 0) > ApiVersion(1, 94)
    assert ApiVersion(1, 67) <= ApiVersion(1, 67)
    assert ApiVersion(1, 67) >= ApiVersion(1, 66)
    assert not ApiVersion(1, 67) < ApiVersion(1, 67)


def test_equality_and_hash() -> None:
    assert ApiVersion.parse("1.6") == ApiVersion(1, 6)
    assert hash(ApiVersion.parse("1.6")) == hash(ApiVersion(1, 6))
    assert ApiVersion(1, 6) != ApiVersion(1, 60)
    assert len({ApiVersion.parse("1.60"), ApiVersion(1, 60), ApiVersion(1, 6)}) == 2
    assert ApiVersion(1, 6) != "1.6"


def test_ordering_against_other_types_is_refused() -> None:
    with pytest.raises(TypeError):
        _ = ApiVersion(1, 6) < "1.7"  # type: ignore[operator]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        *(pytest.param(t, Status.OBSOLETE, id=t) for t in ["1.0", "1.40", "1.59", "1.60"]),
        *(pytest.param(f"1.{m}", Status.DEPRECATED, id=f"1.{m}") for m in range(61, 67)),
        *(pytest.param(t, Status.CURRENT, id=t) for t in ["1.67", "1.80", "1.94"]),
        *(pytest.param(t, Status.UNRELEASED, id=t) for t in ["1.95", "2.0"]),
    ],
)
def test_status(lifecycle: Lifecycle, text: str, expected: Status) -> None:
    assert lifecycle.status(ApiVersion.parse(text), latest=LATEST) is expected


@pytest.mark.parametrize(
    ("status", "served"),
    [
        pytest.param(Status.CURRENT, True, id="current"),
        pytest.param(Status.DEPRECATED, True, id="deprecated"),
        pytest.param(Status.OBSOLETE, False, id="obsolete"),
        pytest.param(Status.UNRELEASED, False, id="unreleased"),
        pytest.param(Status.UNKNOWN, False, id="unknown"),
    ],
)
def test_status_served(status: Status, served: bool) -> None:
    assert status.served is served


def test_served_versions(lifecycle: Lifecycle) -> None:
    assert lifecycle.served_versions(LATEST) == [ApiVersion(1, m) for m in range(61, 95)]


def test_served_versions_end_at_latest(lifecycle: Lifecycle) -> None:
    served = lifecycle.served_versions(ApiVersion(1, 70))
    assert served == [ApiVersion(1, m) for m in range(61, 71)]
    assert served[-1] == ApiVersion(1, 70)


def test_served_versions_of_a_new_major_include_the_listed_ones_of_the_old(lifecycle: Lifecycle) -> None:
    """At LatestVersion 2.3 the last 1.x minor is known only from what the target lists."""
    listed = [ApiVersion(1, 60), ApiVersion(1, 61), ApiVersion(1, 99), ApiVersion(2, 1)]
    served = lifecycle.served_versions(ApiVersion(2, 3), also=listed)
    assert served == [ApiVersion(1, 61), ApiVersion(1, 99), *(ApiVersion(2, m) for m in range(4))]


def test_deprecated_range(lifecycle: Lifecycle) -> None:
    deprecated = lifecycle.range_for(Status.DEPRECATED)
    assert deprecated is not None
    assert deprecated.lms_release == "20.24.1"
    assert (deprecated.first, deprecated.last) == (ApiVersion(1, 61), ApiVersion(1, 66))
    assert lifecycle.range_for(Status.UNRELEASED) is None
