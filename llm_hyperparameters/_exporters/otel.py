"""Traces as OpenTelemetry spans: GenAI semantic conventions v1.37.0, OpenInference alongside.

`export_otel(trace)` sends a finished trace; `instrument()` sends every span live as it ends,
inside or outside `trace()`, from a worker thread (`flush()` waits for it). LLM requests become
`CLIENT` spans named `"{operation} {model}"` with `gen_ai.*` attributes; every other span is
`INTERNAL`. OpenInference attributes (span kind, model name, token counts, messages) let Arize
Phoenix show them as LLM spans. Message content and inputs/outputs are exported only when
content capture is on (off by default; an argument, else
`OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`). Everything exported goes through the
`Redactor`. The attribute mapping is `_genai`; `opentelemetry` and `openinference` are imported
only by these two modules.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import queue
import threading
import time
import warnings
from typing import TYPE_CHECKING, Any, NamedTuple

from opentelemetry import context as otel_context
from opentelemetry import trace as otel
from opentelemetry.trace import SpanKind, Status, StatusCode

from .._redaction import Redactor
from .._tracing import LISTENERS, Span, Trace
from ._genai import SEMCONV_VERSION, attributes_of, learnable, span_name

if TYPE_CHECKING:
    from opentelemetry.context import Context

__all__ = [
    "CAPTURE_CONTENT_ENV",
    "MAX_PENDING",
    "SEMCONV_VERSION",
    "export_otel",
    "flush",
    "instrument",
    "uninstrument",
]

CAPTURE_CONTENT_ENV = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
_SCHEMA_URL = f"https://opentelemetry.io/schemas/{SEMCONV_VERSION}"
_LISTENER_NAME = "opentelemetry"
MAX_PENDING = 10_000
"""How many spans may wait for the worker thread before new ones are dropped (with a warning)."""
_EXIT_TIMEOUT = 30.0  # seconds the interpreter waits at exit for spans still waiting to be sent
_ON = {"true", "1", "yes", "on", "span_only", "span_and_event"}


def export_otel(trace: Trace, tracer_provider: Any = None, *, capture_content: bool | None = None) -> None:
    """Send a finished trace as OpenTelemetry spans: parents kept, real start and end times.

    Without `tracer_provider` the global one is used. `capture_content` None reads
    `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`.

    Example:
        ```python
        with trace("essays") as recorded:
            write_essay(model, "bees")
        export_otel(recorded, provider)      # provider: an opentelemetry-sdk TracerProvider
        ```
    """
    tracer = _tracer(tracer_provider)
    capture = _capture(capture_content)
    spans = list(trace.spans)
    redactor = Redactor()
    redactor.learn([learnable(item) for item in spans])
    opened: dict[str, Any] = {}
    for item in spans:
        parent = opened.get(item.parent_id) if item.parent_id else None
        opened[item.id] = _start(tracer, item, parent, None, redactor)
    for item in reversed(spans):
        _end(opened[item.id], item, capture, redactor)


def instrument(
    tracer_provider: Any = None, capture_content: bool | None = None, *, max_pending: int = MAX_PENDING
) -> None:
    """Send every span as an OpenTelemetry span as it ends, inside `trace()` or not.

    Process-wide, for every thread and task, until `uninstrument()`; calling it again replaces
    the previous settings. A trace root opened inside another span becomes its child; a root
    outside any of ours joins the current OpenTelemetry span, if there is one.

    The traced code only hands each span to a worker thread, which converts and sends it:
    `flush()` waits for it; `uninstrument()` and the end of the program send what is pending.
    When more than `max_pending` spans wait (a backend slower than the traced code), new spans
    are dropped, never waited for, and a `RuntimeWarning` counts them.

    Example:
        ```python
        instrument(provider)                 # every decorated call and LLM request, live
        optimize_hyperparameters(...)
        uninstrument()                       # sends what is pending, then stops
        ```
    """
    exporter = _LiveExporter(_tracer(tracer_provider), _capture(capture_content), max_pending)
    previous = _live()
    LISTENERS.put(_LISTENER_NAME, exporter)
    if previous is not None:
        previous.close()


def uninstrument() -> None:
    """Stop what `instrument()` started, once every span ended so far is sent; spans open now are not."""
    previous = _live()
    LISTENERS.put(_LISTENER_NAME, None)
    if previous is not None:
        previous.close()


def flush(timeout: float | None = None) -> bool:
    """Wait until every span ended so far is handed to the tracer provider; False on timeout.

    Live spans are sent from a worker thread, so read an exporter after this. A provider that
    batches (`BatchSpanProcessor`) sends them on its own schedule, or at its `force_flush()`.

    Example:
        ```python
        add(model, 1, 2)
        flush()
        spans = in_memory_exporter.get_finished_spans()
        ```
    """
    live = _live()
    return True if live is None else live.flush(timeout)


def _live() -> _LiveExporter | None:
    return next((item for item in LISTENERS.active if isinstance(item, _LiveExporter)), None)


class _Event(NamedTuple):
    """A span that started (with the span it runs under) or ended, and the caller's OTel context."""

    span: Span
    started: bool
    parent: Span | None
    context: Context


