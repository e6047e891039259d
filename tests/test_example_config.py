"""The shipped conformance.example.toml is a valid target file (with its variables set)."""

from __future__ import annotations

from pathlib import Path

from conformance.target import load_target_config

EXAMPLE = Path(__file__).resolve().parents[1] / "conformance.example.toml"


def test_example_config_loads() -> None:
    environ = {"LMS_TOKEN_FULL": "a", "LMS_TOKEN_READ": "b", "LMS_TOKEN_UNRELATED": "c"}
    config = load_target_config(EXAMPLE, environ)
    assert config.base_url == "https://lms.example.edu"
    assert [t.label for t in config.tokens] == ["full", "read", "unrelated"]
    assert config.limits.max_requests == 2000
