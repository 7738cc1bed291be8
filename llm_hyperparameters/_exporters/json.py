"""Traces to and from JSON-compatible data, in a stable, versioned schema.

```
{"schema": "llm-hyperparameters/trace", "version": 1, "id": ..., "name": ...,
 "summary": {...}, "spans": [{"id", "parent_id", "name", "kind", "start_time", "end_time",
 "duration", "inputs", "outputs", "error": {"type", "message"} | null, "hyperparameters",
 "attributes"}, ...]}
```
"""

from __future__ import annotations

import json
from typing import Any

from .._redaction import Redactor
from .._tracing import Span, SpanError, Trace

__all__ = ["SCHEMA", "VERSION", "summarize", "trace_from_dict", "trace_to_dict", "trace_to_json"]

SCHEMA = "llm-hyperparameters/trace"
VERSION = 1


def trace_to_dict(
    trace: Trace, *, max_chars: int = 20_000, redactor: Redactor | None = None
) -> dict[str, Any]:
    """The trace as JSON-compatible data; secrets redacted, very long strings truncated.

    `redactor` (e.g. an optimization run's, which knows the run's secrets) learns the spans' secrets
    and cleans them; without one, a new `Redactor(max_chars=max_chars)` does.
    """
    redactor = redactor or Redactor(max_chars=max_chars)
    spans = [_span_data(item) for item in list(trace.spans)]
    redactor.learn(spans)
    return {
        "schema": SCHEMA,
        "version": VERSION,
        "id": trace.id,
        "name": redactor.text(trace.name),
        "summary": summarize(trace),
        "spans": redactor.clean(spans),
    }


def trace_to_json(trace: Trace, *, indent: int | None = None, max_chars: int = 20_000) -> str:
    """`trace_to_dict` as JSON text."""
    return json.dumps(trace_to_dict(trace, max_chars=max_chars), indent=indent, ensure_ascii=False)


def trace_from_dict(data: dict[str, Any]) -> Trace:
    """Read a trace written by `trace_to_dict`; other schemas or newer versions are a `ValueError`."""
    if data.get("schema") != SCHEMA or not isinstance(data.get("version"), int) or data["version"] > VERSION:
        raise ValueError(
            f"not a {SCHEMA} document of version <= {VERSION}: {data.get('schema')!r} {data.get('version')!r}"
        )
    restored = Trace(data.get("name", "trace"), trace_id=data.get("id"))
    for item in data["spans"]:
        error = item.get("error")
        restored.spans.append(
            Span(
                id=item["id"],
                parent_id=item.get("parent_id"),
                name=item["name"],
                kind=item["kind"],
                start_time=item["start_time"],
                end_time=item.get("end_time"),
                inputs=item.get("inputs"),
                outputs=item.get("outputs"),
                error=SpanError(error["type"], error["message"]) if error else None,
                hyperparameters=item.get("hyperparameters"),
                attributes=item.get("attributes") or {},
            )
        )
    return restored


def _span_data(span: Span) -> dict[str, Any]:
    return {
        "id": span.id,
        "parent_id": span.parent_id,
        "name": span.name,
        "kind": span.kind,
        "start_time": span.start_time,
        "end_time": span.end_time,
        "duration": span.duration,
        "inputs": span.inputs,
        "outputs": span.outputs,
        "error": {"type": span.error.type, "message": span.error.message} if span.error else None,
        "hyperparameters": span.hyperparameters,
        "attributes": span.attributes,
    }


def summarize(trace: Trace) -> dict[str, Any]:
    """Calls, LLM requests, errors, token usage and latency over a trace."""
    spans = list(trace.spans)
    requests = [item for item in spans if item.kind == "llm"]
    usage = [item.attributes.get("usage") or {} for item in requests]
    root = spans[0] if spans else None
    return {
        "spans": len(spans),
        "calls": sum(1 for item in spans if item.kind == "function"),
        "llm_calls": len(requests),
        "errors": sum(1 for item in spans if item.error is not None),
        "input_tokens": sum(int(entry.get("input_tokens") or 0) for entry in usage),
        "output_tokens": sum(int(entry.get("output_tokens") or 0) for entry in usage),
        "total_tokens": sum(int(entry.get("total_tokens") or 0) for entry in usage),
        "llm_latency_s": round(sum(item.duration or 0.0 for item in requests), 6),
        "duration_s": round(root.duration or 0.0, 6) if root else 0.0,
    }
