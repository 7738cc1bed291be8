"""@track_hyperparameters: parameters named `_x` become typed, scoped hyperparameters.

Each tracked function gets a pydantic model of its hyperparameters (names without the `_`).
At call time the values in force come from the innermost `Hyperparameters` scope that has
them, else from the defaults; an explicit keyword argument wins over both.
"""

from __future__ import annotations

import functools
import inspect
import sys
import typing
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

from pydantic import BaseModel, ConfigDict, create_model
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from ._errors import DefinitionError
from ._scope import scopes_active, values_in_force
from ._tracing import call_span, tracing_active

__all__ = [
    "TrackedHyperparameters",
    "lookup",
    "register",
    "registered",
    "registered_entry",
    "stable_name",
    "track_hyperparameters",
]

P = ParamSpec("P")
R = TypeVar("R")

# Stable name -> tracked entry. Weak: a registry never keeps a function alive.
_REGISTRY: weakref.WeakValueDictionary[str, TrackedHyperparameters] = weakref.WeakValueDictionary()
_MODEL_CONFIG = ConfigDict(validate_assignment=True, extra="forbid")


@dataclass(frozen=True, eq=False)
class TrackedHyperparameters:
    """The hyperparameters of one tracked function or component: a stable name, a model, defaults."""

    name: str
    model: type[BaseModel]
    defaults: BaseModel
    description: str | None = None

    def in_force(self) -> BaseModel:
        """The values a call would use now (and record into the innermost scope)."""
        return values_in_force(self)


def register(
    name: str, model: type[BaseModel], description: str | None = None, *, defaults: BaseModel | None = None
) -> TrackedHyperparameters:
    """Track a component's settings model under a stable name; keep the result alive while in use.

    `defaults` are the values outside any scope (`model()` when not given).

    Example:
        ```python
        SETTINGS = register("my_library.retries", RetrySettings)
        attempts = SETTINGS.in_force().attempts
        ```
    """
    tracked = TrackedHyperparameters(name, model, defaults or model(), description or model.__doc__)
    _REGISTRY[name] = tracked
    return tracked


def registered() -> dict[str, TrackedHyperparameters]:
    """Every tracked entry that is alive, by stable name."""
    return dict(_REGISTRY)


def registered_entry(name: str) -> TrackedHyperparameters | None:
    """The tracked entry registered under a stable name, if it is alive."""
    return _REGISTRY.get(name)


def lookup(key: Any) -> TrackedHyperparameters:
    """The tracked entry of a tracked function, an entry, or a stable name.

    An unknown key is a `KeyError` that lists the known names.
    """
    if isinstance(key, TrackedHyperparameters):
        return key
    tracked = getattr(key, "hyperparameters", None)
    if isinstance(tracked, TrackedHyperparameters):
        return tracked
    if isinstance(key, str) and (entry := registered_entry(key)) is not None:
        return entry
    known = ", ".join(sorted(_REGISTRY)) or "none"
    raise KeyError(f"{key!r} is not a tracked function or name; known: {known}")


def track_hyperparameters(function: Callable[P, R]) -> Callable[P, R]:
    """Make a function's keyword-only `_name: type = default` parameters tracked hyperparameters.

    Example:
        ```python
        @track_hyperparameters
        def write_essay(model, topic: str, *, _style: str = "concise", _temperature: float = 0.7) -> str:
            ...
        ```
    """
    target = function.__func__ if isinstance(function, staticmethod | classmethod) else function
    name = stable_name(target)
    parameters = _hyperparameters_of(target, name)
    fields: dict[str, Any] = {parameter[1:]: spec for parameter, spec in parameters.items()}
    documentation = inspect.getdoc(target)
    model = create_model(
        f"{target.__name__}_hyperparameters", __config__=_MODEL_CONFIG, __doc__=documentation, **fields
    )
    tracked = register(name, model, documentation)
    defaults = tracked.defaults.model_dump()
    fixed = {f"_{key}": value for key, value in defaults.items()}
    needs_defaults = any(isinstance(default, FieldInfo) for _, default in parameters.values())
    wrapper = _async_wrapper if inspect.iscoroutinefunction(target) else _sync_wrapper
    wrapped = wrapper(target, tracked, fixed, needs_defaults)
    functools.update_wrapper(wrapped, target)
    wrapped.hyperparameters = tracked  # type: ignore[attr-defined]
    wrapped.hyperparameter_model = model  # type: ignore[attr-defined]
    if isinstance(function, staticmethod):
        return staticmethod(wrapped)
    if isinstance(function, classmethod):
        return classmethod(wrapped)
    return wrapped


