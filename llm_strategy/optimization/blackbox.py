"""Black-box optimization of text or code (llm_optimize's `run`, then better).

The model sees the task, a bounded window of recent attempts with their scores and feedback,
and the best so far, and proposes several new solutions per step; `f(x) -> (score, feedback)`
scores them concurrently.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Annotated, Any

from pydantic import BaseModel, Field
from typing_extensions import Unpack

from .._decorators import llm_explicit_function
from .._models import resolve_model
from ._engine import Evaluated, RunOptions, ask
from ._search import Direction, SearchResult, StopWhen, search

__all__ = ["Attempt", "Candidate", "ProposalRequest", "propose_solutions", "run", "solution_text"]

_FENCE = re.compile(r"```[\w+-]*\s*\n(.*?)```", re.DOTALL)


class Attempt(BaseModel):
    """A solution tried before and how it did."""

    solution: str
    score: float | None = Field(description="The score; null when evaluating it failed.")
    feedback: str = Field(description="What the evaluation said.")


class ProposalRequest(BaseModel):
    """What the model needs to propose better solutions."""

    task: str = Field(description="What the solution is for.")
    question: str = Field(description="What to produce or improve.")
    goal: Direction = Field(description="Whether a higher or a lower score is better.")
    best: Attempt | None = Field(description="The best solution so far.")
    recent: list[Attempt] = Field(description="The most recent attempts, oldest first.")
    count: int = Field(description="How many new candidates to return.")


class Candidate(BaseModel):
    """One proposed solution."""

    reasoning: str = Field(description="In one or two sentences: why this should score better.")
    solution: str = Field(
        description="The complete solution, exactly as it will be evaluated, without fences."
    )


@llm_explicit_function
def propose_solutions(
    model: Any, request: ProposalRequest
) -> Annotated[list[Candidate], Field(min_length=1)]:
    """Propose new candidate solutions that should score better than every attempt so far.

    Learn from the scores and the feedback. Each candidate must differ from the attempts and
    from the other candidates.
    """
    raise NotImplementedError


def solution_text(text: str) -> str:
    """The solution itself: the content of a code fence when the model added one, else the text."""
    fenced = _FENCE.findall(text)
    return (max(fenced, key=len) if fenced else text).strip()


def run(
    task: str,
    question: str,
    f: Callable[[str], Any],
    x0: str | Sequence[str],
    stop_score: float | None = None,
    max_steps: int | None = None,
    model: Any = None,
    *,
    stop_when: StopWhen[Any] | None = None,
    direction: Direction = "maximize",
    candidates_per_step: int = 3,
    history_window: int = 6,
    **options: Unpack[RunOptions],
) -> SearchResult[str]:
    """Optimize a text or program `x` for `f(x) -> (score, feedback)`, as llm_optimize's `run` does.

    Returns the best score, the score history and the best x, unpacked as llm_optimize's
    `best_score, scores, best_x = run(...)` or read as `result.best_score`, `result.scores`,
    `result.best_x`, with a run directory you can resume. `max_steps` is the budget's step limit
    (default 10 unless the budget limits evaluations, LLM calls or time); `options` are the run
    options every optimizer accepts (`RunOptions`:
    `budget`, `concurrency`, `executor`, `run_directory`, `resume`, `wandb`, `wandb_run`,
    `project`, `progress`, `prices`). When `x0` already meets `stop_score`, the model is not asked.

    Example:
        ```python
        best_score, scores, best_x = blackbox.run(
            "Write a haiku", "Improve the haiku.", judge, "Old pond...",
            stop_score=9, max_steps=5, model="openai:gpt-4o-mini")
        ```
    """
    if model is None:
        raise ValueError("model is required: any langchain model or 'provider:model' string")
    resolved = resolve_model(model)
    if history_window < 1:
        raise ValueError(f"history_window must be at least 1, got {history_window}")

    def propose(history: Sequence[Evaluated[str]], count: int, step: int) -> list[str]:
        scored = [item for item in history if item.score is not None]
        pick = max if direction == "maximize" else min
        best = pick(scored, key=lambda item: item.score) if scored else None  # type: ignore[arg-type, return-value]
        request = ProposalRequest(
            task=task,
            question=question,
            goal=direction,
            best=_attempt(best) if best else None,
            recent=[_attempt(item) for item in history[-history_window:]],
            count=count,
        )
        candidates = ask(propose_solutions, resolved, request)
        return [text for text in (solution_text(candidate.solution) for candidate in candidates) if text]

    return search(
        "blackbox",
        task[:60],
        propose,
        f,
        [x0] if isinstance(x0, str) else list(x0),
        direction=direction,
        stop_score=stop_score,
        stop_when=stop_when,
        max_steps=max_steps,
        candidates_per_step=candidates_per_step,
        identity={"question": question},
        options=options,
    )


def _attempt(item: Evaluated[str]) -> Attempt:
    return Attempt(solution=item.x, score=item.score, feedback=item.feedback)
