"""@track_hyperparameters: `_x` parameters and `Hyperparameter() @ default` become scoped hyperparameters.

Each tracked function gets a pydantic model of its hyperparameters (parameter names without
the `_`, and the body's `Hyperparameter(...)` names). At call time the values in force come
from the innermost `Hyperparameters` scope that has them, else from the defaults; an explicit
argument wins over both.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import sys
import typing
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TypeVar

from pydantic import BaseModel, ConfigDict, create_model
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from ._body import BodyHyperparameters, body_hyperparameters, in_body
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
    owner: Callable[..., Any] | None = field(default=None, repr=False)
    """The function the entry was made for, if any."""

    def in_force(self) -> BaseModel:
        """The values a call would use now (and record into the innermost scope)."""
        return values_in_force(self)


def register(
    name: str,
    model: type[BaseModel],
    description: str | None = None,
    *,
    defaults: BaseModel | None = None,
    owner: Callable[..., Any] | None = None,
) -> TrackedHyperparameters:
    """Track a component's settings model under a stable name; keep the result alive while in use.

    `defaults` are the values outside any scope (`model()` when not given). `owner` is the
    function the entry belongs to: a second function from the same definition (a factory called
    twice) is refused while the first is alive, as the two would share their values.

    Example:
        ```python
        SETTINGS = register("my_library.retries", RetrySettings)
        attempts = SETTINGS.in_force().attempts
        ```
    """
    existing = _REGISTRY.get(name)
    if existing is not None and _same_definition(existing.owner, owner):
        raise DefinitionError(
            f"{name}: another live function made by the same factory already has this name, and the two "
            f"would share their hyperparameters; name each one before decorating it, e.g. "
            f'`inner.__qualname__ = f"{name.rsplit(".", 1)[-1]}_{{label}}"`.'
        )
    tracked = TrackedHyperparameters(name, model, defaults or model(), description or model.__doc__, owner)
    _REGISTRY[name] = tracked
    return tracked


def _same_definition(first: Callable[..., Any] | None, second: Callable[..., Any] | None) -> bool:
    """Two distinct function objects compiled from one `def` (closures a factory returned)."""
    code = getattr(first, "__code__", None)
    return first is not second and code is not None and code is getattr(second, "__code__", None)


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
    """Make a function's `_name: type = default` parameters and `Hyperparameter() @ default`
    expressions tracked hyperparameters.

    Example:
        ```python
        @track_hyperparameters
        def write_essay(model, topic: str, *, _style: str = "concise", _temperature: float = 0.7) -> str:
            closing = Hyperparameter("closing") @ "Thanks for reading."
            ...
        ```
    """
    target = function.__func__ if isinstance(function, staticmethod | classmethod) else function
    if not inspect.isfunction(target):
        kind = type(target).__name__
        raise DefinitionError(
            f"track_hyperparameters takes a function, got {kind} object {target!r:.60}; "
            f"decorate a function, or the `__call__` method of class {kind}."
        )
    name = stable_name(target)
    parameters = _hyperparameters_of(target, name)
    body = body_hyperparameters(target, name)
    fields: dict[str, Any] = {parameter[1:]: spec for parameter, spec in parameters.items()}
    for field_name, spec in (body.fields if body else {}).items():
        if field_name in fields:
            raise DefinitionError(
                f"{name}: {field_name!r} is both a parameter `_{field_name}` and a Hyperparameter() "
                "in the body; rename one."
            )
        fields[field_name] = spec
    documentation = inspect.getdoc(target)
    model = create_model(
        f"{target.__name__}_hyperparameters", __config__=_MODEL_CONFIG, __doc__=documentation, **fields
    )
    tracked = register(name, model, documentation, owner=target)
    plan = _Plan(
        tracked,
        fixed={key: getattr(tracked.defaults, key[1:]) for key in parameters},
        needs_defaults=any(isinstance(default, FieldInfo) for _, default in parameters.values()),
        positions=_positions(target, parameters),
        body=body,
    )
    wrapper = _async_wrapper if inspect.iscoroutinefunction(target) else _sync_wrapper
    wrapped = wrapper(target, plan)
    functools.update_wrapper(wrapped, target)
    wrapped.hyperparameters = tracked  # type: ignore[attr-defined]
    wrapped.hyperparameter_model = model  # type: ignore[attr-defined]
    if isinstance(function, staticmethod):
        return staticmethod(wrapped)
    if isinstance(function, classmethod):
        return classmethod(wrapped)
    return wrapped


_NO_BODY = contextlib.nullcontext()


@dataclass(frozen=True)
class _Plan:
    """What a tracked call does, decided when decorating."""

    tracked: TrackedHyperparameters
    fixed: dict[str, Any]
    """`{_name: default}` of the parameters."""
    needs_defaults: bool
    """Whether a parameter's default is a `Field`, so Python's own default is not the value."""
    positions: dict[str, int]
    """The position of each positional-or-keyword hyperparameter."""
    body: BodyHyperparameters | None

    def arguments(
        self, values: BaseModel | None, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> dict[str, Any]:
        """Keyword arguments with each parameter's value in force; explicit arguments win."""
        given = self.fixed if values is None else {key: getattr(values, key[1:]) for key in self.fixed}
        injected = {
            key: value for key, value in given.items() if len(args) <= self.positions.get(key, len(args))
        }
        return {**injected, **kwargs}

    def hyperparameters(self, values: BaseModel) -> dict[str, Any] | None:
        """The body's values, for the call's span (its parameters are recorded from the arguments)."""
        return {key: getattr(values, key) for key in self.body.fields} if self.body else None


def _positions(function: Callable[..., Any], parameters: dict[str, tuple[Any, Any]]) -> dict[str, int]:
    signature = inspect.signature(function).parameters
    return {
        name: index
        for index, (name, parameter) in enumerate(signature.items())
        if name in parameters and parameter.kind is parameter.POSITIONAL_OR_KEYWORD
    }


def _sync_wrapper(function: Callable[..., Any], plan: _Plan) -> Callable[..., Any]:
    def tracked_call(*args: Any, **kwargs: Any) -> Any:
        if plan.body is None and not scopes_active() and not tracing_active():
            return function(*args, **(plan.arguments(None, args, kwargs) if plan.needs_defaults else kwargs))
        values = values_in_force(plan.tracked)
        call_kwargs = plan.arguments(values, args, kwargs)
        with in_body(plan.body, values) if plan.body else _NO_BODY:
            if not tracing_active():
                return function(*args, **call_kwargs)
            with call_span(
                plan.tracked.name, function, args, call_kwargs, plan.hyperparameters(values)
            ) as span:
                result = function(*args, **call_kwargs)
                if span is not None:  # None when a live exporter was just uninstalled
                    span.outputs = result
                return result

    return tracked_call


def _async_wrapper(function: Callable[..., Any], plan: _Plan) -> Callable[..., Any]:
    async def tracked_call(*args: Any, **kwargs: Any) -> Any:
        values = values_in_force(plan.tracked)
        call_kwargs = plan.arguments(values, args, kwargs)
        with in_body(plan.body, values) if plan.body else _NO_BODY:
            if not tracing_active():
                return await function(*args, **call_kwargs)
            with call_span(
                plan.tracked.name, function, args, call_kwargs, plan.hyperparameters(values)
            ) as span:
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
        if parameter.kind not in (parameter.KEYWORD_ONLY, parameter.POSITIONAL_OR_KEYWORD):
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