def _call_arguments(
    tracked: TrackedHyperparameters, fixed: dict[str, Any], kwargs: dict[str, Any]
) -> dict[str, Any]:
    """Keyword arguments with every hyperparameter's value in force; explicit ones win."""
    if not scopes_active():
        return {**fixed, **kwargs}
    values = values_in_force(tracked).model_dump()
    return {**{f"_{key}": value for key, value in values.items()}, **kwargs}


def _sync_wrapper(
    function: Callable[..., Any], tracked: TrackedHyperparameters, fixed: dict[str, Any], needs_defaults: bool
) -> Callable[..., Any]:
    def tracked_call(*args: Any, **kwargs: Any) -> Any:
        if not scopes_active() and not tracing_active():
            return function(*args, **({**fixed, **kwargs} if needs_defaults else kwargs))
        call_kwargs = _call_arguments(tracked, fixed, kwargs)
        if not tracing_active():
            return function(*args, **call_kwargs)
        with call_span(tracked.name, function, args, call_kwargs) as span:
            result = function(*args, **call_kwargs)
            if span is not None:  # None when a live exporter was just uninstalled
                span.outputs = result
            return result

    return tracked_call


def _async_wrapper(
    function: Callable[..., Any], tracked: TrackedHyperparameters, fixed: dict[str, Any], needs_defaults: bool
) -> Callable[..., Any]:
    async def tracked_call(*args: Any, **kwargs: Any) -> Any:
        call_kwargs = _call_arguments(tracked, fixed, kwargs)
        if not tracing_active():
            return await function(*args, **call_kwargs)
        with call_span(tracked.name, function, args, call_kwargs) as span:
            result = await function(*args, **call_kwargs)
            if span is not None:  # None when a live exporter was just uninstalled
                span.outputs = result
            return result

    return tracked_call


def stable_name(function: Callable[..., Any]) -> str:
    """`module.qualname`; a script run as `__main__` is named by its file."""
    module = function.__module__
    if module == "__main__":
        main_file = getattr(sys.modules.get("__main__"), "__file__", None)
        module = main_file.rsplit("/", 1)[-1].removesuffix(".py") if main_file else module
    return f"{module}.{function.__qualname__}".replace(".<locals>", "")


def _hyperparameters_of(function: Callable[..., Any], name: str) -> dict[str, tuple[Any, Any]]:
    """`{_name: (annotation, default)}` for the hyperparameters; checks each one."""
    signature = inspect.signature(function)
    try:
        hints = typing.get_type_hints(function, include_extras=True)
    except NameError as error:
        raise DefinitionError(f"{name}: cannot resolve a hyperparameter annotation: {error}.") from error
    found: dict[str, tuple[Any, Any]] = {}
    for parameter in signature.parameters.values():
        if not parameter.name.startswith("_"):
            continue
        fix = f"declare it as `*, {parameter.name}: type = default`"
        if parameter.kind is not parameter.KEYWORD_ONLY:
            raise DefinitionError(f"{name}: hyperparameter {parameter.name!r} must be keyword-only; {fix}.")
        if parameter.name not in hints:
            raise DefinitionError(f"{name}: hyperparameter {parameter.name!r} has no type annotation; {fix}.")
        default = parameter.default
        if default is parameter.empty or (isinstance(default, FieldInfo) and _has_no_default(default)):
            raise DefinitionError(f"{name}: hyperparameter {parameter.name!r} has no default; {fix}.")
        found[parameter.name] = (hints[parameter.name], default)
    return found


def _has_no_default(info: FieldInfo) -> bool:
    return info.default is PydanticUndefined and info.default_factory is None
