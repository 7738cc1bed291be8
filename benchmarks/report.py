"""What every benchmark reports: a figure, its baseline from the same run, the ratio, the target."""

from __future__ import annotations

import timeit
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass
class Row:
    """One line of the report."""

    name: str
    ours: str
    baseline: str
    ratio: float
    target: str
    ok: bool


def best_of(function: Callable[[], Any], number: int, repeat: int = 7) -> float:
    """Seconds per call, best of `repeat` runs of `number` calls."""
    return min(timeit.repeat(function, number=number, repeat=repeat)) / number
