"""The reference LMS: an ASGI app that answers the IPSIS routes as the vendor's page says.

Field lists, nullability, ``since`` versions, scopes and version lifecycle all come from the
contract (the spec); this module adds only behaviour the page describes in prose. Each ``faults``
branch is one entry of :mod:`conformance.reference.faults`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from conformance.contract import Block, Contract, Field, load_contract
from conformance.reference.config import FIRST_LISTED_LP_VERSION, ReferenceConfig, Token
from conformance.reference.ratelimit import CreditBucket
from conformance.reference.store import Store
from conformance.scopes import ScopeGrammar, parse_scope_list
from conformance.versions import ApiVersion, Status

__all__ = ["ReferenceLMS", "create_app"]

INT32_MAX = 2**31 - 1
EXTRA_FIELD = "ReferenceLmsExtension"
CATEGORY_SCOPES = {"GET": "grades:gradecategories:read", "PUT": "grades:gradecategories:write"}
#: Starlette answers HEAD on every GET route; a HEAD reads, like its GET, and never writes.
READ_METHODS = ("GET", "HEAD")
#: A number written 515.0 or 5.15e2 is the integer 515; past 2**53 a float no longer says which integer.
EXACT_FLOAT_LIMIT = 2**53


class Refusal(Exception):
    """An early answer (404, 401, 403, 400, ...) raised from a helper and turned into a response."""

    def __init__(self, response: Response) -> None:
        self.response = response


def _text(status: int, body: str) -> Refusal:
    return Refusal(PlainTextResponse(body, status_code=status))


class ReferenceLMS:
    """The state and behaviour of one running reference LMS."""

    def __init__(self, config: ReferenceConfig, contract: Contract | None = None) -> None:
        self.config = config
        self.contract = contract or load_contract()
        self.lifecycle = self.contract.lifecycle()
        self.store = Store.seeded()
        self.tokens: dict[str, Token] = {token.value: token for token in config.tokens}
        self.grammar = ScopeGrammar(
            case_insensitive=not config.has("scope-case-sensitive"),
            wildcards=not config.has("wildcards-ignored"),
            comma_permissions=not config.has("comma-permissions-ignored"),
            prefix_globs=config.has("scope-prefix-glob"),
        )
        self.bucket = CreditBucket(config.rate_limit_credits, config.rate_limit_window_seconds, config.request_cost)
        self._signing_key = secrets.token_bytes(32)

    # --- versions -------------------------------------------------------------------------------
    def version_status(self, version: ApiVersion) -> Status:
        return self.lifecycle.status(version, self.config.latest_le_version)

    def serves(self, version: ApiVersion) -> bool:
        status = self.version_status(version)
        if status is Status.DEPRECATED and self.config.has("drop-deprecated"):
            return False
        if status in (Status.OBSOLETE, Status.UNKNOWN) and self.config.has("serve-obsolete"):
            return True
        if status is Status.UNRELEASED and self.config.has("serve-unreleased"):
            return True
        if self.config.has("current-version-gap") and version == self.gap_version():
            return False
        return status.served

    def gap_version(self) -> ApiVersion:
        """The current version the ``current-version-gap`` fault stops serving."""
        latest = self.config.latest_le_version
        return ApiVersion(latest.major, latest.minor - 1)

    def listed_le_versions(self) -> list[str]:
        """What the versions routes list for LE: exactly what the IPSIS routes serve."""
        versions = self.lifecycle.served_versions(self.config.latest_le_version)
        if self.config.has("versions-omit-deprecated"):
            versions = [v for v in versions if self.version_status(v) is not Status.DEPRECATED]
        return [str(v) for v in versions]

    def product_versions(self, product: str) -> dict[str, Any] | None:
        if product == "le":
            return {
                "ProductCode": "le",
                "LatestVersion": str(self.config.latest_le_version),
                "SupportedVersions": self.listed_le_versions(),
            }
        if product == "lp":
            latest = self.config.latest_lp_version
            first = FIRST_LISTED_LP_VERSION.minor if latest.major == FIRST_LISTED_LP_VERSION.major else 0
            return {
                "ProductCode": "lp",
                "LatestVersion": str(latest),
                "SupportedVersions": [f"{latest.major}.{m}" for m in range(first, latest.minor + 1)],
            }
        return None

    def parse_le_version(self, text: str) -> ApiVersion:
        version = ApiVersion.try_parse(text)
        if version is None:
            if self.config.has("malformed-version-500"):
                raise _text(500, "Internal Server Error")
            raise _text(404, "Not Found")
        if not self.serves(version):
            raise _text(404, "Not Found")
        return version

    # --- auth -----------------------------------------------------------------------------------
    def bearer(self, request: Request) -> Token | None:
        header = request.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            return None
        token = self.tokens.get(value.strip())
        if token is None and self.config.has("unknown-token-accepted"):
            return Token("unknown", value.strip(), "*:*:*")
        if token is None:
            raise _text(401, "Not Authorized")
        return token

    def authorize(self, request: Request, required_scope: str | None, ignore_scope_fault: str | None) -> None:
        token = self.bearer(request)
        if token is None:
            if self.config.has("anonymous-allowed"):
                return
            raise _text(401, "Not Authorized")
        if required_scope is None or (ignore_scope_fault and self.config.has(ignore_scope_fault)):
            return
        if not self.grammar.grants(parse_scope_list(token.scopes), required_scope):
            status = 401 if self.config.has("missing-scope-401") else 403
            raise _text(status, f"Insufficient scope to call {request.method} {request.url.path}")

    # --- ids and blocks ---------------------------------------------------------------------------
    def parse_id(self, text: str) -> int:
        if not text.isascii() or not text.isdigit() or text.startswith("0"):
            raise _text(404, "Not Found")
        try:
            value = int(text)
        except ValueError:  # more digits than Python converts (sys.get_int_max_str_digits): no such id
            raise _text(404, "Not Found") from None
        if value > INT32_MAX and self.config.has("int32-ids"):
            raise _text(500, "Internal Server Error")
        return value

    def find(self, table: dict[int, tuple[int, dict[str, Any]]], org_unit: int, item: int) -> dict[str, Any]:
        if org_unit not in self.store.org_units:
            raise _text(404, "Org unit not found")
        if item not in table:
            if self.config.has("unknown-id-500"):
                raise _text(500, "Internal Server Error")
            raise _text(404, "Not found")
        owner, block = table[item]
        if owner != org_unit and not self.config.has("foreign-org-unit-served"):
            raise _text(404, "Not found")
        return block

    def render(self, block: Block, stored: dict[str, Any], version: ApiVersion) -> dict[str, Any]:
        """Cut a stored block to what ``version`` carries, then apply the answer-shape faults."""
        fields = block.fields if self.config.has("leak-since-fields") else block.fields_at(version)
        body = {f.name: stored[f.name] for f in fields}
        carries_added_fields = any(f.since is not None and f.present_at(version) for f in block.fields)
        if self.config.has("unset-field-omitted") and carries_added_fields:  # "at 1.62+"
            body = {name: value for name, value in body.items() if value is not None}
        if self.config.has("null-end-of-course") and "EndOfCourse" in body:
            body["EndOfCourse"] = None
        if self.config.has("null-export-to-sis") and "ExportToSIS" in body:
            body["ExportToSIS"] = None
        if self.config.has("grade-type-as-string") and body.get("PowerSchoolGradeType") is not None:
            body["PowerSchoolGradeType"] = str(body["PowerSchoolGradeType"])
        return body

    def respond(self, body: dict[str, Any]) -> Response:
        if self.config.extra_response_field:
            body = {**body, EXTRA_FIELD: "undocumented fields must be tolerated"}
        if self.config.has("text-content-type"):
            return PlainTextResponse(json.dumps(body))
        return JSONResponse(body)

    def _field_error(self, spec: Field, value: Any) -> str | None:
        """Why ``value`` is not valid for ``spec``, or None when it is."""
        if value is None:
            if spec.nullable:
                return "null is refused" if self.config.has("null-put-refused") else None
            return None if self.config.has("null-put-accepted") else "may not be null"
        if "boolean" in spec.json_types:
            return None if isinstance(value, bool) else "must be a boolean"
        if "integer" in spec.json_types:
            if isinstance(value, bool) or not isinstance(value, int):
                return "must be an integer"  # 515.0 arrives here already made 515 (see _as_json_integer)
            if spec.enum is not None and value not in spec.enum and not self.config.has("bad-enum-accepted"):
                allowed = ", ".join(str(v) for v in spec.enum if v is not None)
                return f"must be one of {allowed}"
            if spec.minimum is not None and value < spec.minimum:
                return f"must be at least {spec.minimum}"
            return None
        if "string" in spec.json_types:
            return None if isinstance(value, str) else "must be a string"
        return None

    def validate_block(self, block: Block, version: ApiVersion, body: Any) -> tuple[dict[str, Any], list[str]]:
        """The values a PUT may store, and what is wrong with the rest."""
        if not isinstance(body, dict):
            return {}, [f"the body must be a {block.name} JSON object"]
        accepted: dict[str, Any] = {}
        errors: list[str] = []
        for spec in block.fields_at(version):
            if spec.name not in body:
                if not self.config.has("missing-field-accepted"):
                    errors.append(f"{spec.name} is required")
                continue
            value = _as_json_integer(body[spec.name]) if "integer" in spec.json_types else body[spec.name]
            if self.config.has("wrong-type-accepted") and "boolean" in spec.json_types and isinstance(value, str):
                value = bool(value)
            problem = self._field_error(spec, value)
            if problem:
                errors.append(f"{spec.name} {problem}")
            else:
                accepted[spec.name] = value
        return accepted, errors

    async def json_body(self, request: Request) -> Any:
        raw = await request.body()
        try:
            return json.loads(raw, parse_constant=_refuse_non_json_constant)
        except (ValueError, UnicodeDecodeError):
            raise _text(400, "The request body is not valid JSON") from None

    # --- handlers ---------------------------------------------------------------------------------
    async def ipsis_details(self, request: Request) -> Response:
        """GET/PUT .../grades/categories/(categoryId)/ipsis and .../grades/(gradeObjectId)/ipsis."""
        params = request.path_params
        is_category = "categoryId" in params
        reads = request.method in READ_METHODS
        version = self.parse_le_version(params["version"])
        if is_category:
            scope = CATEGORY_SCOPES["GET" if reads else "PUT"] if self.config.require_category_scopes else None
            self.authorize(request, scope, None)
        else:
            operation_id = "getGradeObjectIpsis" if reads else "putGradeObjectIpsis"
            ignore_fault = "read-scope-ignored" if reads else "write-scope-ignored"
            self.authorize(request, self.contract.operations[operation_id].scope, ignore_fault)
        org_unit = self.parse_id(params["orgUnitId"])
        item_id = self.parse_id(params["categoryId"] if is_category else params["gradeObjectId"])
        table = self.store.categories if is_category else self.store.grade_objects
        block = self.contract.blocks["GradeCategoryInfo" if is_category else "GradeObjectDetails"]
        stored = self.find(table, org_unit, item_id)
        if reads:
            return self.respond(self.render(block, stored, version))

        accepted, errors = self.validate_block(block, version, await self.json_body(request))
        if errors:
            if self.config.has("rejected-put-partly-stored"):
                stored.update(accepted)
            return PlainTextResponse("Invalid IPSIS details: " + "; ".join(errors), status_code=400)
        previous = dict(stored)
        updated = {**stored, **accepted}
        if not self.config.has("put-not-persisted"):
            stored.update(accepted)
        answered = previous if self.config.has("put-answers-old-block") else updated
        return self.respond(self.render(block, answered, version))

    async def signed_url(self, request: Request) -> Response:
        """POST /d2l/api/le/{version}/ipsis/upload/{sourceSystemId}/signedurl."""
        self.parse_le_version(request.path_params["version"])
        self.authorize(request, self.contract.operations["postIpsisSignedUrl"].scope, "upload-scope-ignored")
        source_system = self.parse_id(request.path_params["sourceSystemId"])
        if source_system not in self.store.source_systems:
            raise _text(404, "Source system not found")
        body = await self.json_body(request)
        if not isinstance(body, dict) or "FileName" not in body:
            if self.config.has("missing-file-name-500"):
                raise _text(500, "Internal Server Error")
            raise _text(400, "FileName is required")
        file_name = body["FileName"]
        if not isinstance(file_name, str):
            raise _text(400, "FileName must be a string")
        if not file_name and not self.config.has("empty-file-name-accepted"):
            raise _text(400, "FileName must not be empty")
        return self.respond({"SignedUrl": self.presign(source_system, file_name)})

    def presign(self, source_system: int, file_name: str) -> str:
        """A URL shaped like an S3 presigned PUT URL (the shape is [inferred] in d2l-facts.md)."""
        now = datetime.now(UTC)
        key = f"{source_system}/{uuid.uuid4()}/{quote(file_name or 'batch.zip', safe='')}"
        query = {
            "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
            "X-Amz-Credential": f"AKIAREFERENCELMS0000/{now:%Y%m%d}/us-east-1/s3/aws4_request",
            "X-Amz-Date": f"{now:%Y%m%dT%H%M%SZ}",
            "X-Amz-Expires": "900",
            "X-Amz-SignedHeaders": "content-type;host",
        }
        query["X-Amz-Signature"] = hmac.new(
            self._signing_key, (key + urlencode(query)).encode(), hashlib.sha256
        ).hexdigest()
        path = f"/{key}?{urlencode(query)}"
        if self.config.has("relative-signed-url"):
            return path
        scheme = "http" if self.config.has("http-signed-url") else "https"
        return f"{scheme}://ipsis-batch-upload.s3.us-east-1.amazonaws.com{path}"

    async def versions(self, request: Request) -> Response:
        """GET /d2l/api/versions/ (anonymous)."""
        return JSONResponse([self.product_versions("le"), self.product_versions("lp")])

    async def one_product_versions(self, request: Request) -> Response:
        """GET /d2l/api/{product}/versions/ (anonymous)."""
        versions = self.product_versions(request.path_params["product"])
        if versions is None:
            raise _text(404, "Not Found")
        return JSONResponse(versions)

    async def whoami(self, request: Request) -> Response:
        """GET /d2l/api/lp/{version}/users/whoami: any valid token."""
        version = ApiVersion.try_parse(request.path_params["version"])
        if version is None or version > self.config.latest_lp_version:
            raise _text(404, "Not Found")
        if self.bearer(request) is None:
            raise _text(401, "Not Authorized")
        return JSONResponse(
            {
                "Identifier": "169",
                "FirstName": "Reference",
                "LastName": "Service User",
                "UniqueName": "ipsis.service",
                "ProfileIdentifier": "reference-lms-169",
            }
        )


def _as_json_integer(value: Any) -> Any:
    """JSON has one number type: 515.0 is the integer 515 (JSON Schema says so too), where a float is exact."""
    if isinstance(value, float) and value.is_integer() and abs(value) < EXACT_FLOAT_LIMIT:
        return int(value)
    return value


def _refuse_non_json_constant(name: str) -> Any:
    """Python's json reads NaN and Infinity; RFC 8259 has no such numbers."""
    raise ValueError(f"{name} is not JSON")


