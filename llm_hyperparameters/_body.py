"""`Hyperparameter("name") @ default` in a tracked function's body: found in its source when decorating.

The decorator reads the function's source (its syntax tree, nothing is run) and turns every
`Hyperparameter(...) @ default` into a field of the function's hyperparameter model; unnamed
ones are `hparam0`, `hparam1`, ... in source order. At run time each `Hyperparameter(...)` is
recognised by its call site (file, line, column) and returns the value in force.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import inspect
import itertools
import sys
import textwrap
import types
import warnings
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, Field

from ._errors import DefinitionError

__all__ = ["BodyHyperparameters", "Hyperparameter", "body_hyperparameters", "in_body"]

T = TypeVar("T")
_NAME = "Hyperparameter"
_Site = tuple[str, int, int]  # file, line, column of the `Hyperparameter(...)` call


@dataclass(frozen=True)
class BodyHyperparameters:
    """The body hyperparameters of one function: pydantic fields, and the field each call site reads."""

    fields: dict[str, tuple[Any, Any]]
    sites: dict[_Site, str]
    by_instruction: dict[tuple[types.CodeType, int], str] = field(default_factory=dict, compare=False)
    """Call sites already looked up, by code object and instruction offset."""

    def field_called_from(self, frame: types.FrameType) -> str | None:
        """The field of the `Hyperparameter(...)` call being made from `frame`, if it is one of ours."""
        instruction = (frame.f_code, frame.f_lasti)
        found = self.by_instruction.get(instruction)
        if found is None:
            found = self.sites.get((frame.f_code.co_filename, *_call_position(frame)))
            if found is not None:
                self.by_instruction[instruction] = found
        return found


@dataclass(frozen=True)
class _Active:
    body: BodyHyperparameters
    values: BaseModel


_ACTIVE: ContextVar[_Active | None] = ContextVar("llm_hyperparameters_body", default=None)


class _Value:
    """What `Hyperparameter(...)` returns: `@ default` gives the value in force (or the default)."""

    __slots__ = ("_value",)

    def __init__(self, value: Any) -> None:
        self._value = value

    def __matmul__(self, default: T) -> T:
        return default if self._value is _MISSING else self._value


_MISSING = object()


def Hyperparameter(name: str | None = None, *, description: str | None = None) -> _Value:
    """A hyperparameter written inside a tracked function's body: `Hyperparameter("name") @ default`.

    Without a name it is `hparam0`, `hparam1`, ... in source order. The default must be a literal
    or a module constant; its type is the hyperparameter's type. Outside a tracked function it
    warns and returns the default.

    Example:
        ```python
        @track_hyperparameters
        def greet(name: str) -> str:
            return Hyperparameter("greeting", description="Opening word.") @ "Hello" + ", " + name
        ```
    """
    active = _ACTIVE.get()
    if active is not None:
        found = active.body.field_called_from(sys._getframe(1))
        if found is not None:
            return _Value(getattr(active.values, found))
    warnings.warn(
        f"Hyperparameter({name or ''!r}) is not in the body of a function decorated with "
        "@track_hyperparameters; the default is used",
        UserWarning,
        stacklevel=2,
    )
    return _Value(_MISSING)


def _call_position(frame: types.FrameType) -> tuple[int, int]:
    """Line and column where the call being made from `frame` starts."""
    line, _, column, _ = next(itertools.islice(frame.f_code.co_positions(), frame.f_lasti // 2, None))
    return line or 0, column or 0


class in_body:
    """Make `values` what the body's `Hyperparameter(...)` calls return, while inside."""

    __slots__ = ("_active", "_token")

    def __init__(self, body: BodyHyperparameters, values: BaseModel) -> None:
        self._active = _Active(body, values)

    def __enter__(self) -> None:
        self._token = _ACTIVE.set(self._active)

    def __exit__(self, *exc: object) -> None:
        _ACTIVE.reset(self._token)


