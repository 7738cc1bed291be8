"""LLMFunction: the callable a decorator returns; binds a call, then runs the attempt loop."""

from __future__ import annotations

import functools
import importlib
import types
from contextlib import AbstractContextManager
from typing import Any, Generic, ParamSpec, TypeVar

from langchain_core.language_models import BaseLanguageModel
from langchain_core.messages import BaseMessage

from llm_hyperparameters import DefinitionError, Span, TrackedHyperparameters, register, span, tracing_active
from llm_hyperparameters._tracking import stable_name

from ._attempts import Attempts, Outcome, attempts, run, run_async
from ._models import Conversation, resolve_model
from ._output_modes import OutputMode, choose_output_mode
from ._prompts import call_messages, render_arguments
from ._settings import SETTINGS, LLMSettings, instructions_model, settings_in_force
from ._spec import FunctionSpec, Instructions
from ._switches import model_override
from .errors import ArgumentError

__all__ = ["LLMFunction"]

P = ParamSpec("P")
R = TypeVar("R")


class LLMFunction(Generic[P, R]):
    """A stub implemented by a model. Call it like the stub; `await f.acall(...)` for async.

    With no bound model the first argument is the model (any `resolve_model` spec). Its
    docstring and descriptions are tracked hyperparameters (`f.hyperparameters`), and so are
    the library-wide `LLMSettings` unless `settings=` pinned its own.
    """

    def __init__(self, spec: FunctionSpec, *, model: Any = None, settings: LLMSettings | None = None) -> None:
        functools.update_wrapper(self, spec.function, updated=())
        self.spec = spec
        self.settings = settings
        self._model = model
        self._resolved: BaseLanguageModel[Any] | Conversation | None = None
        self._tracked: TrackedHyperparameters | None = None
        try:  # registered now, so saved values can be loaded before any call
            defaults = spec.instruction_defaults()
        except DefinitionError:  # an annotation naming a later type: registered at the first call
            return
        self._tracked = self._register(*defaults)

    def __repr__(self) -> str:
        return f"<LLMFunction {self.spec.name}>"

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled by reference (module and qualified name), as functions are, so it travels to workers."""
        return (_imported, (self.spec.function.__module__, self.spec.function.__qualname__))

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        """Bind `self` or `cls` as the stub's kind of method would; otherwise act as a staticmethod."""
        if self.spec.takes_class and owner is not None:
            return types.MethodType(self, owner)
        if self.spec.takes_instance and instance is not None:
            return types.MethodType(self, instance)
        return self

    @property
    def hyperparameters(self) -> TrackedHyperparameters:
        """This function's tracked instructions: its docstring and descriptions (built on first use)."""
        if self._tracked is None:
            self._tracked = self._register(*self.spec.instruction_defaults())
        return self._tracked

    def _register(
        self, docstring: str, descriptions: dict[str, str], keys: list[str]
    ) -> TrackedHyperparameters:
        name = stable_name(self.spec.function)
        model = instructions_model(name, docstring, descriptions, keys)
        description = f"The instructions of the LLM function {self.spec.name}."
        return register(name, model, description, owner=self.spec.function)

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        if self.spec.is_async:
            return self.acall(*args, **kwargs)  # type: ignore[return-value]
        values, loop = self._attempts(args, kwargs)
        if not tracing_active():
            return run(loop).value
        with self._span(values) as opened:
            return _recorded(opened, run(loop))

    async def acall(self, *args: P.args, **kwargs: P.kwargs) -> R:
        """Run the call through the model's async API."""
        values, loop = self._attempts(args, kwargs)
        if not tracing_active():
            return (await run_async(loop)).value
        with self._span(values) as opened:
            return _recorded(opened, await run_async(loop))

    def _span(self, inputs: Any) -> AbstractContextManager[Span | None]:
        """A `function` span around the call, with its inputs and the hyperparameters that differ."""
        return span(self.spec.name, "function", inputs=inputs, hyperparameters=self._changed())

    def _changed(self) -> dict[str, Any]:
        """The tracked values in force that differ from the defaults, for the trace."""
        changed = {}
        for tracked in (self.hyperparameters, SETTINGS):
            values = tracked.in_force()
            if values is not tracked.defaults and values != tracked.defaults:
                changed[tracked.name] = values.model_dump(exclude_defaults=True)
        return changed

    def _instructions(self) -> Instructions | None:
        """The docstring and descriptions in force, when they differ from the definition's."""
        tracked = self.hyperparameters
        values = tracked.in_force()
        if values is tracked.defaults or values == tracked.defaults:
            return None
        docstring: str = values.docstring  # type: ignore[attr-defined]
        descriptions: dict[str, str] = values.descriptions  # type: ignore[attr-defined]
        return docstring, tuple(sorted(descriptions.items()))

    def _attempts(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, Attempts]:
        """Bind the arguments, build the messages; the input value and the attempt loop."""
        spec = self.spec
        arguments = spec.bind(args, kwargs)
        model_spec = arguments[spec.model_parameter] if spec.model_parameter else None
        instance = arguments[spec.instance_parameter] if spec.instance_parameter else None
        target = self._target(model_spec)
        history = target.messages if isinstance(target, Conversation) else ()
        model = target.model if isinstance(target, Conversation) else target
        settings = settings_in_force(self.settings)
        values = spec.input_value(arguments, instance)
        schema = spec.schema_for(values, self._instructions())
        arguments_json = render_arguments(schema, values, settings)

        def messages_for(output: OutputMode) -> tuple[BaseMessage, ...]:
            own = call_messages(
                schema, arguments_json, settings, output=output, in_conversation=bool(history)
            )
            return (*history, *own)

        output = choose_output_mode(model, schema, settings.output_mode, spec.name)
        return values, attempts(spec.name, model, output, messages_for, schema.output_adapter, settings)

    def _target(self, model_spec: Any) -> BaseLanguageModel[Any] | Conversation:
        override = model_override()
        if override is not None:
            return override
        if model_spec is not None:
            if not isinstance(model_spec, BaseLanguageModel | Conversation | str):
                raise ArgumentError(
                    f"{self.spec.name}: the first argument must be the model (a langchain model, a "
                    f"ChatChain or a 'provider:model' string), got {type(model_spec).__name__}: "
                    f"{model_spec!r:.60}",
                    function_name=self.spec.name,
                    parameter=self.spec.model_parameter,
                )
            return resolve_model(model_spec)
        if self._resolved is None:
            self._resolved = resolve_model(self._model)
        return self._resolved


def _recorded(opened: Span | None, outcome: Outcome) -> Any:
    """Put the call's result on its span; the value."""
    if opened is not None:
        opened.outputs = outcome.value
        opened.attributes["attempts"] = outcome.attempt
    return outcome.value


def _imported(module: str, qualname: str) -> Any:
    """The object a module defines under a qualified name (`Class.method` too)."""
    found: Any = importlib.import_module(module)
    for part in qualname.split("."):
        found = getattr(found, part)
    return found