class _LiveExporter:
    """A span listener that queues what it sees for its worker thread, which sends it.

    The worker opens an OpenTelemetry span when ours started and ends it when ours ended, at
    our recorded times, in the order they happened. Redaction is live too: the secret values a
    span carries under secret-looking names are learned when it starts (so its children are
    scrubbed) and when it ends, and scrubbed from everything sent after (a finished trace given
    to `export_otel` is scrubbed as a whole). A span dropped at its start is dropped at its end.
    """

    def __init__(self, tracer: Any, capture: bool, max_pending: int) -> None:
        self._tracer, self._capture, self._max_pending = tracer, capture, max_pending
        self._queue: queue.SimpleQueue[_Event | threading.Event | None] = queue.SimpleQueue()
        self._dropped: set[Span] = set()  # spans whose start was dropped, until they end
        self._drops_lock = threading.Lock()
        self._drops = self._reported = 0
        self._redactor = Redactor()  # the worker's alone, like `_open`
        self._open: dict[Span, Any] = {}
        self._worker = threading.Thread(target=self._run, name="llm_hyperparameters-otel", daemon=True)
        self._worker.start()
        atexit.register(self._close_at_exit)

    def span_started(self, span: Span, parent: Span | None) -> None:
        if self._queue.qsize() >= self._max_pending:
            self._dropped.add(span)
            with self._drops_lock:
                self._drops += 1
            return
        self._queue.put(_Event(span, True, parent, otel_context.get_current()))

    def span_ended(self, span: Span) -> None:
        if self._dropped and span in self._dropped:
            self._dropped.discard(span)
            return
        self._queue.put(_Event(span, False, None, otel_context.get_current()))

    def flush(self, timeout: float | None) -> bool:
        """Wait until the worker has handled everything queued before now."""
        done = threading.Event()
        self._queue.put(done)
        return done.wait(timeout)

    def close(self, timeout: float | None = None) -> None:
        """Send what is queued, then stop the worker."""
        atexit.unregister(self._close_at_exit)
        self._queue.put(None)
        self._worker.join(timeout)

    def _close_at_exit(self) -> None:
        self.close(_EXIT_TIMEOUT)

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            if isinstance(item, threading.Event):
                self._report_drops()
                item.set()
                continue
            with contextlib.suppress(Exception):  # a failing tracer or exporter loses a span, not the worker
                self._send(item)
            if self._queue.empty():
                self._report_drops()
        self._report_drops()

    def _send(self, event: _Event) -> None:
        span = event.span
        if event.started:
            outer = self._open.get(event.parent) if event.parent else None
            self._redactor.learn(learnable(span))
            self._open[span] = _start(self._tracer, span, outer, event.context, self._redactor)
            return
        opened = self._open.pop(span, None)
        self._redactor.learn(learnable(span, ended=True) if opened else learnable(span))
        opened = opened or _start(self._tracer, span, None, event.context, self._redactor)
        _end(opened, span, self._capture, self._redactor)

    def _report_drops(self) -> None:
        with self._drops_lock:
            new, self._reported = self._drops - self._reported, self._drops
        if new:
            warnings.warn(
                f"OpenTelemetry: {new} spans dropped, more than {self._max_pending} were waiting "
                "to be sent (the tracer provider is slower than the traced code)",
                RuntimeWarning,
                stacklevel=1,
            )


def _tracer(tracer_provider: Any) -> Any:
    return otel.get_tracer("llm_hyperparameters", tracer_provider=tracer_provider, schema_url=_SCHEMA_URL)


def _capture(capture_content: bool | None) -> bool:
    if capture_content is not None:
        return capture_content
    return os.environ.get(CAPTURE_CONTENT_ENV, "").strip().lower() in _ON


def _start(tracer: Any, span: Span, parent: Any, context: Context | None, redactor: Redactor) -> Any:
    """Open the OpenTelemetry span at our start time, under `parent`, else in `context` (None: current)."""
    context = otel.set_span_in_context(parent) if parent is not None else context
    kind = SpanKind.CLIENT if span.kind == "llm" else SpanKind.INTERNAL
    start = _nanoseconds(span.start_time)
    return tracer.start_span(redactor.text(span_name(span)), context=context, kind=kind, start_time=start)


def _end(opened: Any, span: Span, capture: bool, redactor: Redactor) -> None:
    """Put the attributes and status on an opened span (unless it records nothing) and end it."""
    if opened.is_recording():
        opened.set_attributes(attributes_of(span, capture, redactor))
        if span.error is not None:
            message = redactor.text(f"{span.error.type}: {span.error.message}")
            opened.set_status(Status(StatusCode.ERROR, message))
    opened.end(end_time=_nanoseconds(span.end_time or time.time()))


def _nanoseconds(seconds: float) -> int:
    return int(seconds * 1_000_000_000)
