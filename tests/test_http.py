"""IpsisClient: request counting, 429 Retry-After retries, the request budget, headers, and redaction."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import httpx
import pytest
import respx

from conformance.http import (
    BODY_EXCERPT,
    BudgetExhaustedError,
    Exchange,
    IpsisClient,
    Redactor,
    ThrottledError,
)
from conformance.target import Limits, TokenSpec

BASE_URL = "https://lms.example.edu"
PATH = "/d2l/api/le/1.70/6606/grades/21/ipsis"
REQUEST_LINE = f"GET {PATH}"
BLOCK = {"AcademicSessionOrgUnitId": None, "EndOfCourse": False, "PowerSchoolGradeType": 1, "SectionOrgUnitId": None}
SECRET = "tok-9f8e7d6c5b4a3928170615243342"
TOKEN = TokenSpec("full", "grades:gradeobjects:read grades:gradeobjects:write", SECRET)

MakeClient = Callable[..., IpsisClient]


def throttled(retry_after: str | None = None) -> httpx.Response:
    headers = {} if retry_after is None else {"Retry-After": retry_after}
    return httpx.Response(429, headers=headers, json={"Errors": [{"Message": "Too many requests"}]})


@pytest.fixture
def sleeps() -> list[float]:
    """Every wait the client asked for, in order (no real sleeping)."""
    return []


@pytest.fixture
def make_client(sleeps: list[float]) -> Iterator[MakeClient]:
    """IpsisClient factory with a recording sleep; every client made is closed at teardown."""
    made: list[IpsisClient] = []

    def make(
        limits: Limits | None = None,
        transport: httpx.BaseTransport | None = None,
        redact: Redactor | None = None,
    ) -> IpsisClient:
        client = IpsisClient(
            base_url=BASE_URL,
            limits=limits or Limits(),
            redact=redact or Redactor(),
            transport=transport,
            sleep=sleeps.append,
        )
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


def scripted(*responses: httpx.Response) -> tuple[httpx.MockTransport, list[httpx.Request]]:
    """A transport answering with ``responses`` in order (the last one repeats), recording every request."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return responses[min(len(seen), len(responses)) - 1]

    return httpx.MockTransport(handler), seen


# --- (a)-(d) 429 and Retry-After ----------------------------------------------------------------------------


def test_429_429_200_is_retried_as_retry_after_asks(make_client: MakeClient, sleeps: list[float]) -> None:
    with respx.mock(base_url=BASE_URL, assert_all_called=True) as server:
        route = server.get(PATH).mock(
            side_effect=[throttled("2"), throttled("1"), httpx.Response(200, json=BLOCK)],
        )
        client = make_client()
        exchange = client.request("GET", PATH, token=TOKEN)

    assert exchange.status == 200
    assert exchange.json() == BLOCK
    assert exchange.throttled_retries == 2
    assert client.throttled_count == 2
    assert client.request_count == 3
    assert route.call_count == 3
    assert sleeps == [2.0, 1.0]
    assert client.throttle_events == [(REQUEST_LINE, True), (REQUEST_LINE, True)]
    assert client.exchanges == [exchange]  # the 429s are not kept as exchanges


def test_429_without_retry_after_waits_one_second_and_retries(make_client: MakeClient, sleeps: list[float]) -> None:
    with respx.mock(base_url=BASE_URL, assert_all_called=True) as server:
        route = server.get(PATH).mock(side_effect=[throttled(), httpx.Response(200, json=BLOCK)])
        client = make_client()
        exchange = client.request("GET", PATH, token=TOKEN)

    assert exchange.status == 200
    assert route.call_count == 2
    assert sleeps == [1.0]
    assert client.throttle_events == [(REQUEST_LINE, False)]
    assert (client.request_count, client.throttled_count, exchange.throttled_retries) == (2, 1, 1)


@pytest.mark.parametrize(
    ("retry_after", "wait"),
    [
        pytest.param("3", 3.0, id="integer-seconds"),
        pytest.param("0.5", 0.5, id="fractional-seconds"),
        pytest.param("0", 0.0, id="zero"),
        pytest.param("-5", 0.0, id="negative-clamped-to-zero"),
        pytest.param("soon", 1.0, id="unreadable-text"),
        pytest.param("", 1.0, id="empty"),
        pytest.param("Wed, 21 Oct 2015 07:28:00 GMT", 1.0, id="http-date"),
    ],
)
def test_retry_after_value_becomes_the_wait(
    make_client: MakeClient, sleeps: list[float], retry_after: str, wait: float
) -> None:
    transport, seen = scripted(throttled(retry_after), httpx.Response(200, json=BLOCK))
    client = make_client(transport=transport)
    assert client.request("GET", PATH).status == 200
    assert sleeps == [wait]
    assert len(seen) == 2
    assert client.throttle_events == [(REQUEST_LINE, True)]


