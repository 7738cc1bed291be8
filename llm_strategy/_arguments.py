"""Call arguments to request JSON: checked against the parameter types before anything is sent.

Arguments are validated as pydantic validates (lax mode: `"3"` for an `int` becomes 3, a numpy
array for a `list[float]` becomes a list) and the validated values are sent. A default value is
sent as it is, unchecked, as pydantic treats defaults. Floats that JSON cannot carry travel as the
strings `"NaN"`, `"Infinity"` and `"-Infinity"`; an object of a type JSON does not know, in an
`Any` position, as its `tolist()` (numpy, torch) or else its `repr()`.
"""

from __future__ import annotations

import typing
from collections.abc import Iterator
from typing import Annotated, Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails, to_json

from ._spec import CallSchema, Parameter
from .errors import ArgumentError

__all__ = ["arguments_json"]

_MAX_SHOWN = 60


def arguments_json(schema: CallSchema, value: Any, indent: int | None = None) -> str:
    """The input value as JSON; `ArgumentError` names the parameter that does not fit, and why."""
    adapter = schema.input_adapter
    try:
        value = adapter.validate_python(value)
    except ValidationError as error:
        details = error.errors(include_url=False)
        problems = [detail for detail in details if not _is_default(schema, value, detail)]
        if problems:
            raise _type_error(schema, problems[0], len(problems)) from None
    try:
        return _dumped(schema, value, indent)
    except ValueError as error:  # pydantic's serialization errors: bad bytes, surrogates, cycles, depth
        raise _unsendable(schema, value, error) from None


def _dumped(schema: CallSchema, value: Any, indent: int | None) -> str:
    data = schema.input_adapter.dump_python(value, mode="json", fallback=_jsonable, warnings=False)
    return to_json(data, indent=indent, inf_nan_mode="strings").decode()


def _jsonable(value: Any) -> Any:
    """An object JSON does not know: its `tolist()` (numpy arrays and scalars, tensors), else its repr."""
    tolist = getattr(value, "tolist", None)
    return tolist() if callable(tolist) else repr(value)


def _is_default(schema: CallSchema, value: Any, detail: ErrorDetails) -> bool:
    """Whether the error is inside a parameter's own default, which is sent unchecked."""
    if schema.explicit or not detail["loc"]:
        return False
    parameter = _parameter(schema, str(detail["loc"][0]))
    return parameter is not None and value.get(parameter.name) is _default(parameter)


def _default(parameter: Parameter) -> Any:
    default = parameter.default
    return getattr(default, "default", default)  # a `Field(...)` default holds the value


def _parameter(schema: CallSchema, name: str) -> Parameter | None:
    return next((parameter for parameter in schema.parameters if parameter.name == name), None)


def _type_error(schema: CallSchema, detail: ErrorDetails, count: int) -> ArgumentError:
    """`add: argument 'a' must be int, got str 'three': Input should be a valid integer, ...`."""
    location = [str(part) for part in detail["loc"]]
    if schema.explicit:
        parameter = schema.parameters[0]
    else:
        found = _parameter(schema, location.pop(0)) if location else None
        parameter = found or schema.parameters[0]
    inside = f" at {'.'.join(location)}" if location else ""
    got = detail["input"]
    more = f" (and {count - 1} more problem(s))" if count > 1 else ""
    return ArgumentError(
        f"{schema.name}: argument {parameter.name!r} must be {type_name(parameter.annotation)}; "
        f"got {type(got).__name__} {_short(got)}{inside}: {detail['msg']}{more}.",
        function_name=schema.name,
        parameter=parameter.name,
    )


def _unsendable(schema: CallSchema, value: Any, error: ValueError) -> ArgumentError:
    """Which argument JSON cannot carry: each is dumped alone to find it (a failed call only)."""
    parameter = schema.parameters[0]
    if not schema.explicit:
        for candidate, alone in _each_alone(schema, value):
            try:
                _dumped(schema, alone, None)
            except ValueError:
                parameter = candidate
                break
    reason = str(error).removeprefix("Error serializing to JSON: ")
    return ArgumentError(
        f"{schema.name}: argument {parameter.name!r} ({type_name(parameter.annotation)}) cannot be sent "
        f"as JSON: {reason}.",
        function_name=schema.name,
        parameter=parameter.name,
    )


def _each_alone(schema: CallSchema, value: dict[str, Any]) -> Iterator[tuple[Parameter, dict[str, Any]]]:
    for parameter in schema.parameters:
        if parameter.name in value:
            yield parameter, {parameter.name: value[parameter.name]}


def type_name(annotation: Any) -> str:
    """A type as a person writes it: `int`, `list[float]`, `Box[int]`, `str | None`."""
    while typing.get_origin(annotation) is Annotated:
        annotation = typing.get_args(annotation)[0]
    if isinstance(annotation, type) and not typing.get_args(annotation):
        return annotation.__qualname__
    return repr(annotation).replace("typing.", "")


def _short(value: Any) -> str:
    shown = repr(value)
    return shown if len(shown) <= _MAX_SHOWN else shown[:_MAX_SHOWN] + "…"
