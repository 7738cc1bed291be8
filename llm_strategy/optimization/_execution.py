"""Running tasks: each run in its own hyperparameter scope and trace span, many at once, never raising."""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import math
import traceback
import typing
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, TypeAdapter, create_model

from llm_hyperparameters import DefinitionError, Hyperparameters, Span, Trace, current_trace, span

__all__ = ["Task", "TaskOutcome", "chat_chains", "evaluate", "run_concurrently", "run_task"]

T = TypeVar("T")
_MAX_MESSAGE_CHARS = 1_500


@dataclass(frozen=True)
class Task:
    """A callable to optimize: `task(model, **parameters)` or `task(model, parameters)`."""

    function: Callable[..., Any]
    parameters_type: type[BaseModel]
    result_type: Any
    takes_object: bool

    @classmethod
    def of(cls, function: Callable[..., Any], seed: Sequence[Any]) -> Task:
        """Check the task and its seed parameters; the parameters' model comes from them or the signature."""
        if not callable(function):
            raise DefinitionError(f"the task must be callable, got {function!r:.80}")
        if not seed:
            raise ValueError(
                "seed_parameters is empty: give at least one set of task parameters to start from"
            )
        signature = inspect.signature(function)
        names = [name for name in signature.parameters if not name.startswith("_")][1:]
        try:
            hints = typing.get_type_hints(inspect.unwrap(function))
        except Exception:
            hints = {}
        first = seed[0]
        if isinstance(first, BaseModel):
            parameters_type: type[BaseModel] = type(first)
            takes_object = len(names) == 1 and hints.get(names[0]) is parameters_type
        else:
            fields: dict[str, Any] = {
                name: (
                    hints.get(name, Any),
                    ... if parameter.default is parameter.empty else parameter.default,
                )
                for name, parameter in signature.parameters.items()
                if name in names
            }
            parameters_type = create_model(f"{getattr(function, '__name__', 'task')}_parameters", **fields)
            takes_object = False
        for item in seed:
            parameters_type.model_validate(item)
        return cls(function, parameters_type, _describable(hints.get("return", Any)), takes_object)

    def call(self, model: Any, parameters: BaseModel) -> Any:
        """Run the task once; a coroutine function gets its own event loop."""
        if self.takes_object:
            result = self.function(model, parameters)
        else:
            result = self.function(
                model, **{name: getattr(parameters, name) for name in type(parameters).model_fields}
            )
        if inspect.isawaitable(result):
            return asyncio.run(_awaited(result))
        return result


def _describable(annotation: Any) -> Any:
    """The task's result type for the optimizer's schemas; Any when pydantic cannot describe it."""
    try:
        TypeAdapter(annotation).json_schema()
    except Exception:
        return Any
    return annotation


async def _awaited(awaitable: Any) -> Any:
    return await awaitable


@dataclass
class TaskOutcome:
    """One task run: its result or exception, the LLM requests it made, the hyperparameters it used."""

    return_value: Any
    exception: str | None
    chat_chains: dict[str, Any]
    seconds: float
    scope: Hyperparameters


def run_task(
    task: Task,
    model: Any,
    parameters: BaseModel,
    hyperparameters: Hyperparameters,
    name: str,
    attributes: dict[str, Any] | None = None,
) -> TaskOutcome:
    """Run the task inside the scope and its own span (with `attributes`); an exception is recorded.

    The scope records every tracked function the run used, so pass a fresh one.
    """
    return_value: Any = None
    exception: str | None = None
    with span(name, inputs=parameters.model_dump(mode="json"), attributes=attributes) as opened:
        try:
            with hyperparameters:
                return_value = task.call(model, parameters)
        except Exception as error:
            frames = traceback.format_exception_only(type(error), error)
            exception = "".join(frames).strip()
    recorded = current_trace()
    duration = opened.duration or 0.0 if opened is not None else 0.0
    chains = chat_chains(recorded, opened) if recorded is not None else {}
    return TaskOutcome(return_value, exception, chains, duration, hyperparameters)


def chat_chains(trace: Trace, task_span: Span | None) -> dict[str, Any]:
    """The LLM requests under a span: each request's new messages and the reply, system prompts once."""
    if task_span is None:
        return {}
    children: dict[str | None, list[Span]] = {}
    for item in trace.spans:
        children.setdefault(item.parent_id, []).append(item)
    requests, seen_system = [], set()
    pending = list(children.get(task_span.id, []))
    while pending:
        current = pending.pop(0)
        pending.extend(children.get(current.id, []))
        if current.kind != "llm":
            continue
        messages = []
        for message in (current.inputs or {}).get("messages", []):
            content = _shortened(str(message.get("content", "")))
            if message.get("role") == "system":
                if content in seen_system:
                    continue
                seen_system.add(content)
            messages.append({"role": message.get("role"), "content": content})
        reply = (current.outputs or {}).get("reply") if isinstance(current.outputs, dict) else current.outputs
        requests.append({"messages": messages, "reply": _shortened(str(reply))})
    return {"requests": requests}


def _shortened(text: str) -> str:
    if len(text) <= _MAX_MESSAGE_CHARS:
        return text
    return f"{text[:_MAX_MESSAGE_CHARS]}…[{len(text) - _MAX_MESSAGE_CHARS} more chars]"


def evaluate(evaluator: Callable[[Any], Any] | None, task_run: Any) -> tuple[float | None, str | None]:
    """Score a task run; an evaluator that raises or returns NaN gives no score and says why."""
    if evaluator is None:
        return None, None
    try:
        result = evaluator(task_run)
        score, feedback = result if isinstance(result, tuple) else (result, None)
        score = float(score)
    except Exception as error:
        return None, f"evaluator failed: {type(error).__name__}: {error}"
    if math.isnan(score) or math.isinf(score):
        return None, f"evaluator failed: it returned {score}"
    return score, None if feedback is None else str(feedback)


def run_concurrently(jobs: Sequence[Callable[[], T]], limit: int) -> list[T]:
    """Run jobs on up to `limit` threads, each in a copy of the caller's context (trace, scopes)."""
    if len(jobs) <= 1 or limit <= 1:
        return [job() for job in jobs]
    with ThreadPoolExecutor(max_workers=min(limit, len(jobs))) as pool:
        futures = [pool.submit(contextvars.copy_context().run, job) for job in jobs]
        return [future.result() for future in futures]