def body_hyperparameters(function: Callable[..., Any], name: str) -> BodyHyperparameters | None:
    """Find the `Hyperparameter(...) @ default` expressions of `function`'s body, or None without any."""
    code = getattr(function, "__code__", None)
    if code is None or not _mentions(code):
        return None
    try:
        lines, first_line = inspect.getsourcelines(function)
    except (OSError, TypeError) as error:
        raise DefinitionError(
            f"{name}: uses {_NAME}() but its source cannot be read ({error}); "
            "declare the hyperparameters as `*, _name: type = default` parameters instead."
        ) from error
    indent = len(lines[0]) - len(lines[0].lstrip())
    try:
        definition = ast.parse(textwrap.dedent("".join(lines))).body[0]
    except SyntaxError:  # a lambda: its source line is not a statement of its own
        definition = None
    if not isinstance(definition, ast.FunctionDef | ast.AsyncFunctionDef):
        raise DefinitionError(
            f"{name}: uses {_NAME}(), which is found only in the body of a `def` function; "
            "write the function with `def`."
        )
    return _collect(definition, function, name, code.co_filename, first_line - 1, indent)


def _mentions(code: types.CodeType) -> bool:
    """Whether the code (or code nested in it) refers to `Hyperparameter`."""
    if _NAME in code.co_names:
        return True
    return any(isinstance(const, types.CodeType) and _mentions(const) for const in code.co_consts)


def _collect(
    definition: ast.FunctionDef | ast.AsyncFunctionDef,
    function: Callable[..., Any],
    name: str,
    filename: str,
    line_offset: int,
    indent: int,
) -> BodyHyperparameters:
    operands = {}
    calls: list[ast.Call] = []
    for statement in definition.body:
        for node in _walk_own(statement):
            if (
                isinstance(node, ast.BinOp)
                and isinstance(node.op, ast.MatMult)
                and _is_declaration(node.left)
            ):
                operands[id(node.left)] = node.right
            if isinstance(node, ast.Call) and _is_declaration(node):
                calls.append(node)
    fields: dict[str, tuple[Any, Any]] = {}
    sites: dict[_Site, str] = {}
    unnamed = 0
    for call in sorted(calls, key=lambda node: (node.lineno, node.col_offset)):
        where = f"{name}, line {call.lineno + line_offset}: `{ast.unparse(call)}`"
        if id(call) not in operands:
            raise DefinitionError(f"{where} has no default; write `{ast.unparse(call)} @ default`.")
        named, description = _arguments(call, where)
        if named is None:
            named, unnamed = f"hparam{unnamed}", unnamed + 1
        default = _default(operands[id(call)], function, where)
        spec = (Any if default is None else type(default), Field(default, description=description))
        if named in fields and fields[named][1].default != default:
            raise DefinitionError(f"{where}: {named!r} already has the default {fields[named][1].default!r}.")
        fields[named] = spec
        sites[(filename, call.lineno + line_offset, call.col_offset + indent)] = named
    return BodyHyperparameters(fields, sites)


def _walk_own(node: ast.AST) -> Iterator[ast.AST]:
    """The nodes of a statement, skipping nested functions tracked on their own."""
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and any(
        "track_hyperparameters" in ast.unparse(decorator) for decorator in node.decorator_list
    ):
        return
    yield node
    for child in ast.iter_child_nodes(node):
        yield from _walk_own(child)


def _is_declaration(node: ast.AST) -> bool:
    if not isinstance(node, ast.Call):
        return False
    callee = node.func
    return (isinstance(callee, ast.Name) and callee.id == _NAME) or (
        isinstance(callee, ast.Attribute) and callee.attr == _NAME
    )


def _arguments(call: ast.Call, where: str) -> tuple[str | None, str | None]:
    """The name and description, which must be string literals."""
    given = {keyword.arg: keyword.value for keyword in call.keywords}
    if call.args:
        given["name"] = call.args[0]
    unknown = set(given) - {"name", "description"} or len(call.args) > 1
    if unknown:
        raise DefinitionError(f"{where}: {_NAME}() takes only a name and `description=`.")
    found: list[str | None] = []
    for key in ("name", "description"):
        node = given.get(key)
        if node is None:
            found.append(None)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.append(node.value)
        else:
            raise DefinitionError(f"{where}: the {key} must be a string literal.")
    return found[0], found[1]


def _default(node: ast.expr, function: Callable[..., Any], where: str) -> Any:
    """The default: a literal, or a module constant named by the function's globals."""
    with contextlib.suppress(ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return ast.literal_eval(node)
    if isinstance(node, ast.Name):
        namespace = getattr(function, "__globals__", {})
        if node.id in namespace:
            return namespace[node.id]
        if hasattr(builtins, node.id):
            return getattr(builtins, node.id)
    raise DefinitionError(
        f"{where}: the default `{ast.unparse(node)}` must be a literal or a module constant; "
        "for a computed default declare a `*, _name: type = default` parameter."
    )
