"""Generated requests that depend on the seed alone, not on how or where the suite was launched.

Hypothesis mixes into its draws the string and number literals of every "local" module it finds in
``sys.modules`` (code outside site-packages: a checkout, ``__main__``). Which modules count as local
changes with the launch (``python -m`` from a checkout or an installed entry point), so a seeded run
would send other bodies elsewhere, and a cassette recorded in one place would be stale in another.
The suite draws from Hypothesis' global constants only. Hypothesis offers no setting for this, so
the one function that gathers local constants is swapped while the suite runs.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import version
from pathlib import Path
from typing import Any

from hypothesis import configuration
from hypothesis.internal.conjecture import providers

__all__ = ["GENERATORS", "generator_versions", "seed_only_generation"]

#: The libraries whose versions decide which requests a seed generates.
GENERATORS = ("hypothesis", "schemathesis")


def generator_versions() -> dict[str, str]:
    return {name: version(name) for name in GENERATORS}


@contextmanager
def seed_only_generation() -> Iterator[None]:
    """While the block runs, Hypothesis draws no constants from local modules, and keeps what it caches
    (Unicode tables, seconds to rebuild) in the user's cache folder rather than in a ``.hypothesis/`` of
    whatever directory the suite runs in."""
    original = getattr(providers, "_get_local_constants", None)
    empty = _empty_constants()
    if original is not None and empty is not None:
        providers._get_local_constants = lambda: empty
        providers.CONSTANTS_CACHE.cache.clear()  # it may hold local constants drawn before
    previous_home = getattr(configuration, "__hypothesis_home_directory", None)
    with tempfile.TemporaryDirectory(prefix="ipsis-hypothesis-") as fallback:
        if not os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):  # the user's own choice stands
            configuration.set_hypothesis_home_dir(_cache_folder() or fallback)
        try:
            yield
        finally:
            configuration.set_hypothesis_home_dir(previous_home)
            if original is not None and empty is not None:
                providers._get_local_constants = original
                providers.CONSTANTS_CACHE.cache.clear()


def _empty_constants() -> Any:
    """An empty pool of constants, or None on a Hypothesis that draws no literals from local modules."""
    try:
        from hypothesis.internal.constants_ast import Constants
    except ImportError:  # pragma: no cover (older Hypothesis: nothing to switch off)
        return None
    return Constants()


def _cache_folder() -> Path | None:
    """``$XDG_CACHE_HOME/ipsis-conformance/hypothesis`` (``~/.cache/...``), or None where it cannot be made."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    folder = base / "ipsis-conformance" / "hypothesis"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return folder if os.access(folder, os.W_OK) else None
