"""Task runs and evaluations: what a job for any `concurrent.futures.Executor` runs (see `_jobs`).

A job carries everything it needs (the function, its parameters, the hyperparameters in force,
the model or its `"provider:model"` spec, the evaluator) and brings back what it produced (the
value or error, score and feedback, trace spans, where it ran). On the default thread pool the
spans go straight into the step's trace; in another process they come back as data and are
grafted in. A job whose worker fails is a recorded failure, not a crashed run.
"""

from __future__ import annotations

import functools
import inspect
import math
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, PydanticUserError, TypeAdapter, create_model
from pydantic_core import to_jsonable_python

from llm_hyperparameters import (
    DefinitionError,
    Hyperparameters,
    Span,
    Trace,
    current_trace,
    span,
)
from llm_hyperparameters._tracking import registered_entry

from ..._models import resolve_model
from .._schemas import TaskRun
from ._jobs import JobResult, WorkerFailure, error_text, run_coroutine
from ._records import ChatMessage, ChatRequest, TaskRunRecord

__all__ = [
    "SETTINGS",
    "Task",
    "TaskOutcome",
    "evaluate_candidate",
    "parametrized",
    "run_task",
]

T = TypeVar("T")
R = TypeVar("R")
_MAX_MESSAGE_CHARS = 1_500


