"""The IPSIS conformance suite as pytest items: one per requirement x version x token case."""

import pytest

from conformance.suite.cases import Case
from conformance.suite.context import SuiteContext
from conformance.suite.plugin import run_case_as_test


def test_requirement(ipsis_case: Case, ipsis_context: SuiteContext, pytestconfig: pytest.Config) -> None:
    run_case_as_test(ipsis_context, ipsis_case, pytestconfig)
