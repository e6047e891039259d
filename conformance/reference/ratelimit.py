"""D2L-style rate limiting: a credit bucket per app, refilled at each window (KB 1195, 1396, 1191)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["CreditBucket", "Decision"]


@dataclass(frozen=True)
class Decision:
    allowed: bool
    remaining: int
    reset_seconds: int
    cost: int


@dataclass
class CreditBucket:
    credits: int
    window_seconds: float
    cost: int
    clock: Callable[[], float] = time.monotonic
    _remaining: int = field(init=False)
    _window_start: float = field(init=False)

    def __post_init__(self) -> None:
        self._remaining = self.credits
        self._window_start = self.clock()

    def take(self) -> Decision:
        now = self.clock()
        if now - self._window_start >= self.window_seconds:
            self._window_start, self._remaining = now, self.credits
        reset = max(1, math.ceil(self._window_start + self.window_seconds - now))
        if self._remaining < self.cost:
            return Decision(False, self._remaining, reset, self.cost)
        self._remaining -= self.cost
        return Decision(True, self._remaining, reset, self.cost)