def _guard(handler: Any) -> Any:
    """Turn a :class:`Refusal` raised anywhere in a handler into its response."""

    async def endpoint(request: Request) -> Response:
        try:
            response: Response = await handler(request)
        except Refusal as refusal:
            return refusal.response
        return response

    endpoint.__doc__ = handler.__doc__
    return endpoint


class RateLimitMiddleware:
    """Charge every request to the app's credit bucket and label the answer as D2L does."""

    def __init__(self, app: ASGIApp, lms: ReferenceLMS) -> None:
        self.app = app
        self.lms = lms

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        decision = self.lms.bucket.take()
        config = self.lms.config
        if not decision.allowed:
            headers = {} if config.has("throttle-without-retry-after") else {"Retry-After": str(decision.reset_seconds)}
            response = PlainTextResponse("API call-rate limit exceeded", status_code=429, headers=headers)
            await response(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start" and not config.has("no-rate-limit-headers"):
                headers = list(message.get("headers", []))
                headers += [
                    (b"x-rate-limit-remaining", str(decision.remaining).encode()),
                    (b"x-rate-limit-reset", str(decision.reset_seconds).encode()),
                    (b"x-request-cost", str(decision.cost).encode()),
                ]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(config: ReferenceConfig | None = None) -> Starlette:
    """A fresh reference LMS (freshly seeded data) as an ASGI app; ``app.state.lms`` is its state."""
    lms = ReferenceLMS(config or ReferenceConfig())
    routes = [
        Route("/d2l/api/versions/", _guard(lms.versions), methods=["GET"]),
        Route("/d2l/api/{product}/versions/", _guard(lms.one_product_versions), methods=["GET"]),
        Route("/d2l/api/lp/{version}/users/whoami", _guard(lms.whoami), methods=["GET"]),
        Route(
            "/d2l/api/le/{version}/{orgUnitId}/grades/categories/{categoryId}/ipsis",
            _guard(lms.ipsis_details),
            methods=["GET", "PUT"],
        ),
        Route(
            "/d2l/api/le/{version}/{orgUnitId}/grades/{gradeObjectId}/ipsis",
            _guard(lms.ipsis_details),
            methods=["GET", "PUT"],
        ),
        Route(
            "/d2l/api/le/{version}/ipsis/upload/{sourceSystemId}/signedurl",
            _guard(lms.signed_url),
            methods=["POST"],
        ),
    ]
    app = Starlette(routes=routes)
    app.add_middleware(RateLimitMiddleware, lms=lms)
    app.state.lms = lms
    return app