@dataclass(frozen=True)
class Task:
    """A callable to optimize: `task(model, **parameters)` or `task(model, parameters)`.

    It travels to other processes as the function and, when the user gave it, the parameters'
    model; anything built from the signature is rebuilt on arrival.
    """

    function: Callable[..., Any]
    parameters_type: type[BaseModel]
    result_type: Any
    takes_object: bool
    given_type: bool

    @classmethod
    def of(cls, function: Callable[..., Any], seed: Sequence[Any]) -> Task:
        """Check the task and its seed parameters; the parameters' model comes from them or the signature."""
        if not seed:
            raise ValueError(
                "seed_parameters is empty: give at least one set of task parameters to start from"
            )
        task = _task_of(function, type(seed[0]) if isinstance(seed[0], BaseModel) else None)
        for item in seed:
            task.parameters_type.model_validate(item)
        return task

    @classmethod
    def for_function(cls, function: Callable[..., Any], parameters_type: type[BaseModel] | None) -> Task:
        """The task of a function whose parameters are `parameters_type`, or as its signature says."""
        if not callable(function):
            raise DefinitionError(f"the task must be callable, got {function!r:.80}")
        signature = inspect.signature(function)
        names = [name for name in signature.parameters if not name.startswith("_")][1:]
        try:
            hints = typing.get_type_hints(inspect.unwrap(function))
        except (NameError, TypeError, AttributeError):  # a forward reference it cannot resolve
            hints = {}
        if parameters_type is not None:
            takes_object = len(names) == 1 and hints.get(names[0]) is parameters_type
            built = parameters_type
        else:
            fields: dict[str, Any] = {
                name: (
                    hints.get(name, Any),
                    ... if parameter.default is parameter.empty else parameter.default,
                )
                for name, parameter in signature.parameters.items()
                if name in names
            }
            built = create_model(f"{getattr(function, '__name__', 'task')}_parameters", **fields)
            takes_object = False
        return cls(
            function, built, _describable(hints.get("return", Any)), takes_object, parameters_type is not None
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (_task_of, (self.function, self.parameters_type if self.given_type else None))

    def call(self, model: Any, parameters: BaseModel) -> Any:
        """Run the task once; a coroutine function runs on the process's event loop."""
        if self.takes_object:
            result = self.function(model, parameters)
        else:
            result = self.function(
                model, **{name: getattr(parameters, name) for name in type(parameters).model_fields}
            )
        if inspect.isawaitable(result):
            return run_coroutine(_awaited(result))
        return result


@functools.lru_cache(maxsize=32)
def _task_of(function: Callable[..., Any], parameters_type: type[BaseModel] | None) -> Task:
    """The task of a definition, built once per process (also when it arrives in a worker): the same
    parameters' model each time, so the prompts built from it are built once."""
    return Task.for_function(function, parameters_type)


def _describable(annotation: Any) -> Any:
    """The task's result type for the optimizer's schemas; Any when pydantic cannot describe it."""
    try:
        TypeAdapter(annotation).json_schema()
    except (PydanticUserError, TypeError):  # no schema for it (pydantic's schema errors are user errors)
        return Any
    return annotation


async def _awaited(awaitable: Any) -> Any:
    return await awaitable


def parametrized(generic: Any, *arguments: Any) -> Any:
    """A generic model parametrized with types known only at run time."""
    return generic[arguments]


# -- a task run --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskOutcome:
    """A task run as it comes back from a worker: JSON-compatible, ready to record."""

    hyperparameters: dict[str, dict[str, Any]]
    return_value: Any
    exception: str | None
    chat_chains: list[ChatRequest]
    seconds: float
    score: float | None
    evaluation: str | None

    @classmethod
    def of(cls, result: JobResult, hyperparameters: dict[str, dict[str, Any]]) -> TaskOutcome:
        """What a task job brought back; a dead worker, or a run whose tracked functions this process
        does not know (a spawned worker imports a script as `__mp_main__`), is a failed run."""
        outcome = result.outcome
        if not isinstance(outcome, WorkerFailure):
            unknown = [name for name in outcome.hyperparameters if registered_entry(name) is None]
            if not unknown:
                return outcome
            outcome = WorkerFailure(
                f"the worker ran tracked function {unknown[0]!r}, which this process does not know: "
                "define the task in a module the workers import (a spawned worker runs your script "
                "as __mp_main__)"
            )
        return cls(hyperparameters, None, outcome.message, [], 0.0, None, None)

    def record(
        self, *, run_id: str, step: int, task_parameters: dict[str, Any], changed: dict[str, Any], worker: str
    ) -> TaskRunRecord:
        """The task run as it is written, once."""
        return TaskRunRecord(
            id=run_id,
            step=step,
            task_parameters=task_parameters,
            hyperparameters=self.hyperparameters,
            return_value=self.return_value,
            exception=self.exception,
            chat_chains=self.chat_chains,
            seconds=round(self.seconds, 4),
            score=self.score,
            evaluation=self.evaluation,
            changed=changed,
            worker=worker,
        )


def run_task(
    run_id: str,
    step: int,
    task: Task,
    model: Any,
    parameters: dict[str, Any],
    hyperparameters: dict[str, dict[str, Any]],
    evaluator: Callable[[Any], Any] | None,
    tuned: Sequence[str] | None,
) -> TaskOutcome:
    """Run the task in a fresh scope and its own span, then evaluate it; failures are recorded, not raised.

    Runs wherever the executor puts it: the model spec is resolved and the task re-read here.
    """
    typed = task.parameters_type.model_validate(parameters)
    scope = Hyperparameters(hyperparameters)
    return_value: Any = None
    exception: str | None = None
    run = {"task_run_id": run_id, "step": step}
    with span(f"task run {run_id}", inputs=parameters, attributes={"optimization": run}) as opened:
        try:
            with scope:
                return_value = task.call(resolve_model(model) if model is not None else None, typed)
        except Exception as error:
            exception = error_text(error)
    recorded = current_trace()
    chains = chat_chains(recorded, opened) if recorded is not None and opened is not None else []
    used = scope.model_dump()
    shown = {name: values for name, values in used.items() if (name in tuned if tuned else name != SETTINGS)}
    typed_run = parametrized(TaskRun, task.parameters_type, task.result_type, dict[str, Any])(
        task_parameters=typed,
        hyperparameters=shown,
        all_chat_chains={"requests": [request.model_dump() for request in chains]},
        return_value=return_value,
        exception=exception,
    )
    with span(f"evaluate {run_id}", attributes={"optimization": run}) as scored:
        score, evaluation = evaluate(evaluator, typed_run)
        if scored is not None:
            scored.attributes["optimization"] = {**run, "score": score}
    return TaskOutcome(
        hyperparameters=used,
        return_value=to_jsonable_python(return_value, fallback=repr),
        exception=exception,
        chat_chains=chains,
        seconds=(opened.duration or 0.0) if opened is not None else 0.0,
        score=score,
        evaluation=evaluation,
    )


SETTINGS = "llm_strategy.settings"


def chat_chains(recorded: Trace, task_span: Span) -> list[ChatRequest]:
    """The LLM requests under a span: each request's new messages and the reply, system prompts once."""
    children: dict[str | None, list[Span]] = {}
    for item in recorded.spans:
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
            messages.append(ChatMessage(role=str(message.get("role")), content=content))
        reply = (current.outputs or {}).get("reply") if isinstance(current.outputs, dict) else current.outputs
        requests.append(ChatRequest(messages=messages, reply=_shortened(str(reply))))
    return requests


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


# -- a candidate evaluation ----------------------------------------------------------------------------


def evaluate_candidate(
    record_id: str, step: int, f: Callable[[Any], Any], x: Any, shown: Any
) -> tuple[float | None, str]:
    """`f(x)` under its own span (inputs: `shown`, the candidate as JSON)."""
    run = {"task_run_id": record_id, "step": step}
    with span(f"evaluate {record_id}", inputs={"x": shown}, attributes={"optimization": run}) as opened:
        score, feedback = score_candidate(f, x)
        if opened is not None:
            opened.outputs = {"score": score, "feedback": feedback}
            opened.attributes["optimization"] = {**run, "score": score}
    return score, feedback


def score_candidate(f: Callable[[Any], Any], x: Any) -> tuple[float | None, str]:
    """`f(x)` as `(score, feedback)`; a raise, NaN or a wrong shape is a failure, with the reason."""
    try:
        result = f(x)
    except Exception as error:
        return None, f"f raised {type(error).__name__}: {error}"
    if isinstance(result, tuple) and len(result) == 2:
        score, feedback = result
    elif isinstance(result, int | float):
        score, feedback = result, ""
    else:
        return (
            None,
            f"f must return (score, feedback) or a number, got {type(result).__name__}: {result!r:.80}",
        )
    try:
        number = float(score)
    except (TypeError, ValueError):
        return None, f"f returned a score that is not a number: {score!r:.80}"
    if math.isnan(number) or math.isinf(number):
        return None, f"f returned {number} as the score"
    return number, "" if feedback is None else str(feedback)
