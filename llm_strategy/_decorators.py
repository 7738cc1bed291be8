"""The decorators: `llm_function`, `llm_explicit_function`, `llm_strategy`, `llm_dataclass`.

Each checks the definition when it runs and raises `DefinitionError` naming what to fix.
"""

from __future__ import annotations

import abc
import copy
import dataclasses
import inspect
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any, ParamSpec, TypeVar, overload

from ._function import LLMFunction
from ._models import resolve_model
from ._settings import LLMSettings
from ._spec import FunctionSpec, InputStyle
from ._stubs import is_stub, unwrap_member
from .errors import DefinitionError

__all__ = ["llm_dataclass", "llm_explicit_function", "llm_function", "llm_strategy"]

T = TypeVar("T")
P = ParamSpec("P")
R = TypeVar("R")
_PACKAGE_DIR = str(Path(__file__).parent)


@overload
def llm_function(function: Callable[P, R] | staticmethod[P, R], /) -> LLMFunction[P, R]: ...
@overload
def llm_function(
    *, settings: LLMSettings | None = None
) -> Callable[[Callable[P, R] | staticmethod[P, R]], LLMFunction[P, R]]: ...
def llm_function(function: Any = None, /, *, settings: LLMSettings | None = None) -> Any:
    """Implement a stub function with the model passed as its first argument.

    Example:
        ```python
        @llm_function
        def summarize(model, text: str, max_words: int = 50) -> str:
            \"\"\"Summarize the text.\"\"\"
            raise NotImplementedError

        summarize(model, "...")
        ```
    """
    return _decorate(function, settings, "parameters")


@overload
def llm_explicit_function(function: Callable[P, R] | staticmethod[P, R], /) -> LLMFunction[P, R]: ...
@overload
def llm_explicit_function(
    *, settings: LLMSettings | None = None
) -> Callable[[Callable[P, R] | staticmethod[P, R]], LLMFunction[P, R]]: ...
def llm_explicit_function(function: Any = None, /, *, settings: LLMSettings | None = None) -> Any:
    """Implement `f(model, input_object)`: the one input model is the whole input.

    Type variables in the input and return types are bound from the input's value.

    Example:
        ```python
        @llm_explicit_function
        def reflect(model, task_run: TaskRun[P, R, H]) -> TaskReflection:
            \"\"\"Reflect on the task run.\"\"\"
            raise NotImplementedError
        ```
    """
    return _decorate(function, settings, "explicit")


def _decorate(function: Any, settings: LLMSettings | None, style: InputStyle) -> Any:
    namespace = _caller_namespace()

    def decorate(target: Any) -> LLMFunction[Any, Any]:
        if isinstance(target, classmethod):
            raise DefinitionError(
                f"{_name_of(target.__func__)}: a classmethod cannot take the model as first argument; "
                "use @staticmethod, or llm_strategy on the class."
            )
        plain = target.__func__ if isinstance(target, staticmethod) else target
        _check_stub(plain)
        spec = FunctionSpec(
            plain, name=_name_of(plain), takes_model=True, input_style=style, namespace=namespace
        )
        return LLMFunction(spec, settings=settings)

    return decorate if function is None else decorate(function)


def llm_strategy(model: Any, *, settings: LLMSettings | None = None) -> Callable[[T], T]:
    """Implement every stub of a class, a function, or a dataclass instance with `model`.

    On a class it returns a subclass with the same name (so `issubclass` holds) whose stub
    methods, properties, staticmethods and classmethods call the model; members with code
    stay as they are. On an instance it returns a new instance of that subclass.

    Example:
        ```python
        @llm_strategy("openai:gpt-4o-mini")
        @dataclass
        class Customer:
            birthdate: str

            @property
            def age(self) -> int:
                \"\"\"The age in 2026.\"\"\"
                raise NotImplementedError
        ```
    """
    if not isinstance(model, str):
        resolve_model(model)  # fail now on something that is not a model
    namespace = _caller_namespace()

    def decorate(target: Any) -> Any:
        if isinstance(target, type):
            return _strategy_class(target, model, settings, namespace)
        if isinstance(target, staticmethod) or inspect.isfunction(target):
            plain = target.__func__ if isinstance(target, staticmethod) else target
            _check_stub(plain)
            spec = FunctionSpec(plain, name=_name_of(plain), takes_model=False, namespace=namespace)
            return LLMFunction(spec, model=model, settings=settings)
        if dataclasses.is_dataclass(target):
            instance = copy.copy(target)
            setattr(instance, "__class__", _strategy_class(type(target), model, settings, namespace))  # noqa: B010
            return instance
        raise DefinitionError(
            f"llm_strategy can implement a class, a stub function or a dataclass instance, "
            f"not {type(target).__name__}: {target!r:.80}"
        )

    return decorate


