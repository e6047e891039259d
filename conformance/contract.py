"""The IPSIS contract: the hand-derived OpenAPI spec read into plain data.

Everything the reference LMS enforces and the suite checks comes from here: the requirements
(with their citations), the four blocks and their fields (type, nullability, ``since``), the
routes (scope, lifecycle). Nothing else in the package restates a field or a version range.
"""

from __future__ import annotations

import copy
import enum
import hashlib
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from conformance.versions import ApiVersion, Lifecycle, LifecycleRange, Status

__all__ = [
    "Block",
    "Citation",
    "Contract",
    "Field",
    "Level",
    "Operation",
    "Requirement",
    "load_contract",
    "spec_dir",
    "version_view",
]

SPEC_FILE = "ipsis.openapi.yaml"
SOURCES = ("ipsis-reference.txt", "d2l-facts.md")


def spec_dir() -> Path:
    """The folder holding the spec and its two sources.

    An installed wheel carries them as ``conformance/specs``; a source checkout (editable install,
    tox, CI) reads the top-level ``specs/`` folder, so the two never drift apart.
    """
    packaged = Path(__file__).parent / "specs"
    if (packaged / SPEC_FILE).is_file():
        return packaged
    return Path(__file__).resolve().parent.parent / "specs"


class Level(enum.StrEnum):
    MUST = "MUST"
    SHOULD = "SHOULD"
    INFO = "INFO"


@dataclass(frozen=True)
class Citation:
    source: str
    quote: str


@dataclass(frozen=True)
class Requirement:
    id: str
    level: Level
    family: str
    basis: str
    statement: str
    cites: tuple[Citation, ...]
    rationale: str | None = None


@dataclass(frozen=True)
class Field:
    """One documented field of a block."""

    name: str
    json_types: frozenset[str]  # JSON Schema type names, "null" included when nullable
    since: ApiVersion | None
    enum: tuple[Any, ...] | None
    minimum: int | None
    min_length: int | None
    requirements: tuple[str, ...]

    @property
    def nullable(self) -> bool:
        return "null" in self.json_types

    def present_at(self, version: ApiVersion) -> bool:
        return self.since is None or version >= self.since


@dataclass(frozen=True)
class Block:
    """One of the page's JSON blocks (GradeCategoryInfo, GradeObjectDetails, FileNameData, SignedUrlData)."""

    name: str
    fields: tuple[Field, ...]
    requirement: str

    def fields_at(self, version: ApiVersion) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.present_at(version))

    def field(self, name: str) -> Field:
        for candidate in self.fields:
            if candidate.name == name:
                return candidate
        raise KeyError(f"{self.name} has no field {name!r}")


@dataclass(frozen=True)
class Operation:
    operation_id: str
    method: str
    path: str
    scope: str | None  # None: no scope (undocumented, or an anonymous/whoami route)
    scope_documented: bool
    needs_token: bool
    supporting: bool
    lifecycle: Lifecycle | None
    request_block: str | None
    response_block: str | None
    requirements: tuple[str, ...]


@dataclass(frozen=True)
class Contract:
    raw: dict[str, Any]
    requirements: dict[str, Requirement]
    blocks: dict[str, Block]
    operations: dict[str, Operation]
    spec_sha256: str

    def requirement(self, requirement_id: str) -> Requirement:
        try:
            return self.requirements[requirement_id]
        except KeyError:
            raise KeyError(f"no requirement {requirement_id!r} in the spec") from None

    @property
    def ipsis_operations(self) -> list[Operation]:
        return [op for op in self.operations.values() if not op.supporting]

    def lifecycle(self) -> Lifecycle:
        """The version lifecycle shared by the IPSIS routes (the page states one for all five)."""
        lifecycles = {op.lifecycle for op in self.ipsis_operations}
        if len(lifecycles) != 1 or None in lifecycles:
            raise ValueError("the IPSIS operations do not share one x-lifecycle")
        (only,) = lifecycles
        assert only is not None
        return only


def _ids(node: dict[str, Any]) -> tuple[str, ...]:
    ids = list(node.get("x-requirements", []))
    if "x-requirement" in node:
        ids.append(node["x-requirement"])
    return tuple(ids)


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _parse_field(name: str, schema: dict[str, Any]) -> Field:
    types = schema["type"]
    json_types = frozenset([types] if isinstance(types, str) else types)
    since = schema.get("x-since")
    enum_values = schema.get("enum")
    return Field(
        name=name,
        json_types=json_types,
        since=ApiVersion.parse(since) if since else None,
        enum=tuple(enum_values) if enum_values is not None else None,
        minimum=schema.get("minimum"),
        min_length=schema.get("minLength"),
        requirements=_ids(schema),
    )


