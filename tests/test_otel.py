"""OpenTelemetry export: GenAI attributes, OpenInference for Phoenix, parents, content capture, live spans."""

import json
import subprocess
import sys
import threading
import time
from typing import Any, ClassVar

import pytest
from langchain_core.language_models import BaseChatModel
from opentelemetry import trace as otel
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from llm_hyperparameters import (
    Hyperparameters,
    Trace,
    export_otel,
    flush,
    instrument,
    span,
    trace,
    tracing_active,
    track_hyperparameters,
    uninstrument,
)
from llm_strategy import llm_function
from llm_strategy.errors import ProviderError
from llm_strategy.optimization import Budget, blackbox, optimize_hyperparameters
from llm_strategy.testing import ScriptedChatModel, SyntheticChatModel

CANARY = "canary-5d1e9b7a3c"
CAPTURE_CONTENT_ENV = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
CONTENT_KEYS = (
    "gen_ai.input.messages",
    "gen_ai.output.messages",
    "gen_ai.system_instructions",
    "llm.input_messages.0.message.content",
    "llm.output_messages.0.message.content",
    "input.value",
    "output.value",
    "llm_strategy.output_schema",
)


@llm_function
def add(model, a: int, b: int) -> int:
    """Add two numbers."""
    raise NotImplementedError()


@llm_function
def greet(model, name: str, api_key: str) -> str:
    """Greet the person by name."""
    raise NotImplementedError()


@track_hyperparameters
def offset(x: int, *, _by: int = 1) -> int:
    """Shift x."""
    return x + _by


@track_hyperparameters
def broken(x: int, *, _mode: str = "strict") -> int:
    """Always fails."""
    raise ValueError(f"bad input {x}")


class FailingChatModel(BaseChatModel):
    """A chat model whose provider is down (in-process, so tests may call it)."""

    offline: ClassVar[bool] = True

    @property
    def _llm_type(self) -> str:
        return "failing"

    def _generate(self, messages: Any, stop: Any = None, run_manager: Any = None, **kwargs: Any) -> Any:
        raise ConnectionError("provider unreachable")


