"""The README stays true: its fault table is the catalogue, its first commands are the documented ones."""

from __future__ import annotations

import re
from pathlib import Path

from conformance.contract import load_contract
from conformance.reference import FAULTS

README = (Path(__file__).resolve().parents[1] / "README.md").read_text("utf-8")


def test_fault_table_matches_the_catalogue() -> None:
    rows = re.findall(r"^\| `([a-z0-9-]+)` \| (.+?) \| `([^`]+)` \| (MUST|SHOULD|INFO) \|$", README, re.MULTILINE)
    table = {name: (description, breaks, level) for name, description, breaks, level in rows}
    contract = load_contract()
    expected = {
        name: (fault.description, fault.breaks, contract.requirement(fault.breaks).level.value)
        for name, fault in FAULTS.items()
    }
    assert table == expected


def test_readme_opens_with_the_two_commands() -> None:
    first_block = README.split("```sh", 1)[1].split("```", 1)[0].strip().splitlines()
    commands = [line.split("#", 1)[0].strip() for line in first_block]
    assert commands == ["pip install . && ipsis-conformance run", "pip install tox && tox"]
