"""Execution traces: a tree of spans (calls, LLM requests), captured into the trace in force.

```python
with trace("essays") as run:
    write_essay(model, "bees")       # tracked and decorated calls become spans
run.to_json()                        # a stable, versioned schema; Trace.from_json reads it back
```

Recording never raises into the traced code: a failure to record is dropped, the call goes on.

Live exporters (OpenTelemetry's `instrument()`) register a `SpanListener` in `LISTENERS`, the
one process-wide piece of tracing state: they see every span start and end, and while one
listens spans are recorded outside `trace()` too (each top-level span roots a trace of its own).
"""

from __future__ import annotations

import contextlib
import inspect
import itertools
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from ._redaction import Redactor

__all__ = [
    "LISTENERS",
    "Span",
    "SpanError",
    "SpanListener",
    "Trace",
    "call_span",
    "current_span",
    "current_trace",
    "span",
    "start_span",
    "trace",
    "tracing_active",
]

_ACTIVE: ContextVar[tuple[Trace, Span] | None] = ContextVar("llm_hyperparameters_span", default=None)


class SpanListener(Protocol):
    """Sees spans live: when each starts (with the span it runs under) and when it ends."""

    def span_started(self, span: Span, parent: Span | None) -> None:
        """`parent` is the span's parent, or for a trace's root the span it was opened in, if any."""

    def span_ended(self, span: Span) -> None:
        """The span has its end time, outputs or error, and final attributes."""


