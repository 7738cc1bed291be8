"""LLMFunction: the callable a decorator returns; binds a call, then runs the attempt loop."""

from __future__ import annotations

import functools
import types
from typing import Any, Generic, ParamSpec, TypeVar

from langchain_core.language_models import BaseLanguageModel

from .attempts import Attempts, attempts, run, run_async
from .models import Conversation, resolve_model, uses_native_output
from .prompts import LLMSettings, call_messages, render_arguments
from .spec import FunctionSpec

__all__ = ["LLMFunction"]

P = ParamSpec("P")
R = TypeVar("R")

_DEFAULT_SETTINGS = LLMSettings()


class LLMFunction(Generic[P, R]):
    """A stub implemented by a model. Call it like the stub; `await f.acall(...)` for async.

    With no bound model the first argument is the model (any `resolve_model` spec).
    """

    def __init__(self, spec: FunctionSpec, *, model: Any = None, settings: LLMSettings | None = None) -> None:
        functools.update_wrapper(self, spec.function, updated=())
        self.spec = spec
        self.settings = settings or _DEFAULT_SETTINGS
        self._model = model
        self._resolved: BaseLanguageModel[Any] | Conversation | None = None

    def __repr__(self) -> str:
        return f"<LLMFunction {self.spec.name}>"

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        """Bind `self` or `cls` as the stub's kind of method would; otherwise act as a staticmethod."""
        if self.spec.takes_class and owner is not None:
            return types.MethodType(self, owner)
        if self.spec.takes_instance and instance is not None:
            return types.MethodType(self, instance)
        return self

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        if self.spec.is_async:
            return self.acall(*args, **kwargs)  # type: ignore[return-value]
        return run(self._attempts(args, kwargs)).value

    async def acall(self, *args: P.args, **kwargs: P.kwargs) -> R:
        """Run the call through the model's async API."""
        return (await run_async(self._attempts(args, kwargs))).value

    def _attempts(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Attempts:
        """Bind the arguments, build the messages and start the attempt loop."""
        spec = self.spec
        arguments = spec.bind(args, kwargs)
        model_spec = arguments[spec.model_parameter] if spec.model_parameter else None
        instance = arguments[spec.instance_parameter] if spec.instance_parameter else None
        target = self._target(model_spec)
        history = target.messages if isinstance(target, Conversation) else ()
        model = target.model if isinstance(target, Conversation) else target
        values = spec.input_value(arguments, instance)
        schema = spec.schema_for(values)
        native = uses_native_output(model, self.settings.output_mode, spec.name)
        messages = call_messages(
            schema,
            render_arguments(schema, values, self.settings),
            self.settings,
            native=native,
            in_conversation=bool(history),
        )
        return attempts(
            spec.name,
            model,
            (*history, *messages),
            schema.output_adapter,
            self.settings,
            schema.native_schema if native else None,
        )

    def _target(self, model_spec: Any) -> BaseLanguageModel[Any] | Conversation:
        if model_spec is not None:
            return resolve_model(model_spec)
        if self._resolved is None:
            self._resolved = resolve_model(self._model)
        return self._resolved
