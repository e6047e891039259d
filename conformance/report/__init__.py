"""Rendering results: pure functions of a RunResults (terminal today; HTML, JUnit, Markdown later)."""

from conformance.report.terminal import render_summary

__all__ = ["render_summary"]
