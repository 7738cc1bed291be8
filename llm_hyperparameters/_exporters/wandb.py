"""Traces to Weights & Biases: a trace tree, a span table, the local page, and summary figures.

`wandb` is imported only here, when used. Without a run given, a new one is started in
offline mode unless the user chose a mode (`WANDB_MODE`); the mode is passed as
`wandb.Settings`, the process environment is left alone.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from pathlib import Path
from typing import Any

from .._tracing import Trace
from .html import render_html_data

__all__ = ["SPAN_COLUMNS", "default_settings", "log_trace", "log_trace_data"]

SPAN_COLUMNS = ["id", "parent", "name", "kind", "inputs", "outputs", "tokens", "latency_ms", "status"]


def default_settings(mode: str | None = None, *, init_timeout: float = 15.0) -> Any:
    """`wandb.Settings` for a run we start: `mode`, else the user's `WANDB_MODE`, else offline; quiet.

    The environment is read, never written: an explicit user setting wins.
    """
    import wandb

    chosen = mode or os.environ.get("WANDB_MODE") or "offline"
    silent = os.environ.get("WANDB_SILENT", "true").lower() in ("1", "true", "yes")
    return wandb.Settings(mode=chosen, silent=silent, init_timeout=init_timeout)


def log_trace(
    trace: Trace,
    run: Any = None,
    *,
    key: str = "trace",
    project: str = "llm-strategy",
    directory: str | Path | None = None,
    step: int | None = None,
) -> Any:
    """Log a trace to `run`, or to a new offline run that is finished afterwards; returns the run.

    Example:
        ```python
        run = log_trace(recorded)            # a new offline run under ./wandb
        print(run.dir)
        ```
    """
    import wandb

    owns_run = run is None
    if owns_run:
        run = wandb.init(
            project=project,
            dir=str(directory) if directory else None,
            job_type="trace",
            settings=default_settings(),
        )
    log_trace_data(trace.to_dict(), run, key=key, step=step)
    if owns_run:
        run.finish()
    return run


def log_trace_data(data: dict[str, Any], run: Any, *, key: str = "trace", step: int | None = None) -> None:
    """Log a trace already turned into data by `Trace.to_dict` (redacted, shortened) to `run`."""
    import wandb
    from wandb.sdk.data_types.trace_tree import WBTraceTree

    table = wandb.Table(columns=list[str | int](SPAN_COLUMNS), data=[_row(item) for item in data["spans"]])
    root = _wandb_span_tree(data["spans"])
    payload: dict[str, Any] = {f"{key}/spans": table, f"{key}/page": wandb.Html(render_html_data(data))}
    if root is not None:
        payload[f"{key}/tree"] = WBTraceTree(root)
    run.log(payload, step=step)
    for name, value in data["summary"].items():
        run.summary[f"{key}/{name}"] = value


def _row(item: dict[str, Any]) -> list[Any]:
    usage = (item.get("attributes") or {}).get("usage") or {}
    duration = item.get("duration")
    return [
        item["id"],
        item.get("parent_id") or "",
        item["name"],
        item["kind"],
        _text(item.get("inputs")),
        _text(item.get("outputs")),
        int(usage.get("total_tokens") or 0),
        round(duration * 1000, 3) if duration is not None else None,
        "error" if item.get("error") else "success",
    ]


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _wandb_span_tree(spans: list[dict[str, Any]]) -> Any:
    """The spans as W&B trace-tree spans, children attached; the first root is returned."""
    from wandb.sdk.data_types.trace_tree import Result, Span, SpanKind, StatusCode

    kinds = {"llm": SpanKind.LLM, "function": SpanKind.CHAIN, "trace": SpanKind.AGENT, "span": SpanKind.TOOL}
    built: dict[str, Any] = {}
    children: dict[str | None, list[Any]] = defaultdict(list)
    for item in spans:
        error = item.get("error")
        converted = Span(
            span_id=item["id"],
            name=item["name"],
            start_time_ms=int(item["start_time"] * 1000),
            end_time_ms=int((item.get("end_time") or item["start_time"]) * 1000),
            status_code=StatusCode.ERROR if error else StatusCode.SUCCESS,
            status_message=f"{error['type']}: {error['message']}" if error else None,
            attributes={key: _text(value) for key, value in (item.get("attributes") or {}).items()},
            results=[Result(inputs=_named(item.get("inputs")), outputs=_named(item.get("outputs")))],
            span_kind=kinds.get(item["kind"], SpanKind.TOOL),
        )
        built[item["id"]] = converted
        children[item.get("parent_id")].append(converted)
    for span_id, converted in built.items():
        converted.child_spans = children.get(span_id, [])
    roots = children.get(None, [])
    return roots[0] if roots else None


def _named(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if isinstance(value, dict):
        return {key: _text(item) for key, item in value.items()}
    return {"value": _text(value)}
