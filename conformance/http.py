"""The suite's HTTP client: counts requests, honours 429 Retry-After, enforces the request budget,
and turns every exchange into redacted evidence.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx
from vcr.errors import CannotOverwriteExistingCassetteException, UnhandledHTTPRequestError

from conformance.results import Evidence
from conformance.target import Limits, TokenSpec

__all__ = ["UNKNOWN_TOKEN", "BudgetExhaustedError", "Exchange", "IpsisClient", "Redactor", "ThrottledError"]

#: A bearer value no LMS issued: the "unknown token" case.
UNKNOWN_TOKEN = TokenSpec("unknown", "", "ipsis-conformance-not-a-real-token")
BODY_EXCERPT = 300

_SIGNED_QUERY = re.compile(
    r"(?i)((?:X-Amz-(?:Signature|Credential|Security-Token))|Signature|sig|AWSAccessKeyId|Credential)=([^&\s\"']+)"
)


class BudgetExhaustedError(RuntimeError):
    """The run reached ``max_requests``; the rest is not tested."""


class ThrottledError(RuntimeError):
    """Still 429 after the allowed retries; the case is not tested."""


class UnrecordedRequestError(RuntimeError):
    """Replaying: the run sent a request the cassette does not hold (the cassette is stale)."""


@dataclass
class Redactor:
    """Removes every secret the suite knows of from text that may reach an artifact."""

    secrets: set[str] = field(default_factory=set)

    def add(self, values: Iterable[str]) -> None:
        self.secrets.update(v for v in values if v)

    def __call__(self, text: str) -> str:
        for secret in sorted(self.secrets, key=len, reverse=True):
            text = text.replace(secret, "[REDACTED]")
        # In a query, a URL-safe marker: the scrubbed URL must stay a valid URI (a signed URL is checked as one).
        return _SIGNED_QUERY.sub(lambda m: f"{m.group(1)}=REDACTED", text)


@dataclass(frozen=True)
class Exchange:
    method: str
    path: str
    status: int
    headers: httpx.Headers
    text: str
    request_body: str
    throttled_retries: int = 0

    def json(self) -> Any:
        return json.loads(self.text)

    def json_or_none(self) -> Any:
        try:
            return self.json()
        except ValueError:
            return None

    @property
    def content_type(self) -> str:
        return str(self.headers.get("content-type", ""))

    def evidence(self, redact: Redactor, note: str = "") -> Evidence:
        return Evidence(
            request=redact(f"{self.method} {self.path}"),
            status=self.status,
            # Redact, then cut: a cut first could keep the beginning of a secret the redactor then misses.
            body_excerpt=redact(self.text)[:BODY_EXCERPT],
            request_body=redact(self.request_body)[:BODY_EXCERPT],
            note=note,
        )


@dataclass
class IpsisClient:
    base_url: str
    limits: Limits
    redact: Redactor
    transport: httpx.BaseTransport | None = None
    sleep: Callable[[float], None] = time.sleep
    request_count: int = 0
    throttled_count: int = 0
    exchanges: list[Exchange] = field(default_factory=list)
    throttle_events: list[tuple[str, bool]] = field(default_factory=list)  # (request line, had Retry-After)
    #: Every token a request carried, in order, since the caller last cleared it (a result names its tokens).
    tokens_used: list[TokenSpec] = field(default_factory=list)
    _client: httpx.Client | None = None

    def __post_init__(self) -> None:
        self._client = httpx.Client(
            base_url=self.base_url,
            timeout=self.limits.request_timeout,
            transport=self.transport,
            follow_redirects=False,
        )

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    def request(
        self,
        method: str,
        path: str,
        token: TokenSpec | None = None,
        json_body: Any = None,
        content: str | None = None,
        keep: bool = True,
        budgeted: bool = True,
    ) -> Exchange:
        """Send one request (retrying 429s as D2L asks); ``content`` sends a raw body instead of JSON."""
        assert self._client is not None
        headers = {"Accept": "application/json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token.secret}"
            self.tokens_used.append(token)
        body = content if content is not None else (json.dumps(json_body) if json_body is not None else None)
        if body is not None:
            headers["Content-Type"] = "application/json"
        retries = 0
        while True:
            if budgeted and self.request_count >= self.limits.max_requests:
                raise BudgetExhaustedError(f"request budget of {self.limits.max_requests} reached")
            self.request_count += 1
            try:
                response = self._client.request(method, path, headers=headers, content=body)
            except (CannotOverwriteExistingCassetteException, UnhandledHTTPRequestError) as error:
                first_line = str(error).splitlines()[0] if str(error) else ""
                raise UnrecordedRequestError(
                    f"{method} {self.redact(path)} is not in the cassette {first_line}"
                ) from None
            if response.status_code != 429:
                break
            self.throttled_count += 1
            self.throttle_events.append((f"{method} {path}", "retry-after" in response.headers))
            if retries >= self.limits.max_retries_on_429:
                raise ThrottledError(f"{method} {path}: still 429 after {retries} retries")
            retries += 1
            self.sleep(self._retry_after(response))
        exchange = Exchange(method, path, response.status_code, response.headers, response.text, body or "", retries)
        if keep:
            self.exchanges.append(exchange)
        return exchange

    def _retry_after(self, response: httpx.Response) -> float:
        raw = response.headers.get("retry-after", "")
        try:
            wait = float(raw)
        except ValueError:
            wait = 1.0  # no or unreadable Retry-After: wait a little and try again
        if math.isnan(wait):
            wait = 1.0
        return min(max(wait, 0.0), self.limits.max_retry_wait)
