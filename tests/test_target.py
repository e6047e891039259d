"""target.toml loading: a valid file becomes a TargetConfig; every mistake is a ConfigError naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.target import ConfigError, FixtureIds, Limits, TargetConfig, TokenSpec, load_target_config
from conformance.versions import ApiVersion

FULL_SECRET = "full-secret-7f3a9c1e"
LITERAL_SECRET = "literal-secret"
ENVIRON = {"LMS_TOKEN_FULL": FULL_SECRET, "LMS_TOKEN_EMPTY": "", "LMS_TOKEN_BLANK": "   "}

BASE_URL = 'base_url = "https://lms.example.edu"\n'
IDS = """
[ids]
org_unit = 6606
grade_category = 11
grade_object = 21
source_system = 5
"""
TOKEN = """
[[tokens]]
scopes = "grades:gradeobjects:read"
env = "LMS_TOKEN_FULL"
"""

EXAMPLE = f"""
base_url = "https://lms.example.edu/"
le_versions = ["1.70", "1.61", "1.9", "1.61"]
families = ["scopes", "nullability"]

[ids]
org_unit = 6606
grade_category = 11
grade_object = 21
source_system = 5
foreign_org_unit = 6607

[[tokens]]
scopes = "grades:gradeobjects:read grades:gradeobjects:write ipsis:batch:upload"
env = "LMS_TOKEN_FULL"

[[tokens]]
scopes = "grades:gradeobjects:read"
value = "{LITERAL_SECRET}"
label = "read"

