"""A self-contained HTML page of a trace: a collapsible span tree, readable LLM requests, errors marked.

The page loads nothing from the network; it is rendered from the redacted `to_dict()` data.
"""

from __future__ import annotations

import html
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from .._tracing import Trace

__all__ = ["IndexEntry", "render_html", "render_html_data", "render_index", "write_html"]

_STYLE = (resources.files(__package__) / "trace_page.css").read_text(encoding="utf-8")

_SCRIPT = """
function setAll(open){document.querySelectorAll('details').forEach(d=>{d.open=open;});}
"""


def render_html(trace: Trace, *, max_chars: int = 20_000) -> str:
    """The trace as one self-contained HTML page."""
    return render_html_data(trace.to_dict(max_chars=max_chars))


def render_html_data(data: dict[str, Any]) -> str:
    """The page of a trace already turned into data by `Trace.to_dict` (redacted, shortened)."""
    children: dict[str | None, list[dict[str, Any]]] = defaultdict(list)
    for item in data["spans"]:
        children[item["parent_id"]].append(item)
    summary = data["summary"]
    facts = [
        f"<b>{summary['calls']}</b> calls",
        f"<b>{summary['llm_calls']}</b> LLM requests",
        f"<b>{summary['total_tokens']}</b> tokens",
        f"<b>{summary['duration_s']:.3f}</b> s",
        f"<b>{summary['errors']}</b> errors",
    ]
    body = "".join(_span(item, children, depth=0) for item in children[None])
    title = html.escape(data["name"])
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>Trace: {title}</title><style>{_STYLE}</style><script>{_SCRIPT}</script></head><body>"
        f"<h1>Trace: {title}</h1><div class='summary'>{' · '.join(facts)}</div>"
        "<div class='toolbar'><button onclick='setAll(true)'>Expand all</button>"
        "<button onclick='setAll(false)'>Collapse all</button></div>"
        f"{body}</body></html>"
    )


@dataclass(frozen=True)
class IndexEntry:
    """One trace page on an index page: its link, a title, and rows of (label, score, note)."""

    href: str
    title: str
    rows: Sequence[tuple[str, float | None, str]] = ()


def render_index(title: str, entries: Sequence[IndexEntry], facts: Sequence[str] = ()) -> str:
    """A self-contained page linking trace pages, each with its rows (e.g. the scores of its task runs)."""
    sections = []
    for entry in entries:
        rows = "".join(
            f"<tr><td>{html.escape(label)}</td>"
            f"<td class='score'>{'-' if score is None else f'{score:.4g}'}</td>"
            f"<td>{html.escape(note)}</td></tr>"
            for label, score, note in entry.rows
        )
        table = f"<table><tr><th>run</th><th>score</th><th>note</th></tr>{rows}</table>" if rows else ""
        sections.append(
            f"<div class='section'><h2><a href='{html.escape(entry.href)}'>"
            f"{html.escape(entry.title)}</a></h2>"
            f"{table}</div>"
        )
    summary = " · ".join(html.escape(fact) for fact in facts)
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{_STYLE}"
        "table{border-collapse:collapse}td,th{padding:2px 10px;text-align:left}td.score{text-align:right}"
        f"</style></head><body><h1>{html.escape(title)}</h1><div class='summary'>{summary}</div>"
        f"{''.join(sections)}</body></html>"
    )


def write_html(trace: Trace, path: str | Path, *, max_chars: int = 20_000) -> Path:
    """Write the page and return its path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render_html(trace, max_chars=max_chars), encoding="utf-8")
    return target


def _span(item: dict[str, Any], children: dict[str | None, list[dict[str, Any]]], depth: int) -> str:
    kind = item["kind"]
    failed = item.get("error") is not None
    is_open = failed or (kind != "llm" and depth < 3)
    classes = " ".join(
        ["span", f"span-{kind}", "failed" if failed else "", "root" if depth == 0 else ""]
    ).strip()
    meta = [_duration(item.get("duration"))]
    usage = (item.get("attributes") or {}).get("usage") or {}
    if usage.get("total_tokens"):
        meta.append(f"{usage['total_tokens']} tokens")
    if failed:
        meta.append("failed")
    head = (
        f"<summary><span class='kind kind-{html.escape(kind)}'>{html.escape(kind)}</span>"
        f"<span class='name'>{html.escape(item['name'])}</span>"
        f"<span class='meta'>{html.escape(' · '.join(part for part in meta if part))}</span></summary>"
    )
    sections = []
    if failed:
        error = item["error"]
        sections.append(
            f"<div class='error'>{html.escape(error['type'])}: {html.escape(error['message'])}</div>"
        )
    sections.extend(_llm_sections(item) if kind == "llm" else _call_sections(item))
    nested = "".join(_span(child, children, depth + 1) for child in children[item["id"]])
    return (
        f"<details class='{classes}'{' open' if is_open else ''}>{head}{''.join(sections)}{nested}</details>"
    )


def _call_sections(item: dict[str, Any]) -> list[str]:
    sections = []
    for label, key in (("inputs", "inputs"), ("hyperparameters", "hyperparameters"), ("output", "outputs")):
        if item.get(key) not in (None, {}, []):
            sections.append(_section(label, _pre(item[key])))
    return sections


def _llm_sections(item: dict[str, Any]) -> list[str]:
    attributes = item.get("attributes") or {}
    sections = []
    details = {
        "model": attributes.get("model"),
        **(attributes.get("params") or {}),
        "attempt": attributes.get("attempt"),
    }
    shown = {key: value for key, value in details.items() if value is not None}
    if shown:
        sections.append(_section("model", _pre(shown)))
    messages = (item.get("inputs") or {}).get("messages") or []
    rendered = "".join(
        f"<div class='message'><span class='role'>{html.escape(str(message.get('role', '?')))}</span>"
        f"{_pre(message.get('content', ''))}</div>"
        for message in messages
    )
    if rendered:
        sections.append(_section("messages", rendered))
    outputs = item.get("outputs")
    reply = outputs.get("reply") if isinstance(outputs, dict) else outputs
    if reply is not None:
        sections.append(_section("reply", _pre(reply)))
    if attributes.get("usage"):
        sections.append(_section("usage", _pre(attributes["usage"])))
    return sections


def _section(label: str, content: str) -> str:
    return f"<div class='section'><div class='label'>{html.escape(label)}</div>{content}</div>"


def _pre(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, indent=2, ensure_ascii=False)
    return f"<pre>{html.escape(text)}</pre>"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "running"
    return f"{seconds * 1000:.1f} ms" if seconds < 10 else f"{seconds:.2f} s"
