"""The suite puts the target's data back: after a faithful run, after failed checks, after Ctrl-C, and
the restore journal is on disk before the first change and stays there when restoring fails.

Each test starts a fresh embedded reference LMS and reads its fixtures over HTTP after the run.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from conformance.embedded import EmbeddedOptions, embedded_target
from conformance.http import Exchange, IpsisClient
from conformance.reference import DEFAULT_LATEST_LE_VERSION, FAULTS
from conformance.results import CaseResult, RestoredItem, RunResults, Verdict
from conformance.suite.cases import Case
from conformance.suite.context import Resource, SuiteContext
from conformance.suite.runner import run_suite
from tests.suite.support import GRADE_CATEGORY, GRADE_OBJECT, read_fixtures

pytestmark = pytest.mark.slow

RUN_SEED = 20261203
JOURNAL = "restore-journal.json"
#: Which case (1-based) the interrupt test stops at: well after the first PUT (case 138 at this seed).
INTERRUPT_AT = 200

#: The fixtures as the reference LMS seeds them, read at the latest version; keys as RestoredItem names them.
SEEDED: dict[str, Any] = {
    GRADE_OBJECT: {"AcademicSessionOrgUnitId": 6000, "EndOfCourse": True, "PowerSchoolGradeType": 1,
                   "SectionOrgUnitId": 6610},
    GRADE_CATEGORY: {"ExportToSIS": True, "AcademicSessionOrgUnitId": 6000},
}  # fmt: skip


def by_resource(restored: list[RestoredItem]) -> dict[str, RestoredItem]:
    return {item.resource: item for item in restored}


def read_journal(report_dir: Path) -> dict[str, Any] | None:
    """resource -> original, as the journal on disk lists them (None: no journal)."""
    path = report_dir / JOURNAL
    if not path.exists():
        return None
    return {entry["resource"]: entry["original"] for entry in json.loads(path.read_text("utf-8"))}


def test_faithful_run_puts_fixtures_back() -> None:
    with embedded_target() as target:
        results = run_suite(target, seed=RUN_SEED, kind="embedded")
        fixtures = read_fixtures(target)
    assert fixtures == SEEDED
    restored = by_resource(results.restored)
    assert set(restored) == set(SEEDED), results.restored
    for name, item in restored.items():
        assert item.restored is True, item
        assert item.original == SEEDED[name]
        assert item.version == str(DEFAULT_LATEST_LE_VERSION)
        assert item.message != "unchanged", f"{name}: the run never changed it, so restoring proved nothing"


@pytest.mark.parametrize("fault", ["null-put-accepted", "bad-enum-accepted"])
def test_bad_values_stored_by_a_faulty_target_are_put_back(fault: str) -> None:
    with embedded_target(EmbeddedOptions(faults=frozenset({fault}))) as target:
        results = run_suite(target, seed=RUN_SEED, kind="embedded", faults=(fault,))
        fixtures = read_fixtures(target)
    breaks = FAULTS[fault].breaks
    assert any(r.requirement == breaks for r in results.failures()), f"{breaks} did not fail: the fault stored nothing"
    assert fixtures == SEEDED
    assert set(by_resource(results.restored)) == set(SEEDED)
    assert all(item.restored is True for item in results.restored), results.restored


def test_interrupt_mid_run_restores(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    real_run_case = SuiteContext.run_case
    calls = 0
    at_interrupt: dict[str, Any] = {}

    def interrupting(self: SuiteContext, case: Case) -> CaseResult:
        nonlocal calls
        calls += 1
        if calls == INTERRUPT_AT:
            at_interrupt["originals"] = {str(resource) for resource in self.originals}
            at_interrupt["journal"] = read_journal(tmp_path)
            raise KeyboardInterrupt
        return real_run_case(self, case)

    monkeypatch.setattr(SuiteContext, "run_case", interrupting)
    with embedded_target() as target:
        results = run_suite(target, seed=RUN_SEED, kind="embedded", report_dir=tmp_path)
        fixtures = read_fixtures(target)

    assert calls == INTERRUPT_AT, "the run went on after the interrupt"
    assert at_interrupt["originals"], f"no PUT had happened by case {INTERRUPT_AT}: pick a later one"
    assert at_interrupt["journal"] == {name: SEEDED[name] for name in at_interrupt["originals"]}, (
        "while interrupted, the journal on disk must list every original recorded"
    )
    assert results.interrupted is True
    assert results.verdict is Verdict.INCONCLUSIVE
    assert "interrupted" in results.inconclusive_reason
    assert len(results.results) == INTERRUPT_AT - 1
    assert fixtures == SEEDED
    assert results.restored, "nothing was restored after the interrupt"
    assert set(by_resource(results.restored)) == at_interrupt["originals"]
    assert all(item.restored is True for item in results.restored), results.restored
    assert not (tmp_path / JOURNAL).exists(), "everything was restored: the journal should be gone"
    assert RunResults.read(tmp_path / "results.json").interrupted is True


def test_journal_is_on_disk_before_each_change_and_removed_after(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    real_request = IpsisClient.request
    puts: list[tuple[str, bool]] = []  # (path, the journal listed its resource when the PUT was sent)

    def spying(self: IpsisClient, method: str, path: str, *args: Any, **kwargs: Any) -> Exchange:
        resource = Resource.of_path(path)
        if method == "PUT" and resource is not None and kwargs.get("budgeted", True):
            journal = read_journal(tmp_path) or {}
            puts.append((path, str(resource) in journal))
        return real_request(self, method, path, *args, **kwargs)

    monkeypatch.setattr(IpsisClient, "request", spying)
    with embedded_target() as target:
        results = run_suite(target, seed=RUN_SEED, kind="embedded", report_dir=tmp_path)
        fixtures = read_fixtures(target)

    assert puts, "the run sent no PUT"
    unjournaled = [path for path, journaled in puts if not journaled]
    assert not unjournaled, f"{len(unjournaled)} of {len(puts)} PUTs were sent before the journal named the resource"
    assert fixtures == SEEDED
    assert results.restored and all(item.restored is True for item in results.restored), results.restored
    assert not (tmp_path / JOURNAL).exists(), "everything was restored: the journal should be gone"
    assert (tmp_path / "results.json").exists()
    assert RunResults.read(tmp_path / "results.json").to_json() == results.to_json()


class PutsRefusedDuringRestore(httpx.BaseTransport):
    """Passes every request to the LMS, except PUTs once ``refuse_puts`` is set: those answer 500."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.refuse_puts = False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.refuse_puts and request.method == "PUT":
            return httpx.Response(500, text="refused by the test", request=request)
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def test_failed_restore_keeps_the_journal(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    transport = PutsRefusedDuringRestore()
    real_restore = SuiteContext.restore

    def restore_with_puts_refused(self: SuiteContext) -> list[RestoredItem]:
        transport.refuse_puts = True
        return real_restore(self)

    monkeypatch.setattr(SuiteContext, "restore", restore_with_puts_refused)
    with embedded_target() as target:
        results = run_suite(target, seed=RUN_SEED, kind="embedded", report_dir=tmp_path, transport=transport)
        fixtures = read_fixtures(target)

    restored = by_resource(results.restored)
    assert set(restored) == set(SEEDED), results.restored
    failed = {name: item for name, item in restored.items() if not item.restored}
    assert failed, f"every item was restored although every restoring PUT answered 500: {results.restored}"
    for name, item in failed.items():
        assert "500" in item.message, f"{name}: the message does not say what went wrong: {item.message!r}"
        assert fixtures[name] != SEEDED[name], f"{name} is said not restored but reads back as seeded"
    assert read_journal(tmp_path) == SEEDED, "the journal must still list every original"
    saved = RunResults.read(tmp_path / "results.json")
    assert {item.resource: item.restored for item in saved.restored} == {n: i.restored for n, i in restored.items()}