[limits]
max_requests = 1000
request_timeout = 10
"""


def compose(*, top: str = BASE_URL, ids: str = IDS, tokens: str = TOKEN, tail: str = "") -> str:
    """A target.toml: top-level keys, then [ids], [[tokens]] and any trailing tables."""
    return top + ids + tokens + tail


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "target.toml"
    path.write_text(text, "utf-8")
    return path


# --- a valid file -------------------------------------------------------------------------------------------


def test_example_config_loads_every_field(tmp_path: Path) -> None:
    path = write(tmp_path, EXAMPLE)
    config = load_target_config(path, environ=ENVIRON)

    assert isinstance(config, TargetConfig)
    assert config.base_url == "https://lms.example.edu"
    assert config.ids == FixtureIds(
        org_unit=6606, grade_category=11, grade_object=21, source_system=5, foreign_org_unit=6607
    )
    assert config.tokens == (
        TokenSpec("token-1", "grades:gradeobjects:read grades:gradeobjects:write ipsis:batch:upload", FULL_SECRET),
        TokenSpec("read", "grades:gradeobjects:read", LITERAL_SECRET),
    )
    # Parsed, de-duplicated and sorted numerically (1.9 < 1.61 < 1.70), not as text.
    assert config.le_versions == (ApiVersion(1, 9), ApiVersion(1, 61), ApiVersion(1, 70))
    assert config.families == ("scopes", "nullability")
    assert config.limits == Limits(max_requests=1000, request_timeout=10.0)
    assert isinstance(config.limits.request_timeout, float)
    assert config.source == str(path)


def test_minimal_config_gets_defaults(tmp_path: Path) -> None:
    config = load_target_config(write(tmp_path, compose()), environ=ENVIRON)

    assert config.base_url == "https://lms.example.edu"
    assert config.ids == FixtureIds(org_unit=6606, grade_category=11, grade_object=21, source_system=5)
    assert config.ids.foreign_org_unit is None
    assert config.le_versions is None
    assert config.families is None
    assert config.limits == Limits()
    assert config.limits.max_requests == 2000
    assert config.limits.max_retries_on_429 == 5
    assert config.limits.max_retry_wait == 120.0


@pytest.mark.parametrize(
    ("written", "loaded"),
    [
        pytest.param("https://lms.example.edu/", "https://lms.example.edu", id="one-trailing-slash"),
        pytest.param("https://lms.example.edu//", "https://lms.example.edu", id="two-trailing-slashes"),
        pytest.param("http://127.0.0.1:8000/", "http://127.0.0.1:8000", id="http-with-port"),
        pytest.param("https://lms.example.edu/prefix/", "https://lms.example.edu/prefix", id="with-path"),
        pytest.param("https://lms.example.edu", "https://lms.example.edu", id="no-slash-unchanged"),
        pytest.param("http://[::1]:8000/", "http://[::1]:8000", id="ipv6-with-port"),
        pytest.param("https://lms.example.edu:65535/", "https://lms.example.edu:65535", id="highest-port"),
        pytest.param("https://lms.example.edu/d2lx/", "https://lms.example.edu/d2lx", id="path-merely-starting-d2l"),
    ],
)
def test_base_url_trailing_slash_is_stripped(tmp_path: Path, written: str, loaded: str) -> None:
    path = write(tmp_path, compose(top=f'base_url = "{written}"\n'))
    assert load_target_config(path, environ=ENVIRON).base_url == loaded


def test_env_lookup_uses_the_environ_argument_not_os_environ(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LMS_TOKEN_FULL", "from-os-environ")
    config = load_target_config(write(tmp_path, compose()), environ={"LMS_TOKEN_FULL": "from-argument"})
    assert config.tokens[0].secret == "from-argument"


def test_env_lookup_defaults_to_os_environ(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LMS_TOKEN_FULL", "from-os-environ")
    config = load_target_config(write(tmp_path, compose()))
    assert config.tokens[0].secret == "from-os-environ"


def test_token_secret_and_scopes_are_stripped(tmp_path: Path) -> None:
    tokens = '\n[[tokens]]\nscopes = "  grades:gradeobjects:read  "\nenv = "LMS_TOKEN_FULL"\n'
    config = load_target_config(write(tmp_path, compose(tokens=tokens)), environ={"LMS_TOKEN_FULL": " tok \n"})
    assert config.tokens == (TokenSpec("token-1", "grades:gradeobjects:read", "tok"),)


def test_token_with_empty_scopes_is_allowed(tmp_path: Path) -> None:
    tokens = '\n[[tokens]]\nscopes = ""\nvalue = "no-scope-token"\nlabel = "none"\n'
    config = load_target_config(write(tmp_path, compose(tokens=tokens)), environ={})
    assert config.tokens == (TokenSpec("none", "", "no-scope-token"),)
    assert config.tokens[0].describe() == "none (no scopes)"


def test_loaded_config_repr_shows_no_secret(tmp_path: Path) -> None:
    config = load_target_config(write(tmp_path, EXAMPLE), environ=ENVIRON)
    text = repr(config)
    assert FULL_SECRET not in text
    assert LITERAL_SECRET not in text
    assert "read" in text  # the label is still there


# --- bad files: ConfigError naming the path, the key and what is expected ---------------------------------

#: A second token read from the same variable as TOKEN, declared with other scopes.
UNRELATED_SAME_VALUE = TOKEN.replace("grades:gradeobjects:read", "users:profile:read") + 'label = "unrelated"\n'

TWO_TOKENS_SAME_LABEL = """
[[tokens]]
scopes = "grades:gradeobjects:read"
env = "LMS_TOKEN_FULL"
label = "read"

