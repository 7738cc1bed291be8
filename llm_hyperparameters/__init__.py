"""llm-hyperparameters: tracked hyperparameters and execution traces, with no LLM dependency.

- `@track_hyperparameters`: `_name: type = default` parameters and `Hyperparameter("name") @ default`
  expressions in the body become typed, scoped hyperparameters; `Hyperparameters` holds values
  per function and puts them in force (`hyperparameters_scope()` is its 2.2.0 shape).
- `trace()`: record a tree of spans (tracked calls, LLM requests) and export it as JSON, a
  self-contained HTML page, to Weights & Biases, or as OpenTelemetry GenAI spans (`export_otel`,
  or live with `instrument()`).

It imports neither `llm_strategy` nor langchain.
"""

from typing import TYPE_CHECKING, Any

from ._body import Hyperparameter
from ._errors import DefinitionError
from ._exporters.html import render_html, write_html
from ._redaction import Redactor, is_secret_name
from ._scope import Hyperparameters, HyperparametersScope, hyperparameters_scope
from ._tracing import (
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
from ._tracking import TrackedHyperparameters, lookup, register, registered, track_hyperparameters

if TYPE_CHECKING:
    from ._exporters.otel import export_otel, flush, instrument, uninstrument
    from ._exporters.wandb import log_trace
    from ._exporters.wandb_file import read_run_file

__all__ = [
    "DefinitionError",
    "Hyperparameter",
    "Hyperparameters",
    "HyperparametersScope",
    "Redactor",
    "Span",
    "SpanError",
    "Trace",
    "TrackedHyperparameters",
    "current_span",
    "current_trace",
    "export_otel",
    "flush",
    "hyperparameters_scope",
    "instrument",
    "is_secret_name",
    "log_trace",
    "lookup",
    "read_run_file",
    "register",
    "registered",
    "render_html",
    "span",
    "start_span",
    "trace",
    "tracing_active",
    "track_hyperparameters",
    "uninstrument",
    "write_html",
]


_LAZY = {
    "log_trace": "._exporters.wandb",
    "read_run_file": "._exporters.wandb_file",
    "export_otel": "._exporters.otel",
    "flush": "._exporters.otel",
    "instrument": "._exporters.otel",
    "uninstrument": "._exporters.otel",
}


def __getattr__(name: str) -> Any:
    """W&B and OpenTelemetry names load on first use: importing the package imports neither."""
    if name not in _LAZY:
        raise AttributeError(f"module 'llm_hyperparameters' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(_LAZY[name], __name__), name)