def test_nan_retry_after_is_treated_as_unreadable(make_client: MakeClient, sleeps: list[float]) -> None:
    # float("nan") parses, and min/max do not clamp NaN; time.sleep(nan) raises ValueError, which would
    # end the run on a malformed header instead of waiting "a little" as for any unreadable Retry-After.
    transport, _ = scripted(throttled("nan"), httpx.Response(200, json=BLOCK))
    client = make_client(transport=transport)
    assert client.request("GET", PATH).status == 200
    assert sleeps == [1.0]


@pytest.mark.parametrize(
    ("limits", "retry_after", "wait"),
    [
        pytest.param(Limits(max_retry_wait=30.0), "600", 30.0, id="capped-at-configured-30s"),
        pytest.param(Limits(), "3600", 120.0, id="capped-at-default-120s"),
        pytest.param(Limits(), "inf", 120.0, id="infinity-capped"),
        pytest.param(Limits(max_retry_wait=30.0), "30", 30.0, id="at-the-cap-unchanged"),
    ],
)
def test_long_retry_after_is_capped_then_retried(
    make_client: MakeClient, sleeps: list[float], limits: Limits, retry_after: str, wait: float
) -> None:
    transport, seen = scripted(throttled(retry_after), httpx.Response(200, json=BLOCK))
    client = make_client(limits=limits, transport=transport)
    assert client.request("GET", PATH).status == 200
    assert sleeps == [wait]
    assert len(seen) == 2


def test_always_429_raises_throttled_error_after_the_allowed_retries(
    make_client: MakeClient, sleeps: list[float]
) -> None:
    with respx.mock(base_url=BASE_URL, assert_all_called=True) as server:
        route = server.get(PATH).mock(return_value=throttled("1"))
        client = make_client(limits=Limits(max_retries_on_429=3))
        with pytest.raises(ThrottledError, match=r"GET /d2l/api/le/1\.70/6606/grades/21/ipsis: still 429 after 3"):
            client.request("GET", PATH, token=TOKEN)

    assert route.call_count == 4  # the first try and 3 retries
    assert client.request_count == 4
    assert client.throttled_count == 4
    assert sleeps == [1.0, 1.0, 1.0]
    assert client.throttle_events == [(REQUEST_LINE, True)] * 4
    assert client.exchanges == []


def test_default_limits_allow_five_retries(make_client: MakeClient, sleeps: list[float]) -> None:
    transport, seen = scripted(throttled())
    client = make_client(transport=transport)
    with pytest.raises(ThrottledError, match="still 429 after 5 retries"):
        client.request("GET", PATH)
    assert len(seen) == 6
    assert sleeps == [1.0] * 5


# --- (e) the request budget -------------------------------------------------------------------------------


def test_budget_stops_the_fourth_request_but_not_an_unbudgeted_one(make_client: MakeClient) -> None:
    transport, seen = scripted(httpx.Response(200, json=BLOCK))
    client = make_client(limits=Limits(max_requests=3), transport=transport)
    for _ in range(3):
        assert client.request("GET", PATH).status == 200
    assert client.request_count == 3

    with pytest.raises(BudgetExhaustedError, match="request budget of 3 reached"):
        client.request("GET", PATH)
    assert client.request_count == 3
    assert len(seen) == 3  # the refused request was never sent

    exchange = client.request("PUT", PATH, json_body=BLOCK, budgeted=False)  # e.g. restoring a fixture
    assert exchange.status == 200
    assert client.request_count == 4
    assert len(seen) == 4
    assert seen[-1].method == "PUT"


def test_429_retries_count_against_the_budget(make_client: MakeClient, sleeps: list[float]) -> None:
    transport, seen = scripted(throttled("1"), throttled("1"), httpx.Response(200, json=BLOCK))
    client = make_client(limits=Limits(max_requests=2), transport=transport)
    with pytest.raises(BudgetExhaustedError):
        client.request("GET", PATH)
    assert len(seen) == 2
    assert client.request_count == 2
    assert sleeps == [1.0, 1.0]


