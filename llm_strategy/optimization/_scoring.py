"""Which hyperparameters are best: mean scores, compared over the task parameters candidates share."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["best_candidate", "candidate_key"]


def candidate_key(hyperparameters: Mapping[str, Any], entries: Sequence[str] | None) -> str:
    """A canonical text for the optimized part of a set of hyperparameters."""
    chosen = {name: values for name, values in hyperparameters.items() if entries is None or name in entries}
    return json.dumps(chosen, sort_keys=True)


def best_candidate(
    records: Sequence[Mapping[str, Any]], entries: Sequence[str] | None
) -> tuple[dict[str, Any], float] | None:
    """The full hyperparameters of the best-scoring candidate and its mean score; None without scores.

    A challenger replaces the leader when its mean over the task parameters both were run on is
    higher (over all their runs when they share none); ties keep the earlier candidate.
    """
    scores: dict[str, dict[str, list[float]]] = {}
    full: dict[str, dict[str, Any]] = {}
    for record in records:
        if record.get("score") is None:
            continue
        key = candidate_key(record["hyperparameters"], entries)
        full.setdefault(key, dict(record["hyperparameters"]))
        task = json.dumps(record["task_parameters"], sort_keys=True)
        scores.setdefault(key, {}).setdefault(task, []).append(float(record["score"]))
    leader: str | None = None
    for key in scores:
        if leader is None or _beats(scores[key], scores[leader]):
            leader = key
    if leader is None:
        return None
    return full[leader], _mean(scores[leader], None)


def _beats(challenger: Mapping[str, list[float]], leader: Mapping[str, list[float]]) -> bool:
    shared = set(challenger) & set(leader) or None
    return _mean(challenger, shared) > _mean(leader, shared)


def _mean(by_task: Mapping[str, list[float]], tasks: set[str] | None) -> float:
    values = [score for task, runs in by_task.items() if tasks is None or task in tasks for score in runs]
    return sum(values) / len(values) if values else float("-inf")
