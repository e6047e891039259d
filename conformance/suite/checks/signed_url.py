"""The signed batch-upload URL: a string, absolute (MUST), https (SHOULD); FileName required."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from conformance.http import Exchange
from conformance.suite.cases import Case, CheckFailed, CheckNotTested, Observed, planner
from conformance.suite.checks.scopes import PROBE_FILE_NAME
from conformance.suite.context import SuiteContext

ROUTE = "postIpsisSignedUrl"


def _post(ctx: SuiteContext, body: Any = None, content: str | None = None) -> Exchange:
    assert ctx.latest is not None
    return ctx.client.request("POST", ctx.signed_url_path(ctx.latest), ctx.token_for(ROUTE), json_body=body,
                              content=content)  # fmt: skip


def _signed_url(ctx: SuiteContext) -> tuple[Exchange, Any]:
    answer = ctx.once("signed-url", lambda: _post(ctx, {"FileName": PROBE_FILE_NAME}))
    if answer.status != 200:
        raise CheckFailed(f"Received: {answer.status} for a valid FileName / Documented: 200", ctx.evidence(answer))
    body = answer.json_or_none()
    return answer, body.get("SignedUrl") if isinstance(body, dict) else None


def _is_string(ctx: SuiteContext) -> Observed:
    answer, url = _signed_url(ctx)
    if not isinstance(url, str) or not url:
        raise CheckFailed(f"SignedUrl is {url!r}; documented: a string", ctx.evidence(answer))
    return Observed("SignedUrl is a string", ctx.evidence(answer))


def _absolute(ctx: SuiteContext, https: bool) -> Observed:
    answer, url = _signed_url(ctx)
    if not isinstance(url, str):
        raise CheckNotTested("no SignedUrl string to judge", ctx.evidence(answer))
    parts = urlsplit(url)
    if https:
        if parts.scheme != "https":
            raise CheckFailed(f"SignedUrl scheme is {parts.scheme or '(none)'!r}; expected https", ctx.evidence(answer))
        return Observed("https", ctx.evidence(answer))
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise CheckFailed("SignedUrl is not an absolute URL (no scheme and host)", ctx.evidence(answer))
    return Observed(f"absolute, host {parts.hostname}", ctx.evidence(answer))


def _bad_file_name(ctx: SuiteContext, body: Any, content: str | None, what: str) -> Observed:
    answer = _post(ctx, body, content)
    if answer.status != 400:
        raise CheckFailed(f"Received: {answer.status} for {what} / Documented: 400", ctx.evidence(answer))
    return Observed("400", ctx.evidence(answer))


@planner("signed-url:answer", order=30)
def plan_signed_url(ctx: SuiteContext) -> Iterator[Case]:
    assert ctx.latest is not None
    version = str(ctx.latest)
    yield Case("field.SignedUrlData.SignedUrl", _is_string, version, route=ROUTE)
    yield Case("signed-url.absolute", partial(_absolute, https=False), version, route=ROUTE)
    yield Case("signed-url.https", partial(_absolute, https=True), version, route=ROUTE)
    bad: list[tuple[str, Any, str | None, str]] = [
        ("field.FileNameData.FileName", {}, None, "a body without FileName"),
        # Not 123: a lenient JSON reader may coerce a number to a string; no reader makes a string of a list.
        ("field.FileNameData.FileName", {"FileName": ["D2LStdCSV-20240101000000.zip"]}, None, "a list as FileName"),
        ("field.FileNameData.FileName", {"FileName": None}, None, "FileName null"),
        ("field.FileNameData.FileName.non-empty", {"FileName": ""}, None, "an empty FileName"),
    ]
    for requirement, body, content, what in bad:
        yield Case(requirement, partial(_bad_file_name, body=body, content=content, what=what), version, route=ROUTE,
                   detail=what.replace(" ", "-"))  # fmt: skip
