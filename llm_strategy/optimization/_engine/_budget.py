"""Budgets and usage: steps, LLM calls, tokens, estimated cost and wall time, counted from traces."""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass

from pydantic import BaseModel, Field, PrivateAttr

from llm_hyperparameters import Trace

__all__ = ["DEFAULT_PRICES", "Budget", "Usage", "price_of"]

DEFAULT_PRICES: Mapping[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1": (2.00, 8.00),
    "o4-mini": (1.10, 4.40),
    "claude-3-5-haiku": (0.80, 4.00),
    "claude-sonnet-4": (3.00, 15.00),
}
"""US dollars per million input and output tokens, matched by model-name prefix (longest first)."""


@dataclass(frozen=True)
class Budget:
    """Limits of an optimization run; None means no limit. Every limit must be positive.

    `Budget()` limits nothing: an optimizer's own `max_steps=` sets the step limit when the
    budget has none. Its default step limit is dropped when the budget limits evaluations, LLM
    calls or wall time, which every run advances (`Budget(max_evaluations=300)` runs until 300
    evaluations, however many steps that takes); tokens and cost do not lift it, since a model
    may report no usage or have no price.

    Example:
        ```python
        Budget(max_steps=5, max_tokens=200_000, max_cost=2.0, max_seconds=600, max_evaluations=300)
        ```

    `max_evaluations` counts metric calls: the meta-optimizer's task runs, the black-box and
    OPRO candidates' `f(x)`, TextGrad's `evaluate()`.
    """

    max_steps: int | None = None
    max_llm_calls: int | None = None
    max_tokens: int | None = None
    max_cost: float | None = None
    max_seconds: float | None = None
    max_evaluations: int | None = None

    def __post_init__(self) -> None:
        for name in (
            "max_steps",
            "max_llm_calls",
            "max_tokens",
            "max_cost",
            "max_seconds",
            "max_evaluations",
        ):
            value = getattr(self, name)
            if value is not None and not (math.isfinite(value) and value > 0):
                raise ValueError(f"Budget.{name} must be a positive number or None (no limit), got {value!r}")

    def with_steps(self, max_steps: int | None, default: int | None) -> Budget:
        """This budget with an optimizer's `max_steps=`, or its default unless a limit every run
        advances (evaluations, LLM calls, wall time) bounds it. A step limit set twice must agree.
        """
        if max_steps is not None and self.max_steps is not None and max_steps != self.max_steps:
            raise ValueError(
                f"max_steps={max_steps} and Budget(max_steps={self.max_steps}) disagree: set the step limit "
                "in one place"
            )
        bounded = any(
            limit is not None for limit in (self.max_evaluations, self.max_llm_calls, self.max_seconds)
        )
        steps = self.max_steps or max_steps or (None if bounded else default)
        return dataclasses.replace(self, max_steps=steps)

    def exhausted(self, usage: Usage, steps: int) -> str | None:
        """The name of the first limit reached after `steps` finished steps, or None."""
        checks = (
            ("steps", self.max_steps, steps),
            ("LLM calls", self.max_llm_calls, usage.llm_calls),
            ("tokens", self.max_tokens, usage.total_tokens),
            ("cost", self.max_cost, usage.cost),
            ("wall time", self.max_seconds, usage.seconds),
            ("evaluations", self.max_evaluations, usage.evaluations),
        )
        for name, limit, used in checks:
            if limit is not None and used >= limit:
                return name
        return None


class Usage(BaseModel):
    """What a run has used so far; carried over when a run is resumed."""

    llm_calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost: float = 0.0
    seconds: float = 0.0
    evaluations: int = 0
    unpriced_models: list[str] = Field(default_factory=list)
    _started: float = PrivateAttr(default_factory=time.monotonic)

    @property
    def total_tokens(self) -> int:
        """Input and output tokens together."""
        return self.input_tokens + self.output_tokens

    def add_trace(self, trace: Trace, prices: Mapping[str, tuple[float, float]]) -> None:
        """Count the LLM requests of a trace, pricing them by model name."""
        for span in trace.spans:
            if span.kind != "llm":
                continue
            usage = span.attributes.get("usage") or {}
            inputs, outputs = int(usage.get("input_tokens") or 0), int(usage.get("output_tokens") or 0)
            self.llm_calls += 1
            self.input_tokens += inputs
            self.output_tokens += outputs
            model = str(span.attributes.get("model") or "")
            price = price_of(model, prices)
            if price is None:
                if (model or span.name) not in self.unpriced_models:
                    self.unpriced_models.append(model or span.name)
            else:
                self.cost += (inputs * price[0] + outputs * price[1]) / 1_000_000

    def tick(self) -> None:
        """Add the wall time since the last tick."""
        now = time.monotonic()
        self.seconds += now - self._started
        self._started = now


def price_of(model: str, prices: Mapping[str, tuple[float, float]]) -> tuple[float, float] | None:
    """Dollars per million input and output tokens of a model, by its longest matching name prefix."""
    for prefix in sorted(prices, key=len, reverse=True):
        if model.startswith(prefix):
            return prices[prefix]
    return None
