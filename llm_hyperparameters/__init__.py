"""llm-hyperparameters: tracked hyperparameters and execution traces, with no LLM dependency.

- `@track_hyperparameters`: keyword-only `_name: type = default` parameters become typed,
  scoped hyperparameters; `Hyperparameters` holds values per function and puts them in force.
- `trace()`: record a tree of spans (tracked calls, LLM requests) and export it as JSON, a
  self-contained HTML page, or to Weights & Biases.

It imports neither `llm_strategy` nor langchain.
"""

from .errors import DefinitionError
from .exporters.html import render_html, write_html
from .redaction import Redactor, is_secret_name
from .scope import Hyperparameters
from .tracing import (
    Span,
    SpanError,
    Trace,
    current_span,
    current_trace,
    span,
    start_span,
    trace,
    tracing_active,
)
from .tracking import TrackedHyperparameters, lookup, register, registered, track_hyperparameters

__all__ = [
    "DefinitionError",
    "Hyperparameters",
    "Redactor",
    "Span",
    "SpanError",
    "Trace",
    "TrackedHyperparameters",
    "current_span",
    "current_trace",
    "is_secret_name",
    "lookup",
    "register",
    "registered",
    "render_html",
    "span",
    "start_span",
    "trace",
    "tracing_active",
    "track_hyperparameters",
    "write_html",
]
