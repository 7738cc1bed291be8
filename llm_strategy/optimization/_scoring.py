"""Which hyperparameters are best: mean scores compared over the task parameters candidates share, kept
up to date one record at a time."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ._candidates import without_secrets

__all__ = ["BestTracker", "candidate_key"]


def candidate_key(hyperparameters: Mapping[str, Any], entries: list[str] | None) -> str:
    """A canonical text for the optimized part of a set of hyperparameters (secret-named values left out)."""
    chosen = {name: values for name, values in hyperparameters.items() if entries is None or name in entries}
    return json.dumps(without_secrets(chosen), sort_keys=True)


class BestTracker:
    """The best-scoring candidate and its mean score, updated as each scored record arrives.

    A challenger replaces the leader when its mean over the task parameters both were run on is
    higher (over all their runs when they share none); ties keep the earlier candidate. A record
    of the leader itself re-checks every candidate against it (a few per step), never the history.
    """

    def __init__(self, entries: list[str] | None) -> None:
        self.entries = entries
        self._sums: dict[str, dict[str, list[float]]] = {}
        self._full: dict[str, dict[str, Any]] = {}
        self._order: list[str] = []
        self._leader: str | None = None

    def add(
        self, hyperparameters: Mapping[str, Any], task_parameters: Mapping[str, Any], score: float
    ) -> None:
        """Count one scored task run."""
        key = candidate_key(hyperparameters, self.entries)
        if key not in self._sums:
            self._sums[key] = {}
            self._full[key] = dict(hyperparameters)
            self._order.append(key)
        task = json.dumps(task_parameters, sort_keys=True)
        totals = self._sums[key].setdefault(task, [0.0, 0.0])
        totals[0] += score
        totals[1] += 1
        if self._leader is None:
            self._leader = key
        elif key == self._leader:
            self._leader = self._order[0]
            for other in self._order[1:]:
                if self._beats(other, self._leader):
                    self._leader = other
        elif self._beats(key, self._leader):
            self._leader = key

    def best(self) -> tuple[dict[str, Any], float] | None:
        """The leader's full hyperparameters and its mean score over all its runs; None without scores."""
        if self._leader is None:
            return None
        return self._full[self._leader], _mean(self._sums[self._leader], None)

    def _beats(self, challenger: str, leader: str) -> bool:
        shared = set(self._sums[challenger]) & set(self._sums[leader]) or None
        return _mean(self._sums[challenger], shared) > _mean(self._sums[leader], shared)


def _mean(by_task: Mapping[str, list[float]], tasks: set[str] | None) -> float:
    total = count = 0.0
    for task, (score, runs) in by_task.items():
        if tasks is None or task in tasks:
            total += score
            count += runs
    return total / count if count else float("-inf")
