"""A real Arize Phoenix server on 127.0.0.1 receives our spans over OTLP/HTTP and shows LLM spans."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from llm_hyperparameters import export_otel, instrument, trace, uninstrument
from llm_strategy import llm_function
from llm_strategy.optimization import Budget, optimize_hyperparameters
from llm_strategy.testing import SyntheticChatModel

pytestmark = pytest.mark.integration
pytest.importorskip("phoenix")
PROJECT = "llm-strategy-tests"


@llm_function
def add(model, a: int, b: int) -> int:
    """Add two numbers."""
    raise NotImplementedError()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


@pytest.fixture(scope="module")
def phoenix(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Phoenix server with its own storage, no telemetry and no outside requests; its base URL."""
    directory = tmp_path_factory.mktemp("phoenix")
    port = free_port()
    environment = {
        **os.environ,
        "PHOENIX_WORKING_DIR": str(directory),
        "PHOENIX_HOST": "127.0.0.1",
        "PHOENIX_PORT": str(port),
        "PHOENIX_GRPC_PORT": str(free_port()),
        "PHOENIX_TELEMETRY_ENABLED": "false",
        "PHOENIX_ALLOW_EXTERNAL_RESOURCES": "false",
        "PHOENIX_DISABLE_AGENT_ASSISTANT": "true",
    }
    log = (directory / "server.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "phoenix.server.main", "serve"], env=environment, stdout=log, stderr=log
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=2).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    failure = (directory / "server.log").read_text()
                    raise RuntimeError(f"Phoenix did not start: {failure}") from None
                time.sleep(0.5)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def provider_for(base: str) -> tuple[Any, Any]:
    """A tracer provider sending to Phoenix over OTLP/HTTP, and a copy of what it sent, in memory."""
    from openinference.semconv.resource import ResourceAttributes
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    provider = TracerProvider(resource=Resource({ResourceAttributes.PROJECT_NAME: PROJECT}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{base}/v1/traces")))
    sent = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(sent))
    return provider, sent


def phoenix_spans(base: str, expected: int) -> list[dict[str, Any]]:
    """Every span of the project, read back from Phoenix's REST API once at least `expected` arrived."""
    deadline = time.monotonic() + 60
    while True:
        spans: list[dict[str, Any]] = []
        cursor = ""
        try:
            while True:
                page = get(f"{base}/v1/projects/{PROJECT}/spans?limit=1000{cursor}")
                spans += page["data"]
                if not page.get("next_cursor"):
                    break
                cursor = f"&cursor={page['next_cursor']}"
        except urllib.error.HTTPError as error:
            if error.code != 404:  # the project appears with its first span
                raise
        if len(spans) >= expected or time.monotonic() > deadline:
            return spans
        time.sleep(0.5)


def test_phoenix_shows_llm_spans_under_their_function_and_step_spans(phoenix, tmp_path):
    provider, sent = provider_for(phoenix)
    model = SyntheticChatModel(seed=5)
    with trace("traced run") as recorded:
        recorded_value = add(model, 1, 2)
    export_otel(recorded, provider, capture_content=True)

    instrument(provider)
    try:
        optimize_hyperparameters(
            add,
            [{"a": 1, "b": 2}],
            optimizer_model=model,
            task_model=model,
            evaluator=lambda run: (1.0, "fine"),
            budget=Budget(max_steps=1),
            run_directory=tmp_path / "run",
            wandb=False,
            progress=False,
        )
    finally:
        uninstrument()
    provider.force_flush()
    spans = phoenix_spans(phoenix, len(sent.get_finished_spans()))
    provider.shutdown()
    assert len(spans) == len(sent.get_finished_spans())
    by_id = {item["context"]["span_id"]: item for item in spans}

    def parent(item: dict[str, Any]) -> dict[str, Any]:
        return by_id.get(item.get("parent_id") or "", {})

    requests = [item for item in spans if item["span_kind"] == "LLM"]
    assert requests and all(item["name"] == "chat SyntheticChatModel" for item in requests)
    for item in requests:
        attributes = item["attributes"]
        assert attributes["llm.model_name"] == "SyntheticChatModel"
        assert attributes["gen_ai.request.model"] == "SyntheticChatModel"
        assert attributes["llm.token_count.prompt"] > 0 and attributes["llm.token_count.completion"] > 0
        assert attributes["gen_ai.usage.input_tokens"] == attributes["llm.token_count.prompt"]

    traced = next(item for item in requests if parent(parent(item))["name"] == "traced run")
    assert parent(traced)["name"] == "add" and parent(traced)["span_kind"] == "CHAIN"
    shown = traced["attributes"]  # exported with content: the messages Phoenix shows
    assert shown["llm.input_messages.0.message.role"] == "system"
    assert shown["llm.input_messages.1.message.content"] == '{"a":1,"b":2}'
    assert shown["llm.output_messages.0.message.role"] == "assistant"
    assert json.loads(shown["llm.output_messages.0.message.content"]) == {"return_value": recorded_value}

    task_run = next(item for item in spans if item["name"] == "task run 000-00")
    assert task_run["attributes"]["llm_strategy.optimization.task_run_id"] == "000-00"
    step = parent(task_run)
    assert step["name"] == "seed runs"
    assert step["attributes"]["llm_strategy.optimization.optimizer"] == "meta"
    assert step["attributes"]["llm_strategy.optimization.run_id"] == "run"
    task_requests = [item for item in requests if parent(parent(item)) is task_run]
    assert task_requests and parent(task_requests[0])["name"] == "add"
    scored = next(item for item in spans if item["name"] == "evaluate 000-00")
    assert scored["attributes"]["llm_strategy.optimization.score"] == 1.0
    assert any(item["name"] == "step 1" for item in spans)
