"""Type variables: find them in annotations, bind them from argument values, substitute them.

This is the only module that reads pydantic's generic metadata.
"""

from __future__ import annotations

import functools
import operator
import types
import typing
from collections.abc import Iterable, Mapping
from typing import Annotated, Any, TypeVar, get_args, get_origin

from pydantic import BaseModel

from .errors import TypeVarBindingError

__all__ = ["bind_type_vars", "substitute", "type_vars_in"]

Binding = dict[TypeVar, Any]
_SEQUENCES = (list, set, frozenset, typing.Sequence, typing.MutableSequence, typing.AbstractSet)


def _generic_model_parts(annotation: Any) -> tuple[type[BaseModel], tuple[Any, ...]] | None:
    """`(origin, args)` of a generic pydantic model: `Box[int]` gives `(Box, (int,))`, `Box` `(Box, (T,))`."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        metadata = annotation.__pydantic_generic_metadata__
        if metadata["origin"] is not None:
            return metadata["origin"], tuple(metadata["args"])
        if metadata["parameters"]:
            return annotation, tuple(metadata["parameters"])
    return None


def _parameters_of(model: type[BaseModel]) -> tuple[TypeVar, ...]:
    return tuple(model.__pydantic_generic_metadata__["parameters"])


def type_vars_in(annotation: Any) -> tuple[TypeVar, ...]:
    """The type variables an annotation mentions, in order of first appearance."""
    found: dict[TypeVar, None] = {}

    def visit(node: Any) -> None:
        if isinstance(node, TypeVar):
            found.setdefault(node)
            return
        generic = _generic_model_parts(node)
        if generic is not None:
            for arg in generic[1]:
                visit(arg)
            return
        for arg in get_args(node):
            if not isinstance(arg, str | int | float | bool | bytes):
                visit(arg)

    visit(annotation)
    return tuple(found)


def substitute(annotation: Any, binding: Mapping[TypeVar, Any]) -> Any:
    """The annotation with each bound type variable replaced by its type."""
    if not binding:
        return annotation
    if isinstance(annotation, TypeVar):
        return binding.get(annotation, annotation)
    generic = _generic_model_parts(annotation)
    if generic is not None:
        origin, args = generic
        return origin[tuple(substitute(arg, binding) for arg in args)]  # type: ignore[index]
    origin = get_origin(annotation)
    args = get_args(annotation)
    if origin is None or not args:
        return annotation
    if origin is Annotated:
        return Annotated[(substitute(args[0], binding), *annotation.__metadata__)]
    if origin is typing.Literal:
        return annotation
    new_args = tuple(substitute(arg, binding) for arg in args)
    if origin is types.UnionType or origin is typing.Union:
        return functools.reduce(operator.or_, new_args)
    return annotation.copy_with(new_args) if hasattr(annotation, "copy_with") else origin[new_args]


def bind_type_vars(
    function_name: str, pairs: Iterable[tuple[str, Any, Any]], wanted: Iterable[TypeVar]
) -> Binding:
    """Bind type variables from `(parameter name, annotation, value)` triples.

    Raises `TypeVarBindingError` when a variable gets two unrelated types, or when one of
    `wanted` stays unbound.
    """
    binding: Binding = {}
    sources: dict[TypeVar, str] = {}
    for name, annotation, value in pairs:
        for type_var, bound_type in _infer(annotation, value):
            _merge(function_name, binding, sources, type_var, bound_type, name)
    missing = [type_var for type_var in wanted if type_var not in binding]
    if missing:
        names = ", ".join(type_var.__name__ for type_var in missing)
        raise TypeVarBindingError(
            f"{function_name}: type variable(s) {names} could not be bound from the arguments "
            "(an empty container or None gives no type); pass a value that carries the type, "
            "or parametrize it explicitly, e.g. Box[int](...)."
        )
    return binding


def _merge(
    function_name: str,
    binding: Binding,
    sources: dict[TypeVar, str],
    type_var: TypeVar,
    bound_type: Any,
    parameter: str,
) -> None:
    known = binding.get(type_var)
    if known is None or known == bound_type:
        binding[type_var] = bound_type
        sources.setdefault(type_var, parameter)
    elif isinstance(known, type) and isinstance(bound_type, type) and issubclass(bound_type, known):
        pass
    elif isinstance(known, type) and isinstance(bound_type, type) and issubclass(known, bound_type):
        binding[type_var] = bound_type
    else:
        raise TypeVarBindingError(
            f"{function_name}: type variable {type_var.__name__} is bound to both "
            f"{_type_name(known)} (from {sources[type_var]!r}) and {_type_name(bound_type)} "
            f"(from {parameter!r}); pass values of one type."
        )


def _type_name(annotation: Any) -> str:
    return getattr(annotation, "__name__", None) or repr(annotation)


def _infer(annotation: Any, value: Any) -> Iterable[tuple[TypeVar, Any]]:
    """Yield `(type variable, type)` pairs that make `value` fit `annotation`."""
    if value is None:
        return
    if isinstance(annotation, TypeVar):
        yield annotation, _type_of(value)
        return
    generic = _generic_model_parts(annotation)
    if generic is not None and isinstance(value, BaseModel):
        yield from _infer_generic_model(generic[0], generic[1], value)
        return
    origin = get_origin(annotation)
    args = get_args(annotation)
    if origin is Annotated:
        yield from _infer(args[0], value)
    elif origin is types.UnionType or origin is typing.Union:
        for arg in args:
            if type_vars_in(arg):
                yield from _infer(arg, value)
    elif origin in (dict, Mapping, typing.MutableMapping) and isinstance(value, Mapping) and args:
        for key, item in value.items():
            yield from _infer(args[0], key)
            yield from _infer(args[1], item)
    elif origin is tuple and isinstance(value, tuple) and args:
        if len(args) == 2 and args[1] is Ellipsis:
            for item in value:
                yield from _infer(args[0], item)
        else:
            for arg, item in zip(args, value, strict=False):
                yield from _infer(arg, item)
    elif (
        (origin in _SEQUENCES or _is_collection_origin(origin))
        and args
        and isinstance(value, Iterable)
        and not isinstance(value, str | bytes | Mapping)
    ):
        for item in value:
            yield from _infer(args[0], item)


def _is_collection_origin(origin: Any) -> bool:
    return isinstance(origin, type) and issubclass(origin, typing.Collection)


def _infer_generic_model(
    origin: type[BaseModel], args: tuple[Any, ...], value: BaseModel
) -> Iterable[tuple[TypeVar, Any]]:
    """Bind from a model value: its own parametrization if it has one, else its field values."""
    own = _generic_model_parts(type(value))
    parametrized = type(value).__pydantic_generic_metadata__["origin"] is not None
    if own is not None and own[0] is origin and parametrized:
        for arg, concrete in zip(args, own[1], strict=False):
            yield from _infer_from_type(arg, concrete)
        return
    parameters = _parameters_of(origin)
    local = dict(zip(parameters, args, strict=False))
    for field_name, field in origin.model_fields.items():
        if type_vars_in(field.annotation):
            field_value = getattr(value, field_name, None)
            for type_var, bound in _infer(field.annotation, field_value):
                target = local.get(type_var)
                if isinstance(target, TypeVar):
                    yield target, bound
                elif target is not None:
                    yield from _infer_from_type(target, bound)


def _infer_from_type(annotation: Any, concrete: Any) -> Iterable[tuple[TypeVar, Any]]:
    """Match an annotation with type variables against a concrete type."""
    if isinstance(annotation, TypeVar):
        yield annotation, concrete
        return
    left = _generic_model_parts(annotation) or (get_origin(annotation), get_args(annotation))
    right = _generic_model_parts(concrete) or (get_origin(concrete), get_args(concrete))
    if left[0] is not None and left[0] == right[0]:
        for arg, concrete_arg in zip(left[1], right[1], strict=False):
            yield from _infer_from_type(arg, concrete_arg)


def _type_of(value: Any) -> Any:
    """The type a value stands for; containers of one element type become `list[int]` etc."""
    kind = type(value)
    if kind in (list, set, frozenset) and value:
        element_types = {_type_of(item) for item in value}
        if len(element_types) == 1:
            return kind[element_types.pop()]
    if kind is dict and value:
        key_types = {_type_of(key) for key in value}
        value_types = {_type_of(item) for item in value.values()}
        if len(key_types) == 1 and len(value_types) == 1:
            return dict[key_types.pop(), value_types.pop()]  # type: ignore[misc]
    return kind
