"""Reading the user's files with one kind of message for every way they can be wrong."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

__all__ = ["read_toml"]


def read_toml(path: Path, error: type[Exception], missing_hint: str = "") -> dict[str, Any]:
    """The TOML document at ``path``; a missing, unreadable or invalid file raises ``error`` naming it."""
    try:
        return tomllib.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise error(f"{path}: no such file{f' ({missing_hint})' if missing_hint else ''}") from None
    except (OSError, UnicodeDecodeError) as problem:
        raise error(f"{path}: cannot be read ({problem})") from None
    except tomllib.TOMLDecodeError as problem:
        raise error(f"{path}: not valid TOML ({problem})") from None
