"""Recording a run to VCR.py cassettes and replaying it offline.

Recording scrubs every secret before anything is written: Authorization and cookies, every token
value wherever it appears, signed-URL signatures and credentials, optionally the host. Replay
serves only what the cassette holds: a request it does not hold never goes out, it is a
:class:`StaleCassetteError` (exit 2) that says how to re-record.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import vcr
import yaml
from vcr.errors import CannotOverwriteExistingCassetteException
from vcr.record_mode import RecordMode

from conformance.http import Redactor
from conformance.results import RunResults
from conformance.target import FixtureIds, Limits, TargetConfig, TokenSpec
from conformance.versions import ApiVersion

__all__ = [
    "CASSETTE_FILE",
    "MANIFEST_FILE",
    "CassetteError",
    "Manifest",
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
MANIFEST_FORMAT = 1
SCRUBBED_HOST = "lms.invalid"
SCRUBBED_HEADERS = ("authorization", "cookie", "set-cookie", "proxy-authorization", "x-csrf-token")
#: What a replayed request must match: everything the suite decides, bodies included.
MATCH_ON = ("method", "scheme", "host", "port", "path", "query", "body")


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

    def write(self, folder: Path) -> None:
        (folder / MANIFEST_FILE).write_text(json.dumps(asdict(self), indent=2) + "\n", "utf-8")


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
        raise CassetteError(f"{path}: not a manifest of format {MANIFEST_FORMAT}; re-record the cassettes")
    try:
        return Manifest(**data)
    except TypeError as error:
        raise CassetteError(f"{path}: unexpected or missing manifest keys ({error}); re-record the cassettes") from None


def check_cassette_file(folder: Path) -> int:
    """Validate the cassette's YAML (safe loader) and VCR.py shape; return the number of interactions."""
    path = folder / CASSETTE_FILE
    try:
        data = yaml.safe_load(path.read_text("utf-8"))
    except FileNotFoundError:
        raise CassetteError(f"{path}: missing; re-record the cassettes") from None
    except (OSError, UnicodeDecodeError) as error:
        raise CassetteError(f"{path}: cannot be read ({error})") from None
    except yaml.YAMLError as error:
        raise CassetteError(f"{path}: not valid YAML ({str(error).splitlines()[0]}); re-record the cassettes") from None
    if not isinstance(data, dict) or not isinstance(data.get("interactions"), list) or data.get("version") != 1:
        raise CassetteError(f"{path}: not a VCR.py cassette (expected version: 1 and a list of interactions)")
    for index, interaction in enumerate(data["interactions"]):
        request = interaction.get("request") if isinstance(interaction, dict) else None
        response = interaction.get("response") if isinstance(interaction, dict) else None
        ok = (
            isinstance(request, dict)
            and isinstance(response, dict)
            and {"method", "uri"} <= request.keys()
            and isinstance(response.get("status"), dict)
            and isinstance(response["status"].get("code"), int)
        )
        if not ok:
            raise CassetteError(f"{path}: interaction #{index + 1} is not a VCR.py request/response pair")
    return len(data["interactions"])


class Scrubber:
    """Scrubs VCR.py requests and responses in place before they are written."""

    def __init__(self, secrets: Iterable[str], host: str | None) -> None:
        self.redact = Redactor()
        self.redact.add(secrets)
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

    def request(self, request: Any) -> Any:
        for name in list(request.headers):
            if name.lower() in SCRUBBED_HEADERS:
                del request.headers[name]
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


def _vcr(scrubber: Scrubber, record_mode: RecordMode, match_host: bool) -> vcr.VCR:
    return vcr.VCR(
        record_mode=record_mode,
        match_on=MATCH_ON if match_host else tuple(m for m in MATCH_ON if m not in ("host", "port", "scheme")),
        before_record_request=scrubber.request,
        before_record_response=scrubber.response,
        decode_compressed_response=True,
    )


