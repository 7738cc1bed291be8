"""Budgets and usage: steps, LLM calls, tokens, estimated cost and wall time, counted from traces."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from llm_hyperparameters import Trace

__all__ = ["DEFAULT_PRICES", "Budget", "Usage"]

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

    Example:
        ```python
        Budget(max_steps=5, max_tokens=200_000, max_cost=2.0, max_seconds=600)
        ```
    """

    max_steps: int | None = 5
    max_llm_calls: int | None = None
    max_tokens: int | None = None
    max_cost: float | None = None
    max_seconds: float | None = None

    def __post_init__(self) -> None:
        for name in ("max_steps", "max_llm_calls", "max_tokens", "max_cost", "max_seconds"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ValueError(f"Budget.{name} must be positive or None (no limit), got {value!r}")

    def exhausted(self, usage: Usage, steps: int) -> str | None:
        """The name of the first limit reached, or None."""
        checks = (
            ("steps", self.max_steps, steps),
            ("LLM calls", self.max_llm_calls, usage.llm_calls),
            ("tokens", self.max_tokens, usage.total_tokens),
            ("cost", self.max_cost, usage.cost),
            ("wall time", self.max_seconds, usage.seconds),
        )
        for name, limit, used in checks:
            if limit is not None and used >= limit:
                return name
        return None


@dataclass
class Usage:
    """What a run has used so far; carried over when a run is resumed."""

    llm_calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost: float = 0.0
    seconds: float = 0.0
    unpriced_models: set[str] = field(default_factory=set)
    _started: float = field(default_factory=time.monotonic, repr=False)

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
            price = _price(str(span.attributes.get("model") or ""), prices)
            if price is None:
                self.unpriced_models.add(str(span.attributes.get("model") or span.name))
            else:
                self.cost += (inputs * price[0] + outputs * price[1]) / 1_000_000

    def tick(self) -> None:
        """Add the wall time since the last tick."""
        now = time.monotonic()
        self.seconds += now - self._started
        self._started = now

    def to_dict(self) -> dict[str, object]:
        """JSON-compatible figures."""
        return {
            "llm_calls": self.llm_calls,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "total_tokens": self.total_tokens,
            "cost": round(self.cost, 6),
            "seconds": round(self.seconds, 3),
            "unpriced_models": sorted(self.unpriced_models),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Usage:
        """Figures written by `to_dict`."""
        return cls(
            llm_calls=int(data.get("llm_calls", 0)),  # type: ignore[call-overload]
            input_tokens=int(data.get("input_tokens", 0)),  # type: ignore[call-overload]
            output_tokens=int(data.get("output_tokens", 0)),  # type: ignore[call-overload]
            cost=float(data.get("cost", 0.0)),  # type: ignore[arg-type]
            seconds=float(data.get("seconds", 0.0)),  # type: ignore[arg-type]
            unpriced_models=set(data.get("unpriced_models", ())),  # type: ignore[call-overload]
        )


def _price(model: str, prices: Mapping[str, tuple[float, float]]) -> tuple[float, float] | None:
    for prefix in sorted(prices, key=len, reverse=True):
        if model.startswith(prefix):
            return prices[prefix]
    return None
