"""Pareto selection over validation instances: the frontier, parent sampling, the gate, what merge takes.

Pure functions of per-instance scores (`scores[candidate][instance]`, None for a failed run), used by
`MetaOptimizer(selection="pareto")` and by the selection benchmark; every decision can be asserted exactly.

Example:
    ```python
    from llm_strategy.optimization import pareto

    front = pareto.frontier({"c000": [0.0, 0.0], "c001": [1.0, 0.0], "c002": [0.5, 1.0]})
    assert front == {"c001": [0], "c002": [1]}
    ```
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence

__all__ = ["frontier", "gate_passes", "instances_led", "merge_choice", "sample_parent"]

Scores = Mapping[str, Sequence[float | None]]


def _value(score: float | None) -> float:
    return float("-inf") if score is None else score


def instances_led(scores: Scores) -> dict[str, list[int]]:
    """Per candidate, the validation instances on which it has the best score (ties lead together).

    A candidate that leads no instance is absent; an instance nobody scored is led by nobody.
    """
    led: dict[str, list[int]] = {}
    width = max((len(row) for row in scores.values()), default=0)
    for instance in range(width):
        column = {name: _value(row[instance]) for name, row in scores.items() if instance < len(row)}
        best = max(column.values(), default=float("-inf"))
        if best == float("-inf"):
            continue
        for name, value in column.items():
            if value == best:
                led.setdefault(name, []).append(instance)
    return led


def frontier(scores: Scores) -> dict[str, list[int]]:
    """The Pareto frontier: the candidates that lead some instance and are not dominated, with what they lead.

    A candidate dominated by another (at least as good everywhere, better somewhere) drops out even
    if it ties for the lead on some instance; of candidates with identical scores the first stays.
    """
    led = instances_led(scores)
    names = list(led)
    kept: dict[str, list[int]] = {}
    for name in names:
        mine = [_value(score) for score in scores[name]]
        dominated = False
        for other in names:
            if other == name:
                continue
            theirs = [_value(score) for score in scores[other]]
            at_least = all(t >= m for t, m in zip(theirs, mine, strict=False))
            if at_least and (theirs != mine or names.index(other) < names.index(name)):
                dominated = True
                break
        if not dominated:
            kept[name] = led[name]
    return kept


def sample_parent(front: Mapping[str, Sequence[int]], rng: random.Random) -> str:
    """A frontier candidate, drawn with probability proportional to the number of instances it leads."""
    if not front:
        raise ValueError("the frontier is empty: no candidate has a validation score")
    names = sorted(front)
    return rng.choices(names, weights=[len(front[name]) for name in names])[0]


def gate_passes(parent: Sequence[float | None], child: Sequence[float | None]) -> bool:
    """Whether a child beats its parent on the minibatch (strictly higher total; a failure counts 0)."""
    return sum(score or 0.0 for score in child) > sum(score or 0.0 for score in parent)


def merge_choice(
    ancestor: Mapping[str, object], first: Mapping[str, object], second: Mapping[str, object]
) -> dict[str, object] | None:
    """Component by component: the value that changed from the common ancestor (the first's when both did).

    None when the merge would equal one of the two (nothing to gain from evaluating it).
    """
    merged = {
        name: (second[name] if first.get(name) == ancestor.get(name) and name in second else first.get(name))
        for name in sorted(set(first) | set(second))
    }
    if merged == dict(first) or merged == dict(second):
        return None
    return merged