[[tokens]]
scopes = "grades:gradeobjects:read"
value = "other"
label = "read"
"""

BAD_CONFIGS = [
    # The file itself.
    pytest.param('base_url = "https://lms.example.edu\n', ("not valid TOML",), id="not-toml"),
    pytest.param(None, ("no such file",), id="missing-file"),
    # Top level.
    pytest.param(
        compose(top='base-url = "https://lms.example.edu"\n'),
        ("unknown key base-url", "allowed:", "base_url"),
        id="unknown-top-key-typo-base-url",
    ),
    pytest.param(compose(top=""), ("missing required key base_url",), id="missing-base_url"),
    pytest.param(compose(ids=""), ("missing required key ids",), id="missing-ids"),
    pytest.param(compose(tokens=""), ("missing required key tokens",), id="missing-tokens"),
    # base_url.
    pytest.param(compose(top="base_url = 42\n"), ("base_url", "must be a string", "42"), id="base_url-not-string"),
    pytest.param(
        compose(top='base_url = "ftp://lms.example.edu"\n'),
        ("base_url", "must be an http(s) URL", "'ftp://lms.example.edu'"),
        id="base_url-ftp",
    ),
    pytest.param(
        compose(top='base_url = "lms.example.edu"\n'),
        ("base_url", "must be an http(s) URL", "'lms.example.edu'"),
        id="base_url-no-scheme",
    ),
    pytest.param(
        compose(top='base_url = "https://lms.example.edu/?tenant=1"\n'),
        ("base_url", "must not carry a query or fragment", "tenant=1"),
        id="base_url-with-query",
    ),
    pytest.param(
        compose(top='base_url = "https://lms.example.edu/#top"\n'),
        ("base_url", "must not carry a query or fragment", "#top"),
        id="base_url-with-fragment",
    ),
    pytest.param(
        compose(top='base_url = "https://lms.example.edu?"\n'),
        ("base_url", "must not carry a query or fragment", "'https://lms.example.edu?'"),
        id="base_url-with-empty-query",
    ),
    pytest.param(
        compose(top='base_url = "http://[::1"\n'),
        ("base_url", "cannot be parsed as a URL", "Invalid IPv6 URL", "'http://[::1'", "https://lms.example.edu"),
        id="base_url-unclosed-ipv6-bracket",
    ),
    pytest.param(
        compose(top='base_url = "http://[]"\n'),
        ("base_url", "cannot be parsed as a URL", "'http://[]'"),
        id="base_url-empty-ipv6-brackets",
    ),
    pytest.param(
        compose(top='base_url = "http://:8000"\n'),
        ("base_url", "has no host name", "'http://:8000'", "https://lms.example.edu"),
        id="base_url-port-but-no-host",
    ),
    pytest.param(
        compose(top='base_url = "https://user@"\n'),
        ("base_url", "has no host name", "'https://user@'"),
        id="base_url-userinfo-but-no-host",
    ),
    pytest.param(
        compose(top='base_url = "http:///d2l"\n'),
        ("base_url", "must be an http(s) URL", "'http:///d2l'"),
        id="base_url-empty-authority",
    ),
    pytest.param(
        compose(top='base_url = "http://127.0.0.1:99999"\n'),
        ("base_url", "port must be a number from 1 to 65535", "'http://127.0.0.1:99999'"),
        id="base_url-port-too-large",
    ),
    pytest.param(
        compose(top='base_url = "http://127.0.0.1:0"\n'),
        ("base_url", "port must be a number from 1 to 65535", "'http://127.0.0.1:0'"),
        id="base_url-port-zero",
    ),
    pytest.param(
        compose(top='base_url = "http://127.0.0.1:80a"\n'),
        ("base_url", "port must be a number from 1 to 65535", "'http://127.0.0.1:80a'"),
        id="base_url-port-not-a-number",
    ),
    pytest.param(
        compose(top='base_url = "https://lms.example.edu /"\n'),
        ("base_url", "must not contain spaces or control characters", "'https://lms.example.edu /'"),
        id="base_url-with-space",
    ),
    pytest.param(
        compose(top='base_url = "https://lms.example.edu\\n"\n'),
        ("base_url", "must not contain spaces or control characters", "'https://lms.example.edu\\n'"),
        id="base_url-with-newline",
    ),
    *(
        pytest.param(
            compose(top=f'base_url = "https://lms.example.edu{suffix}"\n'),
            ("base_url", "must be the LMS root", "https://lms.example.edu", "adds /d2l/api/... itself", suffix),
            id=f"base_url-d2l-path-{suffix}",
        )
        for suffix in ("/d2l", "/d2l/", "/d2l/api", "/d2l/api/", "/d2l/api/le/1.70", "/prefix/D2L/api")
    ),
    # [ids].
    pytest.param(
        compose(top=BASE_URL + "ids = 5\n", ids=""),
        ("[ids] must be a table", "org_unit", "source_system"),
        id="ids-not-a-table",
    ),
    pytest.param(
        compose(ids="\n[ids]\norg_unit = 6606\ngrade_category = 11\nsource_system = 5\n"),
        ("[ids] missing grade_object",),
        id="ids-missing-grade_object",
    ),
    pytest.param(
        compose(ids=IDS + "orgunit = 7\n"),
        ("[ids] unknown key orgunit", "allowed:", "foreign_org_unit"),
        id="ids-unknown-key",
    ),
    pytest.param(
        compose(ids=IDS.replace("org_unit = 6606", 'org_unit = "6606"')),
        ("[ids] org_unit must be a positive integer", "got '6606'"),
        id="ids-string-id",
    ),
    pytest.param(
        compose(ids=IDS.replace("grade_object = 21", "grade_object = 0")),
        ("[ids] grade_object must be a positive integer", "got 0"),
        id="ids-zero",
    ),
    pytest.param(
        compose(ids=IDS.replace("grade_category = 11", "grade_category = -11")),
        ("[ids] grade_category must be a positive integer", "got -11"),
        id="ids-negative",
    ),
    pytest.param(
        compose(ids=IDS.replace("source_system = 5", "source_system = true")),
        ("[ids] source_system must be a positive integer", "got True"),
        id="ids-boolean",
    ),
    pytest.param(
        compose(ids=IDS + "foreign_org_unit = 1.5\n"),
        ("[ids] foreign_org_unit must be a positive integer", "got 1.5"),
        id="ids-optional-float",
    ),
    # tokens.
    pytest.param(
        compose(top=BASE_URL + 'tokens = "LMS_TOKEN_FULL"\n', tokens=""),
        ("tokens must be one or more [[tokens]] tables",),
        id="tokens-not-a-list",
    ),
    pytest.param(
        compose(top=BASE_URL + "tokens = []\n", tokens=""),
        ("tokens must be one or more [[tokens]] tables",),
        id="tokens-empty",
    ),
    pytest.param(
        compose(top=BASE_URL + 'tokens = ["LMS_TOKEN_FULL"]\n', tokens=""),
        ("[[tokens]] #1 must be a table",),
        id="token-not-a-table",
    ),
    pytest.param(
        compose(tokens=TOKEN + 'value = "literal"\n'),
        ("[[tokens]] #1", "exactly one of env", "value"),
        id="token-both-env-and-value",
    ),
    pytest.param(
        compose(tokens='\n[[tokens]]\nscopes = "grades:gradeobjects:read"\n'),
        ("[[tokens]] #1", "exactly one of env", "value"),
        id="token-neither-env-nor-value",
    ),
    pytest.param(
        compose(tokens=TOKEN + 'secret = "literal"\n'),
        ("[[tokens]] #1", "unknown key secret", "allowed: scopes, env, value, label"),
        id="token-unknown-key",
    ),
    pytest.param(
        compose(tokens='\n[[tokens]]\nenv = "LMS_TOKEN_FULL"\n'),
        ("[[tokens]] #1", "scopes must be the space-separated scopes", "got None"),
        id="token-scopes-missing",
    ),
    pytest.param(
        compose(tokens='\n[[tokens]]\nscopes = ["grades:gradeobjects:read"]\nenv = "LMS_TOKEN_FULL"\n'),
        ("[[tokens]] #1", "scopes must be the space-separated scopes", "['grades:gradeobjects:read']"),
        id="token-scopes-not-string",
    ),
    pytest.param(
        compose(tokens='\n[[tokens]]\nscopes = "nonsense"\nenv = "LMS_TOKEN_FULL"\n'),
        ("[[tokens]] #1", "scopes 'nonsense'", "group:resource:permission"),
        id="token-scopes-unparsable",
    ),
    pytest.param(
        compose(tokens='\n[[tokens]]\nscopes = "grades:gradeobjects:read"\nenv = "LMS_TOKEN_UNSET"\n'),
        ("[[tokens]] #1", "environment variable LMS_TOKEN_UNSET", "not set", "export it"),
        id="token-env-unset",
    ),
    pytest.param(
        compose(tokens='\n[[tokens]]\nscopes = "grades:gradeobjects:read"\nenv = "LMS_TOKEN_EMPTY"\n'),
        ("[[tokens]] #1", "environment variable LMS_TOKEN_EMPTY", "empty", "export it"),
        id="token-env-empty",
    ),
    pytest.param(
        compose(tokens='\n[[tokens]]\nscopes = "grades:gradeobjects:read"\nenv = "LMS_TOKEN_BLANK"\n'),
        ("[[tokens]] #1", "environment variable LMS_TOKEN_BLANK", "export it"),
        id="token-env-blank",
    ),
    pytest.param(
        compose(tokens=TOKEN + '\n[[tokens]]\nscopes = "grades:gradeobjects:read"\nenv = "LMS_TOKEN_UNSET"\n'),
        ("[[tokens]] #2", "environment variable LMS_TOKEN_UNSET", "export it"),
        id="second-token-env-unset-names-#2",
    ),
    pytest.param(
        compose(tokens='\n[[tokens]]\nscopes = "grades:gradeobjects:read"\nenv = ""\n'),
        ("[[tokens]] #1", "env must name an environment variable", "got ''"),
        id="token-env-empty-name",
    ),
    pytest.param(
        compose(tokens='\n[[tokens]]\nscopes = "grades:gradeobjects:read"\nvalue = ""\n'),
        ("[[tokens]] #1", "value must be a non-empty string"),
        id="token-value-empty",
    ),
    pytest.param(
        compose(tokens=TOKEN + 'label = ""\n'),
        ("[[tokens]] #1", "label must be a non-empty string"),
        id="token-label-empty",
    ),
    pytest.param(
        compose(tokens=TWO_TOKENS_SAME_LABEL),
        ("[[tokens]] labels must be unique", "['read', 'read']"),
        id="duplicate-labels",
    ),
    pytest.param(
        compose(tokens=TOKEN + 'label = "full"\n' + UNRELATED_SAME_VALUE),
        ("[[tokens]] 'full' and 'unrelated' have the same value", "its own value"),
        id="two-scope-sets-one-value",
    ),
    pytest.param(
        compose(tokens=TOKEN + 'label = "token-2"\n' + TOKEN),
        ("[[tokens]] labels must be unique", "['token-2', 'token-2']"),
        id="duplicate-label-with-default-label",
    ),
    # le_versions.
    pytest.param(
        compose(top=BASE_URL + 'le_versions = "1.70"\n'),
        ("le_versions", "must be a list of versions", '["1.61", "1.70"]'),
        id="le_versions-not-a-list",
    ),
    pytest.param(
        compose(top=BASE_URL + "le_versions = []\n"),
        ("le_versions", "must be a list of versions"),
        id="le_versions-empty",
    ),
    pytest.param(
        compose(top=BASE_URL + "le_versions = [1.70]\n"),
        ("le_versions", "must be a list of versions"),
        id="le_versions-float-not-string",
    ),
    pytest.param(
        compose(top=BASE_URL + 'le_versions = ["1.70", "1.6.7"]\n'),
        ("le_versions", "'1.6.7'", "major.minor"),
        id="le_versions-malformed-1.6.7",
    ),
    # families.
    pytest.param(
        compose(top=BASE_URL + 'families = ["scopes", "speed"]\n'),
        ("families", "must be a list drawn from", "nullability", "rate-limit", "'speed'"),
        id="families-unknown-family",
    ),
    pytest.param(
        compose(top=BASE_URL + 'families = "scopes"\n'),
        ("families", "must be a list drawn from", "'scopes'"),
        id="families-not-a-list",
    ),
    # [limits].
    pytest.param(
        compose(top=BASE_URL + "limits = 5\n"),
        ("[limits] must be a table",),
        id="limits-not-a-table",
    ),
    pytest.param(
        compose(tail="\n[limits]\nmax_request = 5\n"),
        ("[limits] unknown key max_request", "allowed:", "max_requests"),
        id="limits-unknown-key",
    ),
    pytest.param(
        compose(tail='\n[limits]\nmax_requests = "1000"\n'),
        ("[limits] max_requests", "must be a positive integer", "got '1000'"),
        id="limits-string-for-integer",
    ),
    pytest.param(
        compose(tail='\n[limits]\nrequest_timeout = "30"\n'),
        ("[limits] request_timeout", "must be a positive number", "got '30'"),
        id="limits-string-for-number",
    ),
    pytest.param(
        compose(tail="\n[limits]\nmax_retries_on_429 = 0\n"),
        ("[limits] max_retries_on_429", "must be a positive integer", "got 0"),
        id="limits-zero",
    ),
    pytest.param(
        compose(tail="\n[limits]\nmax_retry_wait = -1.0\n"),
        ("[limits] max_retry_wait", "must be a positive number", "got -1.0"),
        id="limits-negative-number",
    ),
    pytest.param(
        compose(tail="\n[limits]\nmax_requests = 2.5\n"),
        ("[limits] max_requests", "must be a positive integer", "got 2.5"),
        id="limits-float-for-integer",
    ),
    pytest.param(
        compose(tail="\n[limits]\nexamples_per_property = true\n"),
        ("[limits] examples_per_property", "must be a positive integer", "got True"),
        id="limits-boolean",
    ),
    *(
        pytest.param(
            compose(tail=f"\n[limits]\n{key} = {number}\n"),
            (f"[limits] {key}", "must be a finite number", f"got {number.lstrip('+')}", "positive number like"),
            id=f"limits-{key}-{number}",
        )
        for key in ("request_timeout", "max_retry_wait")
        for number in ("inf", "+inf", "-inf", "nan")
    ),
    pytest.param(
        compose(tail="\n[limits]\nmax_requests = inf\n"),
        ("[limits] max_requests", "must be a positive integer", "got inf"),
        id="limits-inf-for-integer",
    ),
    pytest.param(
        compose(tail="\n[limits]\nmax_requests = 0\n"),
        ("[limits] max_requests", "must be a positive integer", "got 0"),
        id="limits-max_requests-zero",
    ),
    pytest.param(
        compose(tail="\n[limits]\nmax_retry_wait = 1e10\n"),
        ("[limits] max_retry_wait", "is 10000000000.0 seconds", "at most 3600"),
        id="limits-max_retry_wait-past-an-hour",
    ),
]


@pytest.mark.parametrize(("text", "expected"), BAD_CONFIGS)
def test_bad_config_raises_config_error_naming_path_key_and_expectation(
    tmp_path: Path, text: str | None, expected: tuple[str, ...]
) -> None:
    path = tmp_path / "target.toml" if text is None else write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_target_config(path, environ=ENVIRON)
    message = str(caught.value)
    assert message.startswith(f"{path}:"), message
    for fragment in expected:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    assert FULL_SECRET not in message


def test_config_error_is_a_value_error() -> None:
    assert issubclass(ConfigError, ValueError)


def test_unreadable_file_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "target.toml"
    path.write_bytes(b'base_url = "\xff\xfe"\n')
    with pytest.raises(ConfigError, match="cannot be read") as caught:
        load_target_config(path, environ=ENVIRON)
    assert str(caught.value).startswith(f"{path}:")


# --- token secrets stay out of text ---------------------------------------------------------------------

SECRET = "eyJhbGciOiJSUzI1NiJ9.s3cr3t-payload.signature"


@pytest.mark.parametrize(
    ("scopes", "described"),
    [
        pytest.param("grades:gradeobjects:read", "read (grades:gradeobjects:read)", id="with-scopes"),
        pytest.param("", "read (no scopes)", id="no-scopes"),
    ],
)
def test_describe_names_label_and_scopes_never_the_secret(scopes: str, described: str) -> None:
    token = TokenSpec("read", scopes, SECRET)
    assert token.describe() == described
    assert SECRET not in token.describe()


def test_repr_of_token_spec_hides_the_secret() -> None:
    token = TokenSpec("read", "grades:gradeobjects:read", SECRET)
    text = repr(token)
    assert SECRET not in text
    assert "s3cr3t" not in text
    assert "label='read'" in text
    assert "scopes='grades:gradeobjects:read'" in text
    assert str(token) == text