def _parse_lifecycle(ranges: list[dict[str, Any]]) -> Lifecycle:
    return Lifecycle(
        tuple(
            LifecycleRange(
                status=Status(r["status"]),
                first=ApiVersion.parse(r["from"]) if "from" in r else None,
                last=ApiVersion.parse(r["to"]) if "to" in r else None,
                lms_release=r["lms-release"],
                requirement=r["x-requirement"],
            )
            for r in ranges
        )
    )


def _json_block(content_holder: dict[str, Any] | None) -> str | None:
    if not content_holder or "content" not in content_holder:
        return None
    schema = content_holder["content"]["application/json"]["schema"]
    return _ref_name(schema["$ref"]) if "$ref" in schema else None


def _parse_operation(path: str, method: str, op: dict[str, Any]) -> Operation:
    security = op.get("security", [])
    scopes = [scope for requirement in security for scope in requirement.get("oauth2", [])]
    return Operation(
        operation_id=op["operationId"],
        method=method.upper(),
        path=path,
        scope=scopes[0] if scopes else None,
        scope_documented=op.get("x-scope") == "documented",
        needs_token=bool(security),
        supporting=bool(op.get("x-supporting", False)),
        lifecycle=_parse_lifecycle(op["x-lifecycle"]) if "x-lifecycle" in op else None,
        request_block=_json_block(op.get("requestBody")),
        response_block=_json_block(op["responses"].get("200")),
        requirements=_ids(op),
    )


def parse_contract(raw: dict[str, Any], spec_bytes: bytes = b"") -> Contract:
    requirements = {
        r["id"]: Requirement(
            id=r["id"],
            level=Level(r["level"]),
            family=r["family"],
            basis=r["basis"],
            statement=r["statement"],
            cites=tuple(Citation(c["source"], c["quote"]) for c in r["cites"]),
            rationale=r.get("rationale"),
        )
        for r in raw["x-requirements"]
    }
    blocks = {
        name: Block(
            name=name,
            fields=tuple(_parse_field(n, s) for n, s in schema.get("properties", {}).items()),
            requirement=schema.get("x-requirement", ""),
        )
        for name, schema in raw["components"]["schemas"].items()
        if name in ("GradeCategoryInfo", "GradeObjectDetails", "FileNameData", "SignedUrlData")
    }
    operations = {}
    for path, item in raw["paths"].items():
        for method in ("get", "put", "post", "delete", "patch"):
            if method in item:
                operation = _parse_operation(path, method, item[method])
                operations[operation.operation_id] = operation
    return Contract(
        raw=raw,
        requirements=requirements,
        blocks=blocks,
        operations=operations,
        spec_sha256=hashlib.sha256(spec_bytes).hexdigest(),
    )


@cache
def load_contract(path: Path | None = None) -> Contract:
    """Read the spec (the packaged one by default). Cached: the file does not change during a run."""
    spec_path = path or spec_dir() / SPEC_FILE
    spec_bytes = spec_path.read_bytes()
    return parse_contract(yaml.safe_load(spec_bytes), spec_bytes)


_WHITESPACE = re.compile(r"\s+")


def normalise_whitespace(text: str) -> str:
    """Collapse runs of white space: the page's text extraction wraps and indents freely."""
    return _WHITESPACE.sub(" ", text).strip()


@dataclass
class SourceTexts:
    """The two source documents, whitespace-normalised, for checking citations."""

    texts: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, folder: Path | None = None) -> SourceTexts:
        base = folder or spec_dir()
        return cls({name: normalise_whitespace((base / name).read_text("utf-8")) for name in SOURCES})

    def contains(self, citation: Citation) -> bool:
        return normalise_whitespace(citation.quote) in self.texts.get(citation.source, "")


def version_view(raw: dict[str, Any], version: ApiVersion) -> dict[str, Any]:
    """The spec as it reads at one LE ``version``: the LE version parameter pinned to it, and every
    field whose ``x-since`` is above it dropped from its block (properties and ``required``).

    Schemathesis runs on such a view so that, at 1.61, a block without the 1.62 fields is valid.
    """
    view = copy.deepcopy(raw)
    view["components"]["parameters"]["Version"]["schema"] = {"type": "string", "enum": [str(version)]}
    for schema in view["components"]["schemas"].values():
        properties = schema.get("properties", {})
        dropped = {
            name
            for name, prop in properties.items()
            if "x-since" in prop and ApiVersion.parse(prop["x-since"]) > version
        }
        for name in dropped:
            del properties[name]
        if "required" in schema:
            schema["required"] = [name for name in schema["required"] if name not in dropped]
    return view