@pytest.fixture
def exported():
    """A tracer provider writing into memory, and its exporter."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield provider, exporter
    uninstrument()
    provider.shutdown()


@pytest.fixture(autouse=True)
def no_capture_from_the_environment(monkeypatch):
    monkeypatch.delenv(CAPTURE_CONTENT_ENV, raising=False)


def by_name(spans: tuple[ReadableSpan, ...]) -> dict[str, ReadableSpan]:
    return {item.name: item for item in spans}


def parent_of(item: ReadableSpan) -> int | None:
    return item.parent.span_id if item.parent else None


def test_a_trace_becomes_genai_and_openinference_spans_with_parents_and_times(exported):
    provider, exporter = exported
    model = SyntheticChatModel()
    with trace("sums") as recorded:
        assert isinstance(add(model, 1, 2), int)
    export_otel(recorded, provider)
    spans = by_name(exporter.get_finished_spans())
    assert sorted(spans) == ["add", "chat SyntheticChatModel", "sums"]
    root, function, request = spans["sums"], spans["add"], spans["chat SyntheticChatModel"]
    assert parent_of(root) is None
    assert parent_of(function) == root.context.span_id and parent_of(request) == function.context.span_id
    assert {root.context.trace_id, function.context.trace_id} == {request.context.trace_id}
    ours = {item.name: item for item in recorded.spans}
    recorded_request = next(item for item in recorded.spans if item.kind == "llm")
    assert root.start_time == int(ours["sums"].start_time * 1e9)
    assert request.end_time == int(recorded_request.end_time * 1e9)
    assert (root.kind, function.kind, request.kind) == (SpanKind.INTERNAL, SpanKind.INTERNAL, SpanKind.CLIENT)
    usage = recorded_request.attributes["usage"]
    assert dict(request.attributes) == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "synthetic",
        "gen_ai.request.model": "SyntheticChatModel",
        "gen_ai.response.model": "SyntheticChatModel",
        "gen_ai.request.seed": 0,
        "gen_ai.response.finish_reasons": ("stop",),
        "gen_ai.usage.input_tokens": usage["input_tokens"],
        "gen_ai.usage.output_tokens": usage["output_tokens"],
        "openinference.span.kind": "LLM",
        "llm.model_name": "SyntheticChatModel",
        "llm.invocation_parameters": '{"seed": 0}',
        "llm.token_count.prompt": usage["input_tokens"],
        "llm.token_count.completion": usage["output_tokens"],
        "llm.token_count.total": usage["total_tokens"],
        "llm_strategy.span.kind": "llm",
        "llm_strategy.attempt": 1,
        "llm_strategy.output_mode": "prompt",
    }
    assert usage["input_tokens"] > 0 and usage["output_tokens"] > 0
    assert dict(function.attributes) == {
        "code.function.name": "add",
        "openinference.span.kind": "CHAIN",
        "llm_strategy.span.kind": "function",
        "llm_strategy.attempts": 1,
    }
    assert root.status.status_code == StatusCode.UNSET
    assert root.instrumentation_scope.schema_url == "https://opentelemetry.io/schemas/1.37.0"


def test_request_parameters_finish_reasons_and_output_type_of_a_recorded_request(exported):
    provider, exporter = exported
    recorded = Trace("request")
    request = recorded.new_span(
        "ChatOpenAI",
        "llm",
        None,
        inputs={"messages": [{"role": "human", "content": "hi"}]},
        attributes={
            "model": "gpt-4o-mini",
            "provider": "openai-chat",
            "operation": "chat",
            "params": {"temperature": 0.2, "max_tokens": 64, "seed": 7, "top_p": 0.9, "stop": "END"},
            "usage": {"input_tokens": 11, "output_tokens": 5, "total_tokens": 16},
            "finish_reason": "length",
            "output_schema": {"type": "object", "properties": {"x": {"type": "integer"}}},
        },
    )
    request.finish(outputs={"reply": '{"x": 1'})
    export_otel(recorded, provider)
    (exported_request,) = exporter.get_finished_spans()
    attributes = exported_request.attributes
    assert exported_request.name == "chat gpt-4o-mini"
    assert (attributes["gen_ai.provider.name"], attributes["llm.provider"]) == ("openai", "openai")
    assert attributes["gen_ai.request.temperature"] == 0.2 and attributes["gen_ai.request.max_tokens"] == 64
    assert attributes["gen_ai.request.seed"] == 7 and attributes["gen_ai.request.top_p"] == 0.9
    assert attributes["gen_ai.request.stop_sequences"] == ("END",)
    assert attributes["gen_ai.response.finish_reasons"] == ("length",)
    assert attributes["gen_ai.output.type"] == "json"
    assert (attributes["gen_ai.usage.input_tokens"], attributes["gen_ai.usage.output_tokens"]) == (11, 5)
    assert not set(CONTENT_KEYS) & set(attributes)


def test_content_is_captured_only_when_switched_on(exported, monkeypatch):
    provider, exporter = exported
    recorded = Trace("request")
    request = recorded.new_span(
        "ChatOpenAI",
        "llm",
        None,
        inputs={"messages": [{"role": "system", "content": "Be brief."}, {"role": "human", "content": "hi"}]},
        attributes={"model": "gpt-4o-mini", "finish_reason": "stop", "output_schema": {"type": "string"}},
    )
    request.finish(outputs={"reply": "hello"})

    export_otel(recorded, provider)
    monkeypatch.setenv(CAPTURE_CONTENT_ENV, "true")
    export_otel(recorded, provider, capture_content=False)
    assert all(not set(CONTENT_KEYS) & set(item.attributes) for item in exporter.get_finished_spans())
    exporter.clear()

    export_otel(recorded, provider)  # the environment variable switches it on
    (captured,) = exporter.get_finished_spans()
    attributes = captured.attributes
    assert json.loads(attributes["gen_ai.system_instructions"]) == [{"type": "text", "content": "Be brief."}]
    assert json.loads(attributes["gen_ai.input.messages"]) == [
        {"role": "user", "parts": [{"type": "text", "content": "hi"}]}
    ]
    assert json.loads(attributes["gen_ai.output.messages"]) == [
        {"role": "assistant", "parts": [{"type": "text", "content": "hello"}], "finish_reason": "stop"}
    ]
    assert json.loads(attributes["llm_strategy.output_schema"]) == {"type": "string"}
    assert [attributes[f"llm.input_messages.{index}.message.role"] for index in (0, 1)] == ["system", "user"]
    assert attributes["llm.input_messages.1.message.content"] == "hi"
    assert attributes["llm.output_messages.0.message.content"] == "hello"
    assert attributes["output.value"] == "hello" and attributes["output.mime_type"] == "text/plain"
    assert json.loads(attributes["input.value"]) == {
        "messages": [{"role": "system", "content": "Be brief."}, {"role": "human", "content": "hi"}]
    }


def test_function_inputs_and_outputs_are_content(exported):
    provider, exporter = exported
    with trace("shift") as recorded:
        offset(3)
    export_otel(recorded, provider, capture_content=True)
    function = by_name(exporter.get_finished_spans())["tests.test_otel.offset"]
    assert function.attributes["input.value"] == '{"x": 3}'
    assert function.attributes["input.mime_type"] == "application/json"
    assert function.attributes["output.value"] == "4"
    assert function.attributes["code.function.name"] == "tests.test_otel.offset"


def test_a_canary_secret_never_leaves(exported, monkeypatch):
    provider, exporter = exported
    monkeypatch.setenv("SERVICE_API_KEY", "env-secret-8c2f6a1d")
    model = ScriptedChatModel(replies=[f'"Hello, {CANARY} and env-secret-8c2f6a1d"'])
    with trace("greeting") as recorded:
        greet(model, "Ada", CANARY)
    export_otel(recorded, provider, capture_content=True)
    instrument(provider, capture_content=True)
    greet(ScriptedChatModel(replies=[f'"Hello, {CANARY}"']), "Ada", CANARY)
    uninstrument()
    text = json.dumps([dict(item.attributes) for item in exporter.get_finished_spans()])
    assert len(exporter.get_finished_spans()) == 3 + 2
    assert CANARY not in text and "env-secret-8c2f6a1d" not in text
    assert "[REDACTED]" in text and "Ada" in text


def test_errors_become_error_status_and_error_type(exported):
    provider, exporter = exported
    with pytest.raises(ValueError), trace("failing") as recorded:
        broken(1)
    with pytest.raises(ProviderError), trace("down") as down:
        add(FailingChatModel(), 1, 2)
    export_otel(recorded, provider)
    export_otel(down, provider)
    spans = by_name(exporter.get_finished_spans())
    function = spans["tests.test_otel.broken"]
    assert function.status.status_code == StatusCode.ERROR
    assert function.status.description == "ValueError: bad input 1"
    assert function.attributes["error.type"] == "ValueError"
    request = spans["chat FailingChatModel"]
    assert request.status.status_code == StatusCode.ERROR
    assert request.attributes["error.type"] == "ProviderError"
    assert "provider unreachable" in request.status.description
    assert spans["add"].attributes["error.type"] == "ProviderError"


def test_only_hyperparameters_that_differ_from_defaults_are_exported(exported):
    provider, exporter = exported
    scope = Hyperparameters()
    scope[offset].by = 10
    changed = Hyperparameters()
    changed[add].docstring = "Add two numbers carefully."
    with trace("defaults") as plain:
        offset(1)
    with trace("changed") as tuned, scope, changed:
        offset(1)
        add(SyntheticChatModel(), 1, 2)
    export_otel(plain, provider)
    (_, untouched) = exporter.get_finished_spans()
    assert "llm_strategy.hyperparameters" not in untouched.attributes
    exporter.clear()
    export_otel(tuned, provider)
    spans = by_name(exporter.get_finished_spans())
    shifted = spans["tests.test_otel.offset"]
    assert json.loads(shifted.attributes["llm_strategy.hyperparameters"]) == {"by": 10}
    assert json.loads(spans["add"].attributes["llm_strategy.hyperparameters"]) == {
        add.hyperparameters.name: {"docstring": "Add two numbers carefully."}
    }


def test_instrumented_spans_are_sent_as_they_end_inside_a_trace_and_outside(exported):
    provider, exporter = exported
    model = SyntheticChatModel()
    assert not tracing_active()
    instrument(provider)
    assert tracing_active()
    with trace("live"):
        add(model, 1, 2)
        assert flush(timeout=10)
        assert [item.name for item in exporter.get_finished_spans()] == ["chat SyntheticChatModel", "add"]
    flush()
    assert exporter.get_finished_spans()[-1].name == "live"
    exporter.clear()

    add(model, 1, 2)  # outside any trace(): the call roots its own
    with span("block"):
        offset(1)
    flush()
    spans = by_name(exporter.get_finished_spans())
    assert sorted(spans) == ["add", "block", "chat SyntheticChatModel", "tests.test_otel.offset"]
    assert parent_of(spans["add"]) is None and parent_of(spans["block"]) is None
    assert parent_of(spans["chat SyntheticChatModel"]) == spans["add"].context.span_id
    assert parent_of(spans["tests.test_otel.offset"]) == spans["block"].context.span_id
    assert spans["add"].context.trace_id != spans["block"].context.trace_id

    uninstrument()
    exporter.clear()
    assert not tracing_active()
    add(model, 1, 2)
    assert exporter.get_finished_spans() == ()


def test_a_trace_opened_inside_a_span_is_its_child_when_live(exported):
    provider, exporter = exported
    instrument(provider)
    with trace("outer"), span("stage"), trace("inner"):
        offset(1)
    flush()
    spans = by_name(exporter.get_finished_spans())
    assert parent_of(spans["inner"]) == spans["stage"].context.span_id
    assert parent_of(spans["tests.test_otel.offset"]) == spans["inner"].context.span_id


def test_a_failing_exporter_never_breaks_the_traced_code():
    class BrokenTracer(otel.Tracer):
        def start_span(self, *args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("tracer down")

        def start_as_current_span(self, *args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("tracer down")

    class BrokenProvider(otel.TracerProvider):
        def get_tracer(self, *args: Any, **kwargs: Any) -> otel.Tracer:
            return BrokenTracer()

    instrument(BrokenProvider())
    try:
        with trace("still works") as recorded:
            assert offset(1) == 2
    finally:
        uninstrument()
    assert [item.name for item in recorded.spans] == ["still works", "tests.test_otel.offset"]


def test_a_root_outside_our_spans_joins_the_callers_current_opentelemetry_span(exported):
    provider, exporter = exported
    instrument(provider)
    with provider.get_tracer("caller").start_as_current_span("request handler") as handler:
        offset(1)
    assert flush(timeout=10)
    spans = by_name(exporter.get_finished_spans())
    assert parent_of(spans["tests.test_otel.offset"]) == handler.get_span_context().span_id
    assert spans["tests.test_otel.offset"].context.trace_id == handler.get_span_context().trace_id


def test_the_worker_survives_a_failing_span_processor(exported):
    provider, exporter = exported

    class FailingProcessor(SpanProcessor):
        def on_end(self, span: ReadableSpan) -> None:
            raise RuntimeError("backend down")

    provider.add_span_processor(FailingProcessor())  # after the in-memory one: it still sees each span
    instrument(provider)
    offset(1)
    offset(2)
    assert flush(timeout=10)
    assert [item.name for item in exporter.get_finished_spans()] == ["tests.test_otel.offset"] * 2


def test_a_slow_backend_never_blocks_the_traced_code_and_drops_are_counted(exported):
    provider, exporter = exported
    entered, release = threading.Event(), threading.Event()

    class SlowExporter(InMemorySpanExporter):
        def export(self, spans: Any) -> SpanExportResult:
            entered.set()
            release.wait(10)
            return super().export(spans)

    slow = SlowExporter()
    provider.add_span_processor(SimpleSpanProcessor(slow))
    instrument(provider, max_pending=4)
    with span("first"):
        pass
    assert entered.wait(10)  # the worker is stuck sending "first"
    started = time.monotonic()
    for index in range(10):
        with span(f"span {index}"):
            pass
    assert time.monotonic() - started < 5
    with pytest.warns(RuntimeWarning, match="^OpenTelemetry: 8 spans dropped, more than 4 were waiting"):
        release.set()
        assert flush(timeout=10)
    assert [item.name for item in slow.get_finished_spans()] == ["first", "span 0", "span 1"]
    assert [item.name for item in exporter.get_finished_spans()] == ["first", "span 0", "span 1"]


EXIT_SCRIPT = """
import atexit, sys, time
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