def llm_dataclass(dataclass_type: type[T], model: Any, *, settings: LLMSettings | None = None) -> type[T]:
    """`llm_strategy(model)(dataclass_type)` for a dataclass type.

    Example:
        ```python
        StrategyCustomer = llm_dataclass(Customer, model)
        ```
    """
    if not (isinstance(dataclass_type, type) and dataclasses.is_dataclass(dataclass_type)):
        raise DefinitionError(f"llm_dataclass expects a dataclass type, got {dataclass_type!r:.80}")
    return llm_strategy(model, settings=settings)(dataclass_type)


def _strategy_class(cls: type, model: Any, settings: LLMSettings | None, namespace: dict[str, Any]) -> type:
    """A subclass of `cls` whose stub members are implemented by the model.

    Inside the members' annotations the class's own name means the subclass, so a method
    returning `"Customer"` returns implemented customers.
    """
    stubs = {}
    for name in dir(cls):
        owner = next((klass for klass in cls.__mro__ if name in vars(klass)), object)
        member = vars(owner).get(name)
        function = unwrap_member(member)
        if owner is not object and function is not None and is_stub(function):
            stubs[name] = (member, function)
    if not stubs:
        raise DefinitionError(
            f"{cls.__qualname__}: no member only raises NotImplementedError, "
            "so there is nothing to implement."
        )
    strategy = types.new_class(cls.__name__, (cls,), {}, lambda body: body.update(__slots__=()))
    strategy.__qualname__ = cls.__qualname__
    strategy.__module__ = cls.__module__
    strategy.__doc__ = cls.__doc__
    local_names = {**namespace, **vars(cls), cls.__name__: strategy}
    for name, (member, function) in stubs.items():
        setattr(strategy, name, _implement(cls, name, member, function, model, settings, local_names))
    abc.update_abstractmethods(strategy)
    return strategy


def _implement(
    cls: type,
    name: str,
    member: Any,
    function: Callable[..., Any],
    model: Any,
    settings: LLMSettings | None,
    namespace: dict[str, Any],
) -> Any:
    """The implemented member; it binds `self` or `cls` as the stub did."""
    is_static = isinstance(member, staticmethod)
    is_class = isinstance(member, classmethod)
    spec = FunctionSpec(
        function,
        name=f"{cls.__name__}.{name}",
        takes_model=False,
        instance_type=None if is_static or is_class else cls,
        drops_first=is_class,
        namespace=namespace,
    )
    implemented: LLMFunction[Any, Any] = LLMFunction(spec, model=model, settings=settings)
    if isinstance(member, property):
        return property(implemented, member.fset, member.fdel, member.__doc__)
    return implemented


def _check_stub(function: Any) -> None:
    if not inspect.isfunction(function):
        raise DefinitionError(
            f"expected a stub function to implement, got {type(function).__name__}: {function!r:.80}"
        )
    if not is_stub(function):
        raise DefinitionError(
            f"{_name_of(function)}: the body has code; a stub's body may only hold a docstring and "
            "`raise NotImplementedError`. Remove the code or the decorator."
        )


def _name_of(function: Any) -> str:
    """The qualified name without `<locals>` noise: `Class.method` or `function`."""
    return str(function.__qualname__).rsplit("<locals>.", 1)[-1]


def _caller_namespace() -> dict[str, Any]:
    """Local names where the decorator is used, to resolve string annotations of local types."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame = frame.f_back  # type: ignore[assignment]
    if frame is None or frame.f_locals is frame.f_globals:
        return {}
    return dict(frame.f_locals)
