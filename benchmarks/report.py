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


def interleaved(
    ours: Callable[[], Any], baseline: Callable[[], Any], number: int, rounds: int = 9
) -> tuple[float, float]:
    """Seconds per call of each, best of `rounds` alternating runs, so both see the same load."""
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(rounds):
        for function, seen in zip((ours, baseline), times, strict=True):
            seen.append(timeit.timeit(function, number=number) / number)
    return min(times[0]), min(times[1])
