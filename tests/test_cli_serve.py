"""``ipsis-conformance serve``: a real process on loopback, and its usage errors (exit 2, no traceback)."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
import pytest

from conformance.cli import main
from conformance.reference import FAULTS
from tests.serving import serve_process

pytestmark = pytest.mark.slow

GRADE_OBJECT = "/d2l/api/le/1.70/6606/grades/21/ipsis"


def test_serve_prints_its_tokens_and_answers_over_http() -> None:
    with serve_process() as served:
        assert "faults: none (faithful)" in served.banner
        assert set(served.tokens) >= {"full", "read", "write", "upload", "unrelated"}
        versions = httpx.get(served.base_url + "/d2l/api/versions/")
        assert versions.status_code == 200
        assert {"ProductCode": "le", "LatestVersion": "1.94"}.items() <= versions.json()[0].items()
        full = {"Authorization": f"Bearer {served.tokens['full']}"}
        answer = httpx.get(served.base_url + GRADE_OBJECT, headers=full)
        assert answer.status_code == 200
        assert answer.json()["EndOfCourse"] is True
        read_only = {"Authorization": f"Bearer {served.tokens['read']}"}
        assert httpx.put(served.base_url + GRADE_OBJECT, headers=read_only, json={}).status_code == 403


def test_serve_options_latest_version_fault_and_category_scopes() -> None:
    with serve_process("--latest-version", "1.80", "--fault", "serve-obsolete", "--require-category-scopes") as served:
        assert "LE latest 1.80" in served.banner and "faults: serve-obsolete" in served.banner
        full = {"Authorization": f"Bearer {served.tokens['full']}"}
        assert httpx.get(served.base_url + GRADE_OBJECT.replace("1.70", "1.81"), headers=full).status_code == 404
        assert httpx.get(served.base_url + GRADE_OBJECT.replace("1.70", "1.50"), headers=full).status_code == 200
        category = "/d2l/api/le/1.70/6606/grades/categories/11/ipsis"
        assert httpx.get(served.base_url + category, headers=full).status_code == 403
        categories = {"Authorization": f"Bearer {served.tokens['categories']}"}
        assert httpx.get(served.base_url + category, headers=categories).status_code == 200


def test_tokens_file_is_used_and_its_values_are_not_printed(tmp_path: Path) -> None:
    tokens = tmp_path / "tokens.toml"
    tokens.write_text('[[tokens]]\nvalue = "canary-7f3a"\nscopes = "grades:gradeobjects:read"\nlabel = "qa"\n')
    with serve_process("--tokens", str(tokens)) as served:
        assert "canary-7f3a" not in served.banner
        assert "1 from the tokens file" in served.banner
        ok = httpx.get(served.base_url + GRADE_OBJECT, headers={"Authorization": "Bearer canary-7f3a"})
        assert ok.status_code == 200


def test_rate_limit_options() -> None:
    with serve_process("--rate-limit", "20", "--rate-window", "60") as served:
        first = httpx.get(served.base_url + "/d2l/api/versions/")
        assert first.headers["X-Rate-Limit-Remaining"] == "10"
        httpx.get(served.base_url + "/d2l/api/versions/")
        throttled = httpx.get(served.base_url + "/d2l/api/versions/")
        assert throttled.status_code == 429
        assert int(throttled.headers["Retry-After"]) >= 1


def test_list_faults_lists_the_whole_catalogue(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--list-faults"]) == 0
    listing = capsys.readouterr().out
    for name, fault in FAULTS.items():
        assert name in listing and fault.breaks in listing


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param("not toml [", "not valid TOML", id="not-toml"),
        pytest.param("", "expected at least one [[tokens]]", id="empty"),
        pytest.param('[[tokens]]\nscopes = "a:b:c"\n', "value must be a non-empty string", id="no-value"),
        pytest.param('[[tokens]]\nvalue = "x"\n', "scopes must be a space-separated string", id="no-scopes"),
        pytest.param('[[tokens]]\nvalue = "x"\nscopes = "nonsense"\n', "holds no group:resource:permission", id="bad"),
        pytest.param('[[tokens]]\nvalue = "x"\nscopes = "a:b:c"\ncolour = 1\n', "unknown key colour", id="extra"),
        pytest.param('tokenz = 1\n[[tokens]]\nvalue = "x"\nscopes = "a:b:c"\n', "unknown key tokenz", id="typo"),
        pytest.param(
            '[[tokens]]\nvalue = "x"\nscopes = "a:b:c"\n[[tokens]]\nvalue = "x"\nscopes = "d:e:f"\n',
            "share one value",
            id="duplicate",
        ),
    ],
)
def test_bad_tokens_file_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    tokens = tmp_path / "tokens.toml"
    tokens.write_text(content)
    assert main(["serve", "--tokens", str(tokens)]) == 2
    err = capsys.readouterr().err
    assert message in err and str(tokens) in err
    assert "Traceback" not in err


def test_missing_tokens_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--tokens", str(tmp_path / "absent.toml")]) == 2
    assert "absent.toml: no such file" in capsys.readouterr().err


def test_unknown_fault_lists_the_allowed_ones(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--fault", "no-such-fault"]) == 2
    err = capsys.readouterr().err
    assert "unknown fault no-such-fault" in err and "serve-obsolete" in err and "--list-faults" in err


def test_busy_port_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        assert main(["serve", "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert f"cannot listen on 127.0.0.1:{port}" in err and "--port 0" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["--latest-version", "abc"], "is not a D2LVERSION", id="malformed-version"),
        pytest.param(["--port", "70000"], "is not a port number", id="port-range"),
        pytest.param(["--rate-limit", "0"], "must be at least 1", id="rate-limit"),
    ],
)
def test_bad_arguments_exit_2(args: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["serve", *args])
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


def test_latest_version_below_the_first_current_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--latest-version", "1.50"]) == 2
    assert "below 1.67" in capsys.readouterr().err


def test_no_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main([])
    assert exited.value.code == 2
    assert "COMMAND" in capsys.readouterr().err


def test_latest_version_of_another_major_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--latest-version", "2.3"]) == 2
    err = capsys.readouterr().err
    assert "--latest-version 2.3" in err and "1.x versions only" in err and "Traceback" not in err
