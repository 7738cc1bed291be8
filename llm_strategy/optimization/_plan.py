"""What a Pareto run will cost before it starts: `auto` presets as evaluations, and an estimate of calls,
tokens and dollars from the data sizes and the configured models' prices.

The estimate assumes one LLM call per task run and typical prompt sizes (stated in the text); the run
itself counts the real usage.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from .._models import model_name
from ._engine import price_of

__all__ = ["AUTO_PROPOSALS", "RunPlan", "auto_evaluations", "plan_run"]

Auto = Literal["light", "medium", "heavy"]
AUTO_PROPOSALS: Mapping[str, int] = {"light": 6, "medium": 12, "heavy": 24}
"""Proposals (steps) of each `auto` preset."""

_TASK_TOKENS = (800, 200)  # input and output tokens assumed per task-run LLM call
_PROPOSAL_OUTPUT_TOKENS = 400


@dataclass(frozen=True)
class RunPlan:
    """A Pareto run's budget and its estimated cost; `text` is what is printed before the run starts."""

    steps: int | None
    evaluations: int | None
    llm_calls: int | None
    tokens: int | None
    cost: float | None
    text: str


def auto_evaluations(auto: Auto, validation: int, minibatch: int) -> tuple[int, int]:
    """(steps, evaluations) of a preset: the seed's validation, then per step the parent and child on a
    minibatch and a full validation (the most a step can use, when every child passes the gate)."""
    if auto not in AUTO_PROPOSALS:
        raise ValueError(f"auto must be one of {', '.join(AUTO_PROPOSALS)}, got {auto!r}")
    steps = AUTO_PROPOSALS[auto]
    return steps, validation + steps * (2 * minibatch + validation)


def plan_run(
    *,
    steps: int | None,
    evaluations: int | None,
    sizes: tuple[int, int, int],
    minibatch: int,
    reflection_chars: int,
    task_model: Any,
    optimizer_model: Any,
    prices: Mapping[str, tuple[float, float]],
) -> RunPlan:
    """The estimate for a run limited by `steps` and `evaluations` (whichever binds first)."""
    train, validation, test = sizes
    per_step = 2 * minibatch + validation
    bound = [
        limit for limit in (evaluations, None if steps is None else validation + steps * per_step) if limit
    ]
    runs = min(bound) if bound else None
    proposals = (
        steps if steps is not None else (None if runs is None else max((runs - validation) // per_step, 0))
    )
    lines = [
        f"Pareto run: task parameters: train {train}, validation {validation}, test {test}; "
        f"minibatch {minibatch}",
        f"budget: {steps if steps is not None else 'no'} steps, "
        f"{evaluations if evaluations is not None else 'no limit on'} evaluations",
    ]
    if runs is None or proposals is None:
        lines.append("no estimate: neither steps nor evaluations are limited")
        return RunPlan(steps, evaluations, None, None, None, "\n".join(lines))
    runs += test
    proposal_tokens = (reflection_chars // 4 + 500, _PROPOSAL_OUTPUT_TOKENS)
    task = (runs * _TASK_TOKENS[0], runs * _TASK_TOKENS[1])
    optimizer = (proposals * proposal_tokens[0], proposals * proposal_tokens[1])
    cost: float | None = 0.0
    for model, (inputs, outputs) in ((task_model, task), (optimizer_model, optimizer)):
        price = None if model is None else price_of(model_name(model), prices)
        if model is not None and price is None:
            cost = None
        elif price is not None and cost is not None:
            cost += (inputs * price[0] + outputs * price[1]) / 1_000_000
    tokens = sum(task) + sum(optimizer)
    lines.append(
        f"estimate: at most {runs} task runs (test included) and {proposals} proposals: about "
        f"{runs + proposals} LLM calls, {tokens:,} tokens, "
        + ("cost unknown (a model without a price)" if cost is None else f"${cost:.2f}")
        + f" (assuming one LLM call of ~{sum(_TASK_TOKENS)} tokens per task run)"
    )
    return RunPlan(steps, evaluations, runs + proposals, tokens, cost, "\n".join(lines))
