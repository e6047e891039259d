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

from hypothesis.configuration import set_hypothesis_home_dir
from hypothesis.internal.conjecture import providers
from hypothesis.internal.constants_ast import Constants

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
    original = providers._get_local_constants
    empty = Constants()
    providers._get_local_constants = lambda: empty
    providers.CONSTANTS_CACHE.cache.clear()  # it may hold local constants drawn before
    with tempfile.TemporaryDirectory(prefix="ipsis-hypothesis-") as fallback:
        set_hypothesis_home_dir(_cache_folder() or fallback)
        try:
            yield
        finally:
            set_hypothesis_home_dir(None)  # back to Hypothesis' default
            providers._get_local_constants = original
            providers.CONSTANTS_CACHE.cache.clear()


def _cache_folder() -> Path | None:
    """``$XDG_CACHE_HOME/ipsis-conformance/hypothesis`` (``~/.cache/...``), or None where it cannot be made."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    folder = base / "ipsis-conformance" / "hypothesis"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return folder if os.access(folder, os.W_OK) else None