class SpanListeners:
    """The process-wide span listeners by name: what live exporters install, in one place.

    Installing is global by nature (every thread and task must emit), so it lives here, not in a
    ContextVar. Changes take the lock; readers take the `active` tuple, swapped whole, lock-free.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._named: dict[str, SpanListener] = {}
        self.active: tuple[SpanListener, ...] = ()

    def put(self, name: str, listener: SpanListener | None) -> None:
        """Install `listener` under `name`, replacing the one there; None removes it."""
        with self._lock:
            self._named.pop(name, None)
            if listener is not None:
                self._named[name] = listener
            self.active = tuple(self._named.values())

    def started(self, span: Span, parent: Span | None) -> None:
        """Tell every listener that `span` started."""
        for listener in self.active:
            try:
                listener.span_started(span, parent)
            except Exception:  # a listener never breaks the traced code
                continue

    def ended(self, span: Span) -> None:
        """Tell every listener that `span` ended."""
        for listener in self.active:
            try:
                listener.span_ended(span)
            except Exception:  # a listener never breaks the traced code
                continue


LISTENERS = SpanListeners()


@dataclass(slots=True)
class SpanError:
    """The exception a span ended with."""

    type: str
    message: str


@dataclass(slots=True, eq=False)
class Span:
    """One call or request: what went in, what came out, how long it took, what was in force.

    `kind` is `trace` (the root), `function` (a tracked or decorated call), `llm` (a model
    request) or `span` (a block you opened).
    """

    id: str
    parent_id: str | None
    name: str
    kind: str
    start_time: float
    end_time: float | None = None
    inputs: Any = None
    outputs: Any = None
    error: SpanError | None = None
    hyperparameters: dict[str, Any] | None = None
    attributes: dict[str, Any] = field(default_factory=dict)

    @property
    def duration(self) -> float | None:
        """Seconds from start to end, or None while running."""
        return None if self.end_time is None else self.end_time - self.start_time

    def finish(self, outputs: Any = None, error: BaseException | None = None) -> None:
        """End the span, with its outputs or the exception it ended with."""
        self.end_time = time.time()
        if outputs is not None:
            self.outputs = outputs
        if error is not None:
            self.error = SpanError(type(error).__name__, str(error))
        if LISTENERS.active:
            LISTENERS.ended(self)


class Trace:
    """The spans of one traced block, in the order they started; the first is the root."""

    def __init__(self, name: str = "trace", *, trace_id: str | None = None) -> None:
        self.id = trace_id or uuid.uuid4().hex
        self.name = name
        self.spans: list[Span] = []
        self._numbers = itertools.count(1)
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Trace({self.name!r}, {len(self.spans)} spans)"

    def new_span(self, name: str, kind: str, parent: Span | None, **fields: Any) -> Span:
        """Start a span under `parent` (None for a root)."""
        with self._lock:
            created = Span(
                f"{self.id[:8]}-{next(self._numbers)}",
                parent.id if parent else None,
                name,
                kind,
                time.time(),
                **fields,
            )
            self.spans.append(created)
        if LISTENERS.active:
            LISTENERS.started(created, parent or current_span())
        return created

    def adopt(self, other: Trace, parent: Span | None) -> None:
        """Take in the spans of a trace recorded in another process; its root's children go under `parent`.

        Example: `step_trace.adopt(Trace.from_dict(data), step_trace.root)`.
        """
        root = other.root
        with self._lock:
            for item in other.spans:
                if item is root:
                    continue
                if root is not None and item.parent_id == root.id:
                    item.parent_id = parent.id if parent else None
                self.spans.append(item)

    @property
    def root(self) -> Span | None:
        """The first span, if any."""
        return self.spans[0] if self.spans else None

    def children(self, parent: Span | None) -> list[Span]:
        """The spans directly under `parent` (the roots for None)."""
        parent_id = parent.id if parent else None
        return [candidate for candidate in self.spans if candidate.parent_id == parent_id]

    def summary(self) -> dict[str, Any]:
        """Counts, token usage and latency over the whole trace."""
        from ._exporters.json import summarize

        return summarize(self)

    def to_dict(self, *, max_chars: int = 20_000, redactor: Redactor | None = None) -> dict[str, Any]:
        """The trace as JSON-compatible data, secrets redacted and very long strings truncated.

        `redactor` (one that knows more secrets, e.g. an optimization run's) is used instead of a new one.
        """
        from ._exporters.json import trace_to_dict

        return trace_to_dict(self, max_chars=max_chars, redactor=redactor)

    def to_json(self, *, indent: int | None = None, max_chars: int = 20_000) -> str:
        """`to_dict()` as JSON text."""
        from ._exporters.json import trace_to_json

        return trace_to_json(self, indent=indent, max_chars=max_chars)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Trace:
        """A trace from `to_dict()` output."""
        from ._exporters.json import trace_from_dict

        return trace_from_dict(data)

    @classmethod
    def from_json(cls, text: str | bytes) -> Trace:
        """A trace from `to_json()` output."""
        import json

        return cls.from_dict(json.loads(text))


def tracing_active() -> bool:
    """Whether spans are recorded here: inside `trace()`, or anywhere while a live exporter listens."""
    return _ACTIVE.get() is not None or bool(LISTENERS.active)


def current_span() -> Span | None:
    """The innermost open span of the trace in force, if any."""
    active = _ACTIVE.get()
    return active[1] if active else None


def current_trace() -> Trace | None:
    """The trace being recorded in this context, if any."""
    active = _ACTIVE.get()
    return active[0] if active else None


@contextlib.contextmanager
def trace(name: str = "trace", *, attributes: dict[str, Any] | None = None) -> Iterator[Trace]:
    """Record a trace of the block; spans of tracked and decorated calls inside go into it.

    `attributes` go on the root span.

    Example:
        ```python
        with trace("experiment") as recorded:
            summarize(model, "...")
        print(recorded.summary())
        ```
    """
    recorded = Trace(name)
    root = recorded.new_span(name, "trace", None, attributes=attributes or {})
    token = _ACTIVE.set((recorded, root))
    try:
        yield recorded
    except BaseException as error:
        root.finish(error=error)
        raise
    else:
        root.finish()
    finally:
        _ACTIVE.reset(token)


def span(
    name: str,
    kind: str = "span",
    *,
    inputs: Any = None,
    hyperparameters: dict[str, Any] | None = None,
    attributes: dict[str, Any] | None = None,
) -> contextlib.AbstractContextManager[Span | None]:
    """Open a child span of the current one for the block; gives None when nothing is traced.

    Example:
        ```python
        with span("retrieve", inputs={"query": query}) as opened:
            documents = search(query)
            if opened:
                opened.outputs = documents
        ```
    """
    return _OpenSpan(name, kind, inputs, hyperparameters, attributes)


class _OpenSpan:
    """The context manager behind `span()` (a class: it sits on the hot path of traced calls)."""

    __slots__ = ("_fields", "_opened", "_token")

    def __init__(self, name: str, kind: str, inputs: Any, hyperparameters: Any, attributes: Any) -> None:
        self._fields = (name, kind, inputs, hyperparameters, attributes)
        self._opened: Span | None = None
        self._token: Any = None

    def __enter__(self) -> Span | None:
        name, kind, inputs, hyperparameters, attributes = self._fields
        active = _ACTIVE.get()
        if active is not None:
            recorded, parent = active
        elif LISTENERS.active:
            recorded, parent = Trace(name), None  # outside trace(): this span roots its own
        else:
            return None
        self._opened = recorded.new_span(
            name, kind, parent, inputs=inputs, hyperparameters=hyperparameters, attributes=attributes or {}
        )
        self._token = _ACTIVE.set((recorded, self._opened))
        return self._opened

    def __exit__(self, kind: Any, error: BaseException | None, traceback: Any) -> None:
        if self._opened is None:
            return
        _ACTIVE.reset(self._token)
        self._opened.finish(error=error)


def start_span(
    name: str,
    kind: str,
    *,
    parent: Span | None = None,
    inputs: Any = None,
    attributes: dict[str, Any] | None = None,
) -> Span | None:
    """Start a span that the caller finishes (for callbacks that see start and end apart).

    The parent is the given span, else the current one; returns None when nothing is traced.
    The span does not become current.
    """
    active = _ACTIVE.get()
    if active is not None:
        recorded, current = active
    elif LISTENERS.active:
        recorded, current = Trace(name), None  # outside trace(): this span roots its own
    else:
        return None
    try:
        return recorded.new_span(name, kind, parent or current, inputs=inputs, attributes=attributes or {})
    except Exception:  # a user input whose repr or copy raises: no span, the traced call goes on
        return None


def call_span(
    name: str,
    function: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    body_hyperparameters: dict[str, Any] | None = None,
) -> contextlib.AbstractContextManager[Span | None]:
    """A `function` span for a call: named arguments as inputs; `_` arguments and the body's
    `Hyperparameter()` values as hyperparameters."""
    try:
        bound = inspect.signature(function).bind_partial(*args, **kwargs).arguments
    except TypeError:
        bound = {**{f"arg{index}": value for index, value in enumerate(args)}, **kwargs}
    inputs = {
        key: value for key, value in bound.items() if not key.startswith("_") and key not in ("self", "cls")
    }
    hyperparameters = {key[1:]: value for key, value in bound.items() if key.startswith("_")}
    hyperparameters.update(body_hyperparameters or {})
    return span(name, "function", inputs=inputs, hyperparameters=hyperparameters or None)
