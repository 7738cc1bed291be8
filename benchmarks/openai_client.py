"""The real client path: `ChatOpenAI` over an in-process `httpx.MockTransport`, native and prompt mode.

- overhead: `add(model, 1, 2)` against a bare `ChatOpenAI.invoke` of the same request on the
  same transport (target <= 1.3x in both modes)
- request tokens of the five reference functions, the whole billed request: message texts plus
  the `response_format` JSON (o200k_base): the default (auto: native for object outputs) <= 640
  in all, prompt mode <= 577; forced native for every output is shown beside them
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from typing import Any

import httpx
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from report import Row, interleaved
from subjects import CUSTOMERS, Box, CustomerDatabase, add, relabel, write_essay

from llm_hyperparameters import Hyperparameters
from llm_strategy import llm_strategy

PROMPT_TARGET = 577
NATIVE_TARGET = 640


def _completion(content: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-bench",
        "object": "chat.completion",
        "created": 0,
        "model": "gpt-4o-mini",
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}
        ],
        "usage": {"prompt_tokens": 40, "completion_tokens": 5, "total_tokens": 45},
    }


def chat_openai(content: str, sent: list[dict[str, Any]] | None = None) -> Any:
    """A `ChatOpenAI` whose requests are answered in-process with `content`; bodies go to `sent`."""
    from langchain_openai import ChatOpenAI

    body = json.dumps(_completion(content)).encode()

    def handler(request: httpx.Request) -> httpx.Response:
        if sent is not None:
            sent.append(json.loads(request.content))
        return httpx.Response(200, content=body, headers={"content-type": "application/json"})

    return ChatOpenAI(
        model="gpt-4o-mini",
        api_key="sk-benchmark-not-a-key",
        base_url="http://127.0.0.1:9/v1",
        max_retries=0,
        http_client=httpx.Client(transport=httpx.MockTransport(handler)),
        http_async_client=httpx.AsyncClient(transport=httpx.MockTransport(handler)),
    )


def _as_messages(body: dict[str, Any]) -> list[BaseMessage]:
    kinds = {"system": SystemMessage, "user": HumanMessage}
    return [kinds[message["role"]](message["content"]) for message in body["messages"]]


def overhead_rows() -> list[Row]:
    return [_overhead(mode) for mode in ("native", "prompt")]


def _overhead(mode: str) -> Row:
    """`add` against a bare invoke of the request it sends, on the same in-process transport."""
    sent: list[dict[str, Any]] = []
    model = chat_openai('{"return_value": 3}', sent)
    settings = Hyperparameters({"llm_strategy.settings": {"output_mode": mode}})
    with settings:
        add(model, 1, 2)
    messages, extra = _as_messages(sent[0]), {}
    if "response_format" in sent[0]:
        extra["response_format"] = sent[0]["response_format"]

    def ours_call() -> None:
        with settings:
            add(model, 1, 2)

    ours, bare = interleaved(ours_call, lambda: model.invoke(messages, **extra), 100)
    ratio = ours / bare
    return Row(
        f"ChatOpenAI add(), {mode} mode",
        f"{ours * 1e6:.0f} us",
        f"{bare * 1e6:.0f} us (invoke)",
        ratio,
        "<= 1.3x",
        ratio <= 1.3,
    )


def _method_call(model: Any, member: str, instance: Any, *args: Any) -> Any:
    strategy = llm_strategy(model)(type(instance))
    bound = strategy.__new__(strategy)
    bound.__dict__.update(instance.__dict__)
    attribute = getattr(bound, member)
    return attribute(*args) if args else attribute


REFERENCE_CALLS: dict[str, Callable[[Any], Any]] = {
    "add": lambda m: add(m, 1, 2),
    "Box[T] -> Box[T]": lambda m: relabel(m, Box[int](item=1, label="one")),
    "essay": lambda m: write_essay(m, "The ethics of artificial intelligence"),
    "Customer.age": lambda m: _method_call(m, "age", CUSTOMERS[0]),
    "database search": lambda m: _method_call(
        m, "find_customer_key", CustomerDatabase(CUSTOMERS), "born in 1990"
    ),
}


def request_tokens(encoding: Any, mode: str) -> dict[str, int]:
    """Billed request tokens of each reference function's first request in one output mode."""
    counts = {}
    for name, call in REFERENCE_CALLS.items():
        sent: list[dict[str, Any]] = []
        model = chat_openai('{"return_value": null}', sent)
        with (
            Hyperparameters({"llm_strategy.settings": {"output_mode": mode}}),
            contextlib.suppress(Exception),
        ):
            call(model)
        body = sent[0]
        texts = [message["content"] for message in body["messages"]]
        if "response_format" in body:
            texts.append(json.dumps(body["response_format"], separators=(",", ":")))
        counts[name] = sum(len(encoding.encode(text)) for text in texts)
    return counts


def token_rows(encoding: Any) -> list[Row]:
    prompt = request_tokens(encoding, "prompt")
    default = request_tokens(encoding, "auto")
    native = request_tokens(encoding, "native")
    rows = [
        Row(f"request tokens: {name}", f"{default[name]} auto", f"{prompt[name]} prompt", ratio, "", True)
        for name in REFERENCE_CALLS
        if (ratio := default[name] / prompt[name])
    ]
    totals = {"auto (default)": default, "native forced": native, "prompt": prompt}
    for label, counts in totals.items():
        total = sum(counts.values())
        target = PROMPT_TARGET if label == "prompt" else NATIVE_TARGET
        rows.append(
            Row(
                f"request tokens: 5 functions, {label}",
                str(total),
                f"{PROMPT_TARGET} (prompt before)",
                total / PROMPT_TARGET,
                f"<= {target}",
                total <= target,
            )
        )
    return rows
