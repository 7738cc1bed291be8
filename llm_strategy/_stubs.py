"""Stub detection: is a function's body nothing but `raise NotImplementedError(...)`?

Works on bytecode, so it needs no source file and treats docstrings, comments and the
`async` prologue alike on Python 3.11 to 3.13.
"""

from __future__ import annotations

import builtins
import dis
import inspect
from collections.abc import Callable
from typing import Any

__all__ = ["is_stub", "unwrap_member"]

# Interpreter bookkeeping that carries no user logic.
_BOOKKEEPING = frozenset(
    {
        "RESUME",
        "RETURN_GENERATOR",
        "POP_TOP",
        "COPY_FREE_VARS",
        "MAKE_CELL",
        "PUSH_NULL",
        "PRECALL",
        "CACHE",
        "NOP",
        "EXTENDED_ARG",
    }
)
_LOADS = frozenset({"LOAD_GLOBAL", "LOAD_NAME", "LOAD_DEREF"})
_CALLS = frozenset({"CALL", "CALL_FUNCTION"})


def unwrap_member(member: Any) -> Callable[..., Any] | None:
    """The plain function behind a function, staticmethod, classmethod or property getter."""
    if isinstance(member, staticmethod | classmethod):
        member = member.__func__
    elif isinstance(member, property):
        member = member.fget
    return member if inspect.isfunction(member) else None


def is_stub(function: Callable[..., Any]) -> bool:
    """True when the body only raises `NotImplementedError`, with or without a message."""
    function = inspect.unwrap(function)
    if not inspect.isfunction(function):
        return False
    code = function.__code__
    if "NotImplementedError" not in code.co_names + code.co_freevars:
        return False
    meaningful = []
    for instruction in dis.get_instructions(function):
        if instruction.opname in _BOOKKEEPING:
            continue
        meaningful.append(instruction)
        if instruction.opname == "RAISE_VARARGS":
            break  # what follows is unreachable cleanup code
    if len(meaningful) < 2 or meaningful[-1].opname != "RAISE_VARARGS" or meaningful[-1].arg != 1:
        return False
    load, *middle, _ = meaningful
    if load.opname not in _LOADS or load.argval != "NotImplementedError":
        return False
    if not _names_builtin_not_implemented(function, load):
        return False
    if middle and middle[-1].opname in _CALLS:
        middle = middle[:-1]
    return all(instruction.opname == "LOAD_CONST" for instruction in middle)


def _names_builtin_not_implemented(function: Any, load: dis.Instruction) -> bool:
    """Guard against a module or closure that rebinds the name `NotImplementedError`."""
    if load.opname == "LOAD_DEREF":
        names = function.__code__.co_freevars
        if load.argval in names and function.__closure__:
            cell = function.__closure__[names.index(load.argval)]
            return bool(cell.cell_contents is NotImplementedError)
        return False
    bound = function.__globals__.get("NotImplementedError", builtins.NotImplementedError)
    return bool(bound is NotImplementedError)