hooks = []  # the exit hooks registered from here on, as atexit keeps no count of removals
register, unregister = atexit.register, atexit.unregister

def registering(hook):
    hooks.append(hook)
    return register(hook)

def unregistering(hook):
    hooks[:] = [item for item in hooks if item != hook]
    unregister(hook)

atexit.register, atexit.unregister = registering, unregistering

from llm_hyperparameters import instrument, span, uninstrument

class SlowFileExporter(SpanExporter):
    def export(self, spans):
        time.sleep(0.002)
        with open(sys.argv[1], "a") as file:
            file.writelines(item.name + "\\n" for item in spans)
        return SpanExportResult.SUCCESS

provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(SlowFileExporter()))
print(len(hooks))
instrument(provider)
instrument(provider)
print(len(hooks))
uninstrument()
print(len(hooks))
instrument(provider)
for index in range(100):
    with span(f"span {index}"):
        pass
"""


def test_pending_spans_are_sent_at_exit_and_the_hook_exists_only_while_instrumented(tmp_path):
    written = tmp_path / "spans.txt"
    ran = subprocess.run(
        [sys.executable, "-c", EXIT_SCRIPT, str(written)], capture_output=True, text=True, timeout=120
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.split() == ["1", "2", "1"]  # the provider's own, then ours while instrumented
    assert written.read_text().splitlines() == [f"span {index}" for index in range(100)]


def test_optimization_spans_carry_run_step_task_run_and_score(exported, tmp_path):
    provider, exporter = exported
    instrument(provider)
    proposer = ScriptedChatModel(
        replies=['{"return_value": [{"reasoning": "longer", "solution": "abcd"}]}'] * 3
    )
    blackbox.run(
        "Grow",
        "Make it longer.",
        lambda x: (len(x), f"{len(x)} characters"),
        "ab",
        max_steps=1,
        candidates_per_step=1,
        model=proposer,
        run_directory=tmp_path / "run",
        wandb=False,
        progress=False,
    )
    flush()
    spans = by_name(exporter.get_finished_spans())
    step = spans["step 1"].attributes
    assert step["llm_strategy.optimization.run_id"] == "run"
    assert step["llm_strategy.optimization.optimizer"] == "blackbox"
    assert step["llm_strategy.optimization.step"] == 1
    assert spans["start"].attributes["llm_strategy.optimization.step"] == 0
    scored = spans["evaluate 001-00"]
    assert scored.attributes["llm_strategy.optimization.task_run_id"] == "001-00"
    assert scored.attributes["llm_strategy.optimization.score"] == 4
    assert parent_of(scored) == spans["step 1"].context.span_id


def test_meta_optimizer_task_runs_and_scores(exported, tmp_path):
    provider, exporter = exported
    instrument(provider)
    model = SyntheticChatModel(seed=3)
    optimize_hyperparameters(
        add,
        [{"a": 1, "b": 2}],
        optimizer_model=model,
        task_model=model,
        evaluator=lambda run: (1.0, "fine"),
        budget=Budget(max_steps=1),
        run_directory=tmp_path / "meta",
        wandb=False,
        progress=False,
    )
    flush()
    spans = by_name(exporter.get_finished_spans())
    seed = spans["seed runs"]
    assert seed.attributes["llm_strategy.optimization.optimizer"] == "meta"
    task_run = spans["task run 000-00"]
    assert parent_of(task_run) == seed.context.span_id
    assert task_run.attributes["llm_strategy.optimization.task_run_id"] == "000-00"
    assert spans["evaluate 000-00"].attributes["llm_strategy.optimization.score"] == 1.0
    calls = [item for item in exporter.get_finished_spans() if item.name == "add"]
    assert any(parent_of(item) == task_run.context.span_id for item in calls)


def test_without_a_configured_provider_nothing_is_recorded_and_nothing_breaks():
    with trace("unconfigured") as recorded:
        offset(1)
    export_otel(recorded)  # the global provider: OpenTelemetry's no-op default here
    instrument()
    try:
        assert offset(1) == 2
    finally:
        uninstrument()


def test_the_convention_names_sent_are_those_of_semconv_1_37(exported):
    provider, exporter = exported
    recorded = Trace("everything")
    request = recorded.new_span(
        "ChatOpenAI",
        "llm",
        None,
        inputs={"messages": [{"role": "system", "content": "Be brief."}, {"role": "human", "content": "hi"}]},
        attributes={
            "model": "gpt-4o-mini",
            "provider": "openai",
            "params": {"temperature": 0.2, "max_tokens": 64, "seed": 7, "top_p": 0.9, "stop": ["END"]},
            "usage": {"input_tokens": 11, "output_tokens": 5, "total_tokens": 16},
            "finish_reason": "stop",
            "output_schema": {"type": "string"},
        },
    )
    request.finish(outputs={"reply": "hello"}, error=ValueError("late"))
    with trace("call") as call:
        offset(1)
    export_otel(recorded, provider, capture_content=True)
    export_otel(call, provider, capture_content=True)
    sent = {key for item in exporter.get_finished_spans() for key in item.attributes}
    assert {key for key in sent if key.startswith(("gen_ai.", "code.", "error."))} == {
        "gen_ai.operation.name",
        "gen_ai.provider.name",
        "gen_ai.request.model",
        "gen_ai.response.model",
        "gen_ai.request.temperature",
        "gen_ai.request.max_tokens",
        "gen_ai.request.seed",
        "gen_ai.request.top_p",
        "gen_ai.request.stop_sequences",
        "gen_ai.response.finish_reasons",
        "gen_ai.usage.input_tokens",
        "gen_ai.usage.output_tokens",
        "gen_ai.output.type",
        "gen_ai.system_instructions",
        "gen_ai.input.messages",
        "gen_ai.output.messages",
        "error.type",
        "code.function.name",
    }