# --- (f) headers and body ---------------------------------------------------------------------------------


def test_token_is_sent_as_bearer_authorization(make_client: MakeClient) -> None:
    transport, seen = scripted(httpx.Response(200, json=BLOCK))
    make_client(transport=transport).request("GET", PATH, token=TOKEN)
    (request,) = seen
    assert request.headers["Authorization"] == f"Bearer {SECRET}"
    assert request.headers["Accept"] == "application/json"
    assert str(request.url) == BASE_URL + PATH


def test_no_token_sends_no_authorization_and_no_body_no_content_type(make_client: MakeClient) -> None:
    transport, seen = scripted(httpx.Response(401))
    exchange = make_client(transport=transport).request("GET", PATH)
    (request,) = seen
    assert "authorization" not in request.headers
    assert "content-type" not in request.headers
    assert request.content == b""
    assert exchange.status == 401
    assert exchange.request_body == ""


def test_json_body_is_serialized_with_json_content_type(make_client: MakeClient) -> None:
    transport, seen = scripted(httpx.Response(200, json=BLOCK))
    exchange = make_client(transport=transport).request("PUT", PATH, token=TOKEN, json_body=BLOCK)
    (request,) = seen
    assert request.method == "PUT"
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.content) == BLOCK
    assert exchange.request_body == json.dumps(BLOCK)


def test_raw_content_is_sent_verbatim_with_json_content_type(make_client: MakeClient) -> None:
    transport, seen = scripted(httpx.Response(400))
    exchange = make_client(transport=transport).request("PUT", PATH, token=TOKEN, content='{"EndOfCourse": ')
    (request,) = seen
    assert request.content == b'{"EndOfCourse": '
    assert request.headers["Content-Type"] == "application/json"
    assert exchange.request_body == '{"EndOfCourse": '


def test_keep_false_does_not_record_the_exchange(make_client: MakeClient) -> None:
    transport, _ = scripted(httpx.Response(200, json=BLOCK))
    client = make_client(transport=transport)
    kept = client.request("GET", PATH)
    client.request("GET", PATH, keep=False)
    assert client.exchanges == [kept]
    assert client.request_count == 2


# --- (g) redaction ----------------------------------------------------------------------------------------


def test_redactor_replaces_every_known_secret() -> None:
    redact = Redactor()
    redact.add(["alpha-secret-1", "beta-secret-2"])
    text = "Bearer alpha-secret-1, then beta-secret-2 and alpha-secret-1 again"
    assert redact(text) == "Bearer [REDACTED], then [REDACTED] and [REDACTED] again"


def test_redactor_replaces_the_longest_secret_first() -> None:
    redact = Redactor({"abc123", "abc123xyz789"})
    # Shortest first would leave "[REDACTED]xyz789": the tail of the longer secret.
    assert redact("long=abc123xyz789 short=abc123") == "long=[REDACTED] short=[REDACTED]"


def test_redactor_add_ignores_empty_values() -> None:
    redact = Redactor()
    redact.add(["", "s3cr3t"])
    assert redact.secrets == {"s3cr3t"}
    assert redact("plain text") == "plain text"


