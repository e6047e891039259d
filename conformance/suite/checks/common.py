"""Small judgements shared by the checks: a field's value against the contract, a 200 with a block."""

from __future__ import annotations

from typing import Any

from conformance.contract import Block, Field
from conformance.http import Exchange
from conformance.suite.cases import CheckFailed, CheckNotTested
from conformance.suite.context import SuiteContext

MISSING = object()

#: PowerSchoolGradeType values acceptable under either reading of the page ("Grade" a heading, or a 4th row).
GRADE_TYPES_EITHER_READING = (0, 1, 2, 3)


def json_type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def field_problem(spec: Field, value: Any) -> str | None:
    """Why ``value`` breaks the field's documented presence, nullability or type (None: it does not)."""
    documented = " or ".join(sorted(spec.json_types))
    if value is MISSING:
        return f"{spec.name} is absent; documented: {documented}, always present"
    received = json_type_name(value)
    if received == "null":
        return None if spec.nullable else f"{spec.name} is null; documented: {documented}, never null"
    if received not in spec.json_types:
        return f"{spec.name} is {received} {value!r}; documented: {documented}"
    return None


def block_of(ctx: SuiteContext, answer: Exchange, what: str) -> dict[str, Any]:
    """The JSON object of a 200 answer; anything else means the case cannot be judged here."""
    if answer.status != 200:
        raise CheckNotTested(f"{what} answered {answer.status}, not 200", ctx.evidence(answer))
    body = answer.json_or_none()
    if not isinstance(body, dict):
        raise CheckFailed(f"{what}: 200 without a JSON object body", ctx.evidence(answer))
    return body


def documented_fields(block: Block, body: dict[str, Any]) -> dict[str, Any]:
    names = {f.name for f in block.fields}
    return {name: value for name, value in body.items() if name in names}


def changed_elsewhere(
    block: Block, version: Any, current: dict[str, Any], baseline: dict[str, Any], skip: str
) -> dict[str, Any]:
    """A valid block that differs from ``current`` in a field other than ``skip``.

    A refused PUT is sent with such a body plus one invalid field: if the server stores the valid
    part anyway, the change shows in a later GET (a body equal to the stored block would hide it).
    """
    body = {f.name: current.get(f.name, baseline.get(f.name)) for f in block.fields_at(version)}
    for spec in block.fields_at(version):
        if spec.name == skip:
            continue
        value = body.get(spec.name)
        if "boolean" in spec.json_types and isinstance(value, bool):
            return {**body, spec.name: not value}
        if spec.enum is not None:
            others = [v for v in spec.enum if v != value and (v is not None or spec.nullable)]
            if others:
                return {**body, spec.name: others[0]}
        if spec.nullable and value is not None:
            return {**body, spec.name: None}
        if spec.nullable and value is None and isinstance(baseline.get(spec.name), int):
            return {**body, spec.name: baseline[spec.name]}
    return body


class FirstFailure:
    """Where a property keeps its first failure.

    Hypothesis replays a failing example to report it; against a server with state the replay may
    pass (hypothesis then calls the test flaky). So a property records its first failure, lets the
    remaining examples through unsent, and raises it once hypothesis is done.
    """

    def __init__(self) -> None:
        self.failure: CheckFailed | None = None

    def record(self, failure: CheckFailed) -> None:
        if self.failure is None:
            self.failure = failure

    @property
    def seen(self) -> bool:
        return self.failure is not None

    def raise_if_any(self) -> None:
        if self.failure is not None:
            raise self.failure