@contextmanager
def recording(folder: Path, secrets: Iterable[str], base_url: str, scrub_host: bool) -> Iterator[None]:
    """Record every HTTP interaction of the block into ``folder``, scrubbed; overwrites a previous recording."""
    folder.mkdir(parents=True, exist_ok=True)
    cassette = folder / CASSETTE_FILE
    cassette.unlink(missing_ok=True)
    host = urlsplit(base_url).netloc if scrub_host else None
    scrubber = Scrubber(secrets, host)
    with _vcr(scrubber, RecordMode.ALL, match_host=not scrub_host).use_cassette(
        str(cassette), allow_playback_repeats=False
    ):
        yield


@contextmanager
def replaying(folder: Path, manifest: Manifest) -> Iterator[None]:
    """Serve the block's HTTP from the cassette only; a request it does not hold raises StaleCassetteError."""
    check_cassette_file(folder)
    scrubber = Scrubber((), None)
    cassette = folder / CASSETTE_FILE
    try:
        with _vcr(scrubber, RecordMode.NONE, match_host=not manifest.host_scrubbed).use_cassette(
            str(cassette), allow_playback_repeats=False
        ):
            yield
    except CannotOverwriteExistingCassetteException as error:
        raise stale(folder, error) from None


def stale(folder: Path, error: Exception) -> StaleCassetteError:
    first_line = str(error).splitlines()[0] if str(error) else "a request the cassette does not hold"
    return StaleCassetteError(
        f"{folder}: stale cassette: {first_line}. The spec, the suite or the seed changed since it was recorded; "
        f"re-record it: ipsis-conformance run --record {folder} (with --config for a live target)"
    )


def is_stale_error(error: BaseException) -> bool:
    return isinstance(error, CannotOverwriteExistingCassetteException)


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


_SCHEME_HOST = re.compile(r"^(https?)://([^/]+)")


def replay_base_url(manifest: Manifest) -> str:
    if manifest.host_scrubbed:
        scheme = _SCHEME_HOST.match(manifest.base_url)
        return f"{scheme.group(1) if scheme else 'https'}://{SCRUBBED_HOST}"
    return manifest.base_url


def target_from_manifest(manifest: Manifest) -> TargetConfig:
    """The target as recorded, with stand-in token values (the real ones were never written)."""
    try:
        return TargetConfig(
            base_url=replay_base_url(manifest),
            ids=FixtureIds(**manifest.ids),  # type: ignore[arg-type]
            tokens=tuple(TokenSpec(t["label"], t["scopes"], f"replayed-token-{t['label']}") for t in manifest.tokens),
            le_versions=tuple(ApiVersion.parse(v) for v in manifest.configured_le_versions)
            if manifest.configured_le_versions
            else None,
            limits=Limits(**manifest.limits),
            families=tuple(manifest.families) if manifest.families else None,
            source=f"<replay of {manifest.recorded_at}>",
        )
    except (TypeError, ValueError, KeyError) as error:
        raise CassetteError(f"the manifest does not describe a target ({error}); re-record the cassettes") from None


def manifest_for(
    target: TargetConfig, results: RunResults, *, scrub_host: bool, kind: str, faults: tuple[str, ...]
) -> Manifest:
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
    )


def check_replayable(manifest: Manifest, folder: Path, suite_version: str, spec_sha256: str) -> None:
    """A recording made by another suite version or from another spec cannot match: say so up front."""
    changed = []
    if manifest.suite_version != suite_version:
        changed.append(f"the suite ({manifest.suite_version} then, {suite_version} now)")
    if manifest.spec_sha256 != spec_sha256:
        changed.append("the spec (its sha256 differs)")
    if changed:
        raise StaleCassetteError(
            f"{folder}: stale cassette: {' and '.join(changed)} changed since it was recorded; "
            f"re-record it: ipsis-conformance run --record {folder}"
            + (" (with --config for the live target)" if manifest.kind == "live" else "")
        )
