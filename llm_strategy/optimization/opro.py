"""OPRO (Large Language Models as Optimizers, arXiv 2309.03409): a meta-prompt of the best solutions so far.

Each step shows the `keep` best (solution, score) pairs sorted ascending — best last — with
scores bucketed as in the paper, and samples several new solutions in separate calls at the
configured temperature; duplicates are dropped. Solutions are text or any typed value.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field
from typing_extensions import Unpack

from .._decorators import llm_explicit_function
from .._models import resolve_model
from ._engine import Evaluated, RunOptions, ask, parametrized, run_concurrently
from ._search import Direction, SearchResult, StopWhen, search

__all__ = ["OproRequest", "ScoredSolution", "bucketed", "propose_next_solution", "run"]

T = TypeVar("T")


class ScoredSolution(BaseModel, Generic[T]):
    """A previous solution and its (bucketed) score."""

    solution: T
    score: float


class OproRequest(BaseModel, Generic[T]):
    """The meta-prompt: the task and the best solutions so far."""

    task: str = Field(description="What the solutions are for.")
    goal: Direction = Field(description="Whether a higher or a lower score is better.")
    solutions: list[ScoredSolution[T]] = Field(
        description="The best solutions so far, sorted so the best is last."
    )
    variant: int = Field(description="Which of this step's parallel proposals this is; make each different.")


@llm_explicit_function
def propose_next_solution(model: Any, request: OproRequest[T]) -> T:
    """Write a new solution that is different from all the solutions shown and scores better than them.

    The solutions are sorted so the best is last; learn from how the score changes.
    """
    raise NotImplementedError


def bucketed(score: float, score_range: tuple[float, float] | None, buckets: int) -> float:
    """The score as shown to the model: on a `buckets`-step integer scale over `score_range`, else rounded."""
    if score_range is None:
        return float(round(score))
    low, high = score_range
    if high <= low:
        raise ValueError(f"score_range must be (low, high) with low < high, got {score_range}")
    position = (min(max(score, low), high) - low) / (high - low)
    return float(round(position * buckets))


def run(
    task: str,
    f: Callable[[Any], Any],
    x0: Sequence[Any],
    *,
    model: Any,
    solution_type: Any = str,
    direction: Direction = "maximize",
    keep: int = 20,
    candidates_per_step: int = 8,
    temperature: float | None = 1.0,
    score_range: tuple[float, float] | None = None,
    buckets: int = 100,
    stop_score: float | None = None,
    stop_when: StopWhen[Any] | None = None,
    max_steps: int | None = None,
    **options: Unpack[RunOptions],
) -> SearchResult[Any]:
    """Optimize solutions of `solution_type` for `f(x) -> (score, feedback)` with OPRO's meta-prompt.

    `max_steps` is the budget's step limit (default 10 unless the budget limits evaluations, LLM
    calls or time); `options` are the run options every optimizer accepts (`RunOptions`, see
    `blackbox.run`); proposals and evaluations run 8 at once unless `concurrency` says otherwise.

    Example:
        ```python
        result = opro.run("Find (w, b) minimizing the loss", loss, [Point(w=1, b=1)],
                          model=model, solution_type=Point, direction="minimize", stop_score=0)
        ```
    """
    resolved = resolve_model(model)
    sampler = _at_temperature(resolved, temperature)
    concurrency = options.get("concurrency", 8)
    if keep < 1:
        raise ValueError(f"keep must be at least 1, got {keep}")

    def propose(history: Sequence[Evaluated[Any]], count: int, step: int) -> list[Any]:
        scored = [(item.x, item.score) for item in history if item.score is not None]
        best_first = sorted(scored, key=lambda pair: pair[1], reverse=direction == "maximize")
        shown = list(reversed(best_first[:keep]))  # ascending quality: the best is last
        request_type = parametrized(OproRequest, solution_type)
        solutions = [{"solution": x, "score": bucketed(score, score_range, buckets)} for x, score in shown]

        def one(variant: int) -> Any:
            request = request_type(task=task, goal=direction, solutions=solutions, variant=variant)
            return ask(propose_next_solution, sampler, request)

        return run_concurrently([functools.partial(one, variant) for variant in range(count)], concurrency)

    return search(
        "opro",
        task[:60],
        propose,
        f,
        list(x0),
        solution_type=solution_type,
        direction=direction,
        stop_score=stop_score,
        stop_when=stop_when,
        max_steps=max_steps,
        candidates_per_step=candidates_per_step,
        options=options,
    )


def _at_temperature(model: Any, temperature: float | None) -> Any:
    """A copy of the model sampling at `temperature`, when the model has that setting."""
    if temperature is None or "temperature" not in getattr(type(model), "model_fields", {}):
        return model
    return model.model_copy(update={"temperature": temperature})
