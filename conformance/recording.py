"""Recording a run to VCR.py cassettes and replaying it offline.

Recording scrubs every secret before anything is written: cookies, every token value wherever it
appears (an Authorization header keeps only the token's label, so replay still tells tokens apart),
signed-URL signatures and credentials, optionally the host. Replay serves only what the cassette
holds, with every socket blocked: a request it does not hold never goes out, it is a
:class:`StaleCassetteError` (exit 2) that says how to re-record. The manifest carries a sha256 of
the cassette and of itself, and the generators' versions, so a hand-edited cassette or manifest, or
another Hypothesis, is refused up front, before anything runs. Cassettes are read and written with
PyYAML's safe loader and dumper.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import vcr
import yaml
from pytest_recording.network import blocking_context
from vcr.errors import CannotOverwriteExistingCassetteException
from vcr.record_mode import RecordMode

from conformance.http import Redactor
from conformance.results import RunResults
from conformance.suite.determinism import generator_versions
from conformance.target import ConfigError, TargetConfig, TokenSpec, read_ids, read_limits
from conformance.versions import ApiVersion

__all__ = [
    "CASSETTE_FILE",
    "CONSTRAINTS_FILE",
    "MANIFEST_FILE",
    "CassetteError",
    "Manifest",
    "Recording",
    "StaleCassetteError",
    "check_replayable",
    "manifest_for",
    "read_manifest",
    "recording",
    "replaying",
    "target_from_manifest",
]

CASSETTE_FILE = "ipsis.yaml"
MANIFEST_FILE = "manifest.json"
#: pip constraints naming the generators the recording used: ``pip install -c DIR/constraints.txt ...``.
CONSTRAINTS_FILE = "constraints.txt"
MANIFEST_FORMAT = 2
SCRUBBED_HOST = "lms.invalid"
SCRUBBED_HEADERS = ("cookie", "set-cookie", "proxy-authorization", "x-csrf-token")
#: What a replayed request must match: everything the suite decides (method, URL, body, token), in one
#: matcher: VCR.py compares each request with every recorded one, and its stock matchers parse JSON bodies.
MATCH_ON = ("ipsis_request",)
SERIALIZER = "safe-yaml"
#: The stand-in value of a replayed token (the real one was never written).
REPLAYED_TOKEN = "replayed-token-{label}"
#: libyaml's safe loader and dumper where PyYAML was built with it (ten times faster), else the pure-Python ones.
SAFE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
SAFE_DUMPER: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_SCRUBBED_CREDENTIAL = re.compile(r"\[token:[^\]]+\]|\[REDACTED\]")


class CassetteError(ValueError):
    """A cassette folder that cannot be replayed as it is (exit 2); the message says what to do."""


class StaleCassetteError(CassetteError):
    """The run asked for a request the cassette does not hold: re-record."""


@dataclass(frozen=True)
class Manifest:
    format: int
    recorded_at: str
    base_url: str
    host_scrubbed: bool
    suite_version: str
    spec_sha256: str
    seed: int
    le_versions: list[str]
    tokens: list[dict[str, str]]  # label and scopes; never values
    ids: dict[str, int | None]
    limits: dict[str, Any]
    kind: str
    faults: list[str]
    configured_le_versions: list[str] | None
    families: list[str] | None
    #: hypothesis and schemathesis versions: another version draws other requests from the same seed.
    generator: dict[str, str]
    #: pytest's -k and -m of the recording: a replay runs the same cases.
    selection: dict[str, str]
    #: sha256 of the cassette's bytes and of this manifest (less this key): any edit of either shows.
    recording_sha256: str = ""

    def write(self, folder: Path) -> None:
        (folder / MANIFEST_FILE).write_text(json.dumps(asdict(self), indent=2) + "\n", "utf-8")

    def digest(self, cassette: bytes) -> str:
        """What ``recording_sha256`` must be for this manifest beside ``cassette``."""
        described = {key: value for key, value in asdict(self).items() if key != "recording_sha256"}
        return hashlib.sha256(cassette + json.dumps(described, sort_keys=True).encode("utf-8")).hexdigest()


def safe_load(text: str) -> Any:
    return yaml.load(text, Loader=SAFE_LOADER)  # SAFE_LOADER is a safe loader, C or Python


def _is_str_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _is_str_dict(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())


def _is_token_list(value: Any) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(_is_str_dict(token) and {"label", "scopes"} <= token.keys() for token in value)
    )


#: What each manifest key must hold, and how to say it.
_MANIFEST_TYPES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "format": (lambda v: isinstance(v, int) and not isinstance(v, bool), "an integer"),
    "recorded_at": (lambda v: isinstance(v, str), "a string"),
    "base_url": (lambda v: isinstance(v, str) and v.startswith(("http://", "https://")), "an http(s) URL"),
    "host_scrubbed": (lambda v: isinstance(v, bool), "true or false"),
    "suite_version": (lambda v: isinstance(v, str), "a string"),
    "spec_sha256": (lambda v: isinstance(v, str), "a string"),
    "seed": (lambda v: isinstance(v, int) and not isinstance(v, bool), "an integer"),
    "le_versions": (_is_str_list, "a list of versions"),
    "tokens": (_is_token_list, "a list of {label, scopes}"),
    "ids": (lambda v: isinstance(v, dict), "a table of ids"),
    "limits": (lambda v: isinstance(v, dict), "a table of limits"),
    "kind": (lambda v: v in ("embedded", "live"), '"embedded" or "live"'),
    "faults": (_is_str_list, "a list of fault names"),
    "configured_le_versions": (lambda v: v is None or _is_str_list(v), "null or a list of versions"),
    "families": (lambda v: v is None or _is_str_list(v), "null or a list of families"),
    "generator": (_is_str_dict, "a table of library versions"),
    "selection": (lambda v: _is_str_dict(v) and v.keys() <= {"keyword", "markexpr"}, "a table of keyword, markexpr"),
    "recording_sha256": (lambda v: isinstance(v, str) and len(v) == 64, "a sha256 in hex"),
}


def read_manifest(folder: Path) -> Manifest:
    path = folder / MANIFEST_FILE
    if not folder.is_dir():
        raise CassetteError(f"{folder}: no such cassette folder (record one with --record {folder})")
    try:
        data = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise CassetteError(f"{path}: missing; a cassette folder holds {MANIFEST_FILE} and {CASSETTE_FILE}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CassetteError(f"{path}: not a readable JSON manifest ({error})") from None
    if not isinstance(data, dict) or data.get("format") != MANIFEST_FORMAT:
        kind = data.get("kind") if isinstance(data, dict) else None
        raise CassetteError(
            f"{path}: not a manifest of format {MANIFEST_FORMAT} (an older suite wrote it, or it is not a manifest); "
            f"re-record the cassettes: {_rerecord_command(folder, kind)}"
        )
    expected = {f.name for f in fields(Manifest)}
    unknown, missing = sorted(data.keys() - expected), sorted(expected - data.keys())
    if unknown or missing:
        problem = "; ".join(
            [f"unknown {', '.join(unknown)}"] * bool(unknown) + [f"missing {', '.join(missing)}"] * bool(missing)
        )
        raise CassetteError(f"{path}: manifest keys do not fit ({problem}); re-record the cassettes")
    for key, (is_valid, what) in _MANIFEST_TYPES.items():
        if not is_valid(data[key]):
            raise CassetteError(
                f"{path}: {key} must be {what}, got {json.dumps(data[key])[:80]}: the manifest was edited by hand; "
                f"re-record the cassettes: {_rerecord_command(folder, data.get('kind'))}"
            )
    return Manifest(**data)


def _is_headers(value: Any) -> bool:
    return isinstance(value, dict) and all(
        isinstance(name, str) and isinstance(values, list) and all(isinstance(v, str) for v in values)
        for name, values in value.items()
    )


def _interaction_problem(interaction: Any) -> str | None:
    """What keeps ``interaction`` from being a VCR.py request/response pair VCR.py can play, or None."""
    if not isinstance(interaction, dict):
        return "not a table"
    request, response = interaction.get("request"), interaction.get("response")
    if not isinstance(request, dict) or not isinstance(response, dict):
        return "no request and response"
    if not isinstance(request.get("method"), str) or not isinstance(request.get("uri"), str):
        return "the request has no method or uri"
    if not isinstance(request.get("body"), str | bytes | type(None)) or not _is_headers(request.get("headers")):
        return "the request's body or headers are not VCR.py's"
    status = response.get("status")
    if not isinstance(status, dict) or not isinstance(status.get("code"), int) or isinstance(status["code"], bool):
        return "the response has no status code"
    if not _is_headers(response.get("headers")):
        return "the response's headers are not a table of lists of strings"
    body = response.get("body")
    if not isinstance(body, dict) or not isinstance(body.get("string"), str | bytes):
        return "the response has no body string"
    return None


def check_cassette_file(folder: Path, manifest: Manifest | None = None) -> int:
    """Validate the cassette (safe loader, VCR.py's shape) and, given its manifest, that neither was edited
    since the recording; return the number of interactions."""
    path = folder / CASSETTE_FILE
    try:
        raw = path.read_bytes()
        data = safe_load(raw.decode("utf-8"))
    except FileNotFoundError:
        raise CassetteError(f"{path}: missing; re-record the cassettes") from None
    except (OSError, UnicodeDecodeError) as error:
        raise CassetteError(f"{path}: cannot be read ({error})") from None
    except yaml.YAMLError as error:
        raise CassetteError(f"{path}: not valid YAML ({str(error).splitlines()[0]}); re-record the cassettes") from None
    if not isinstance(data, dict) or not isinstance(data.get("interactions"), list) or data.get("version") != 1:
        raise CassetteError(f"{path}: not a VCR.py cassette (expected version: 1 and a list of interactions)")
    for index, interaction in enumerate(data["interactions"]):
        problem = _interaction_problem(interaction)
        if problem:
            raise CassetteError(
                f"{path}: interaction #{index + 1} is not a VCR.py request/response pair ({problem}): the cassette "
                "was edited by hand or damaged; re-record the cassettes"
            )
    if manifest is not None and manifest.digest(raw) != manifest.recording_sha256:
        raise CassetteError(
            f"{folder}: the cassette or its manifest was edited since the recording (recording_sha256 differs): a "
            f"replay must play exactly what the recording got; re-record: {_rerecord_command(folder, manifest.kind)}"
        )
    return len(data["interactions"])


class SafeYamlSerializer:
    """VCR.py's YAML format, read with PyYAML's safe loader: a cassette can hold no Python object."""

    @staticmethod
    def deserialize(cassette_string: str) -> Any:
        return safe_load(cassette_string)

    @staticmethod
    def serialize(cassette_dict: dict[str, Any]) -> str:
        return yaml.dump(cassette_dict, Dumper=SAFE_DUMPER)


def _same_request(r1: Any, r2: Any) -> bool:
    """VCR.py matcher: the same method, URL (host as scrubbed), body bytes and token (by label, as scrubbed).

    The suite serializes bodies itself (json.dumps), so equal requests have equal bytes.
    """
    return bool(
        r1.method == r2.method
        and r1.uri == r2.uri
        and (r1.body or b"") == (r2.body or b"")
        and r1.headers.get("Authorization") == r2.headers.get("Authorization")
    )


class Scrubber:
    """Scrubs VCR.py requests and responses in place before they are written (and requests before matching)."""

    def __init__(self, tokens: Iterable[TokenSpec], host: str | None) -> None:
        self.labels = {token.secret: token.label for token in tokens if token.secret}
        self.redact = Redactor()
        self.redact.add(self.labels)
        self.host = host  # the real host, replaced by SCRUBBED_HOST when given

    def text(self, value: str) -> str:
        value = self.redact(value)
        return value.replace(self.host, SCRUBBED_HOST) if self.host else value

    def body(self, body: Any) -> Any:
        if isinstance(body, bytes):
            return self.text(body.decode("utf-8", "replace")).encode("utf-8")
        if isinstance(body, str):
            return self.text(body)
        return body

    def authorization(self, value: str) -> str:
        """``Bearer [token:LABEL]``: which token, never its value; a value no token has is redacted."""
        scheme, _, credential = value.partition(" ")
        if not credential:
            return "[REDACTED]"  # no scheme to keep: the whole value may be the secret
        if _SCRUBBED_CREDENTIAL.fullmatch(credential):
            return value  # VCR.py may scrub one request twice (to match it, then to play it)
        label = self.labels.get(credential.strip())
        return f"{scheme} [token:{label}]" if label else f"{scheme} [REDACTED]"

    def request(self, request: Any) -> Any:
        for name in list(request.headers):
            if name.lower() in SCRUBBED_HEADERS:
                del request.headers[name]
            elif name.lower() == "authorization":
                request.headers[name] = self.authorization(str(request.headers[name]))
            elif isinstance(request.headers[name], str):
                request.headers[name] = self.text(request.headers[name])
        request.uri = self.text(request.uri)
        request.body = self.body(request.body)
        return request

    def response(self, response: dict[str, Any]) -> dict[str, Any]:
        headers = response.get("headers", {})
        for name in list(headers):
            if name.lower() in SCRUBBED_HEADERS:
                del headers[name]
            else:
                headers[name] = [self.text(v) for v in headers[name]]
        body = response.get("body", {})
        if "string" in body:
            body["string"] = self.body(body["string"])
        return response


def _vcr(scrubber: Scrubber, record_mode: RecordMode) -> vcr.VCR:
    recorder = vcr.VCR(
        record_mode=record_mode,
        serializer=SERIALIZER,
        match_on=MATCH_ON,
        before_record_request=scrubber.request,
        before_record_response=scrubber.response,
        decode_compressed_response=True,
    )
    recorder.register_serializer(SERIALIZER, SafeYamlSerializer)
    recorder.register_matcher("ipsis_request", _same_request)
    return recorder


@dataclass
class Recording:
    """A recording in progress; the manifest set on it is written once the cassette is on disk."""

    folder: Path
    manifest: Manifest | None = field(default=None)


@contextmanager
def recording(folder: Path, tokens: Iterable[TokenSpec], base_url: str, scrub_host: bool) -> Iterator[Recording]:
    """Record every HTTP interaction of the block into ``folder``, scrubbed; overwrites a previous recording."""
    folder.mkdir(parents=True, exist_ok=True)
    cassette = folder / CASSETTE_FILE
    cassette.unlink(missing_ok=True)
    (folder / MANIFEST_FILE).unlink(missing_ok=True)  # never a manifest beside another run's cassette
    host = urlsplit(base_url).netloc if scrub_host else None
    scrubber = Scrubber(tokens, host)
    current = Recording(folder)
    with _vcr(scrubber, RecordMode.ALL).use_cassette(str(cassette), allow_playback_repeats=False):
        yield current
    if current.manifest is not None and cassette.is_file():
        digest = current.manifest.digest(cassette.read_bytes())
        Manifest(**{**asdict(current.manifest), "recording_sha256": digest}).write(folder)
        pins = "".join(f"{name}=={version}\n" for name, version in current.manifest.generator.items())
        (folder / CONSTRAINTS_FILE).write_text(
            "# The generators this recording was made with: a replay needs the same (pip install -c THIS_FILE ...).\n"
            + pins,
            "utf-8",
        )


@contextmanager
def replaying(folder: Path, manifest: Manifest, tokens: Iterable[TokenSpec]) -> Iterator[None]:
    """Serve the block's HTTP from the cassette only, every socket blocked; a request it does not hold
    raises StaleCassetteError."""
    check_cassette_file(folder, manifest)
    scrubber = Scrubber(tokens, None)
    cassette = folder / CASSETTE_FILE
    try:
        with (
            blocking_context(),
            _vcr(scrubber, RecordMode.NONE).use_cassette(str(cassette), allow_playback_repeats=False),
        ):
            yield
    except CannotOverwriteExistingCassetteException as error:
        raise stale(folder, error) from None


def _rerecord_command(folder: Path, kind: Any) -> str:
    command = f"ipsis-conformance run --record {folder}"
    return command + (" --config TARGET.toml" if kind == "live" else "")


def stale(folder: Path, error: Exception, kind: str | None = None) -> StaleCassetteError:
    first_line = str(error).splitlines()[0].rstrip(".") if str(error) else "a request the cassette does not hold"
    return StaleCassetteError(
        f"{folder}: stale cassette: {first_line}. The spec, the suite or the seed changed since it was recorded; "
        f"re-record it: {_rerecord_command(folder, kind)}"
    )


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


_SCHEME_HOST = re.compile(r"^(https?)://([^/]+)")


def replay_base_url(manifest: Manifest) -> str:
    if manifest.host_scrubbed:
        scheme = _SCHEME_HOST.match(manifest.base_url)
        return f"{scheme.group(1) if scheme else 'https'}://{SCRUBBED_HOST}"
    return manifest.base_url


def target_from_manifest(manifest: Manifest, folder: Path) -> TargetConfig:
    """The target as recorded, with stand-in token values (the real ones were never written)."""
    path = folder / MANIFEST_FILE
    try:
        return TargetConfig(
            base_url=replay_base_url(manifest),
            ids=read_ids(path, {key: value for key, value in manifest.ids.items() if value is not None}),
            tokens=tuple(
                TokenSpec(t["label"], t["scopes"], REPLAYED_TOKEN.format(label=t["label"])) for t in manifest.tokens
            ),
            le_versions=tuple(ApiVersion.parse(v) for v in manifest.configured_le_versions)
            if manifest.configured_le_versions
            else None,
            limits=read_limits(path, manifest.limits),
            families=tuple(manifest.families) if manifest.families else None,
            source=f"<replay of {manifest.recorded_at}>",
        )
    except (ConfigError, ValueError) as error:
        raise CassetteError(f"{error}: the manifest was edited by hand; re-record the cassettes") from None


def manifest_for(
    target: TargetConfig,
    results: RunResults,
    *,
    scrub_host: bool,
    kind: str,
    faults: tuple[str, ...],
    selection: dict[str, str],
) -> Manifest:
    """What a replay needs to know of the recorded run (its cassette's sha256 is added once it is saved)."""
    base_url = target.base_url
    if scrub_host:
        base_url = base_url.replace(urlsplit(base_url).netloc, SCRUBBED_HOST)
    return Manifest(
        format=MANIFEST_FORMAT,
        recorded_at=now(),
        base_url=base_url,
        host_scrubbed=scrub_host,
        suite_version=results.suite_version,
        spec_sha256=results.spec_sha256,
        seed=results.seed,
        le_versions=results.target.versions_tested,
        tokens=[{"label": t.label, "scopes": t.scopes} for t in target.tokens],
        ids=asdict(target.ids),
        limits=asdict(target.limits),
        kind=kind,
        faults=list(faults),
        configured_le_versions=[str(v) for v in target.le_versions] if target.le_versions else None,
        families=list(target.families) if target.families else None,
        generator=generator_versions(),
        selection=selection,
    )


def check_replayable(manifest: Manifest, folder: Path, suite_version: str, spec_sha256: str) -> None:
    """A recording made by another suite, from another spec or with other generators cannot match: say so
    up front, with what to do."""
    changed = []
    if manifest.suite_version != suite_version:
        changed.append(f"the suite ({manifest.suite_version} then, {suite_version} now)")
    if manifest.spec_sha256 != spec_sha256:
        changed.append("the spec (its sha256 differs)")
    if changed:
        raise StaleCassetteError(
            f"{folder}: stale cassette: {' and '.join(changed)} changed since it was recorded; "
            f"re-record it: {_rerecord_command(folder, manifest.kind)}"
        )
    installed = generator_versions()
    differ = {name: wanted for name, wanted in manifest.generator.items() if installed.get(name) != wanted}
    if differ:
        now_installed = ", ".join(f"{name} {installed.get(name, 'none')}" for name in differ)
        pins = " ".join(f"'{name}=={wanted}'" for name, wanted in differ.items())
        raise StaleCassetteError(
            f"{folder}: recorded with {', '.join(f'{n} {v}' for n, v in differ.items())}, but this install has "
            f"{now_installed}: another version generates other requests from the same seed, so the cassette "
            f"cannot match. Install the recording's versions (pip install {pins}, or pip install -c "
            f"{folder / CONSTRAINTS_FILE}) or re-record: "
            f"{_rerecord_command(folder, manifest.kind)}"
        )
