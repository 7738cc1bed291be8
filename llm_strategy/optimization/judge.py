"""LLM as a judge: a scorer from a rubric, and a score parser for free-text verdicts."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, Field

from .._decorators import llm_explicit_function
from .._models import resolve_model

__all__ = ["JudgeRequest", "Judgement", "judge_solution", "parse_score", "rubric_scorer"]

_SCORE = re.compile(
    r"(?i)(?:score|rating|grade)\s*[:=]?\s*(-?\d+(?:\.\d+)?)(?:\s*/\s*(\d+(?:\.\d+)?))?"
    r"|(-?\d+(?:\.\d+)?)\s*(?:/|out of)\s*(\d+(?:\.\d+)?)"
)


class JudgeRequest(BaseModel):
    """A solution to grade against a rubric."""

    rubric: str = Field(description="What a good solution does; how to grade.")
    solution: str = Field(description="The solution to grade.")
    lowest: float = Field(description="The lowest possible score.")
    highest: float = Field(description="The highest possible score.")


class Judgement(BaseModel):
    """The grade and why."""

    reasoning: str = Field(description="Brief: how the solution meets or misses each point of the rubric.")
    score: float = Field(description="The grade, between lowest and highest.")
    feedback: str = Field(description="The most useful change to make, in one sentence.")


@llm_explicit_function
def judge_solution(model: Any, request: JudgeRequest) -> Judgement:
    """Grade the solution strictly against the rubric."""
    raise NotImplementedError


def rubric_scorer(
    rubric: str, model: Any, *, lowest: float = 0, highest: float = 10
) -> Callable[[str], tuple[float, str]]:
    """An `f(x) -> (score, feedback)` that asks the model to grade `x` against the rubric.

    Scores outside the scale are clipped into it.

    Example:
        ```python
        f = rubric_scorer("A haiku: 5-7-5 syllables, a season word, a cut.", model)
        result = blackbox.run("Write a haiku", "Improve it.", f, "Old pond", model=model)
        ```
    """
    if highest <= lowest:
        raise ValueError(f"highest must be above lowest, got {lowest}..{highest}")
    resolved = resolve_model(model)

    def score(solution: str) -> tuple[float, str]:
        verdict = judge_solution(
            resolved, JudgeRequest(rubric=rubric, solution=solution, lowest=lowest, highest=highest)
        )
        return min(max(verdict.score, lowest), highest), f"{verdict.feedback} ({verdict.reasoning})"

    return score


def parse_score(text: str, *, lowest: float = 0, highest: float = 10) -> float:
    """The score in a free-text verdict ("Score: 7", "8/10", "7.5 out of 10"), rescaled to the scale.

    A fraction `a/b` is rescaled from `0..b`; a bare score must already be on the scale.
    Raises `ValueError` when the text has no score, or it is off the scale.
    """
    match = _SCORE.search(text)
    if match is None:
        raise ValueError(f"no score found in {text[:80]!r}")
    value = float(match.group(1) or match.group(3))
    out_of = match.group(2) or match.group(4)
    if out_of is not None:
        value = lowest + value / float(out_of) * (highest - lowest)
    if not lowest <= value <= highest:
        raise ValueError(f"score {value} is outside {lowest}..{highest} in {text[:80]!r}")
    return value