@pytest.mark.parametrize(
    ("url", "redacted"),
    [
        pytest.param(
            "https://bucket.s3.amazonaws.com/up/k.csv?X-Amz-Algorithm=AWS4-HMAC-SHA256"
            "&X-Amz-Credential=AKIAEXAMPLE%2F20240101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20240101T000000Z"
            "&X-Amz-Expires=900&X-Amz-SignedHeaders=host&X-Amz-Signature=0123abcdef4567",
            "https://bucket.s3.amazonaws.com/up/k.csv?X-Amz-Algorithm=AWS4-HMAC-SHA256"
            "&X-Amz-Credential=REDACTED&X-Amz-Date=20240101T000000Z"
            "&X-Amz-Expires=900&X-Amz-SignedHeaders=host&X-Amz-Signature=REDACTED",
            id="s3-presigned",
        ),
        pytest.param(
            "https://cdn.example.net/f?Expires=1700000000&Signature=AbC~dEf_&Key-Pair-Id=K2JCJMDEHXQW5F",
            "https://cdn.example.net/f?Expires=1700000000&Signature=REDACTED&Key-Pair-Id=K2JCJMDEHXQW5F",
            id="cloudfront-signature",
        ),
        pytest.param(
            "https://acct.blob.core.windows.net/c/b?sv=2022-11-02&se=2024-01-01&sig=Zm9vYmFy%3D&sp=w",
            "https://acct.blob.core.windows.net/c/b?sv=2022-11-02&se=2024-01-01&sig=REDACTED&sp=w",
            id="azure-sas-sig",
        ),
        pytest.param(
            "https://b.s3.amazonaws.com/k?x-amz-signature=deadbeef&x-amz-date=20240101T000000Z",
            "https://b.s3.amazonaws.com/k?x-amz-signature=REDACTED&x-amz-date=20240101T000000Z",
            id="lower-case-names",
        ),
        pytest.param(
            '{"Url": "https://b.s3.amazonaws.com/k?X-Amz-Signature=deadbeef"}',
            '{"Url": "https://b.s3.amazonaws.com/k?X-Amz-Signature=REDACTED"}',
            id="inside-json-stops-at-quote",
        ),
        pytest.param(
            "https://lms.example.edu/d2l/api/le/1.70/6606/grades/21/ipsis?page=2&design=flat",
            "https://lms.example.edu/d2l/api/le/1.70/6606/grades/21/ipsis?page=2&design=flat",
            id="unsigned-url-unchanged",
        ),
    ],
)
def test_redactor_hides_signed_url_query_values_only(url: str, redacted: str) -> None:
    assert Redactor()(url) == redacted


def test_evidence_contains_no_secret_in_path_body_or_request_body() -> None:
    redact = Redactor({SECRET})
    exchange = Exchange(
        method="PUT",
        path=f"/d2l/api/le/1.70/6606/grades/21/ipsis?access_token={SECRET}",
        status=400,
        headers=httpx.Headers({"content-type": "application/json"}),
        text=json.dumps({"Message": f"bad token {SECRET}", "Url": "https://s3/k?X-Amz-Signature=abc"}),
        request_body=json.dumps({"Token": SECRET}),
    )
    evidence = exchange.evidence(redact, note="echoed")

    for part in (evidence.request, evidence.body_excerpt, evidence.request_body):
        assert SECRET not in part
        assert "[REDACTED]" in part
    assert evidence.request == "PUT /d2l/api/le/1.70/6606/grades/21/ipsis?access_token=[REDACTED]"
    assert "X-Amz-Signature=REDACTED" in evidence.body_excerpt
    assert evidence.status == 400
    assert evidence.note == "echoed"


def test_evidence_of_a_real_exchange_hides_an_echoed_token(make_client: MakeClient) -> None:
    def echo(request: httpx.Request) -> httpx.Response:
        return httpx.Response(403, json={"Message": f"Insufficient scope for {request.headers['Authorization']}"})

    client = make_client(transport=httpx.MockTransport(echo), redact=Redactor({SECRET}))
    exchange = client.request("GET", f"/d2l/api/le/1.70/{SECRET}/grades/21/ipsis", token=TOKEN)
    assert SECRET in exchange.text  # the server did echo it ...
    evidence = exchange.evidence(client.redact)
    assert SECRET not in repr(evidence)  # ... and the evidence does not
    assert evidence.request == "GET /d2l/api/le/1.70/[REDACTED]/grades/21/ipsis"
    assert "Bearer [REDACTED]" in evidence.body_excerpt


@pytest.mark.parametrize(
    "field",
    [pytest.param("text", id="response-body"), pytest.param("request_body", id="request-body")],
)
def test_evidence_leaks_no_part_of_a_secret_cut_by_the_excerpt(field: str) -> None:
    # The secret starts 10 characters before the excerpt ends: truncating before redacting would leave its
    # first 10 characters in the artifact.
    body = "x" * (BODY_EXCERPT - 10) + SECRET
    fields = {"text": "", "request_body": "", field: body}
    exchange = Exchange("PUT", PATH, 200, httpx.Headers(), fields["text"], fields["request_body"])
    evidence = exchange.evidence(Redactor({SECRET}))
    excerpt = evidence.body_excerpt if field == "text" else evidence.request_body
    assert excerpt.startswith("x" * (BODY_EXCERPT - 10))
    assert SECRET[:10] not in excerpt
