"""Stub detection on bytecode, through the decorators, and on every Python 3.11+ interpreter at hand."""

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from llm_strategy import DefinitionError, LLMFunction, llm_function, llm_strategy

from .helpers import scripted


def with_docstring(x: int) -> int:
    """Docstring."""
    raise NotImplementedError()


def bare_class(x: int) -> int:
    raise NotImplementedError


def with_message(x: int) -> int:
    """Docstring."""
    raise NotImplementedError("the model implements this")


async def async_stub(x: int) -> int:
    """Docstring."""
    raise NotImplementedError()


def with_comment(x: int) -> int:
    # a comment is not code
    raise NotImplementedError()


def real_code(x: int) -> int:
    """Docstring."""
    return x + 1


def code_then_raise(x: int) -> int:
    print(x)
    raise NotImplementedError()


def other_exception(x: int) -> int:
    raise ValueError()


def ellipsis_body(x: int) -> int: ...


def conditional_raise(x: int) -> int:
    if x:
        raise NotImplementedError()
    return x


def formatted_message(x: int) -> int:
    raise NotImplementedError(f"no {x}")


def shadowed():
    NotImplementedError = ValueError

    def inner() -> None:
        raise NotImplementedError()

    return inner


@pytest.mark.parametrize("function", [with_docstring, with_message, async_stub])
def test_stubs_are_recognized(function):
    assert isinstance(llm_function(function), LLMFunction)


@pytest.mark.parametrize("function", [bare_class, with_comment])
def test_stubs_without_a_docstring_pass_the_stub_check_and_ask_for_one(function):
    with pytest.raises(DefinitionError, match=f"^{function.__name__}: a docstring is required"):
        llm_function(function)


@pytest.mark.parametrize(
    "function",
    [
        real_code,
        code_then_raise,
        other_exception,
        ellipsis_body,
        conditional_raise,
        formatted_message,
        shadowed(),
    ],
)
def test_code_is_not_a_stub(function):
    with pytest.raises(DefinitionError, match=f"^{function.__name__}: the body has code"):
        llm_function(function)


@dataclass
class Polygon:
    sides: int
    limit = 42

    @staticmethod
    def name_of(sides: int) -> str:
        """The name of a polygon with this many sides."""
        raise NotImplementedError

    @classmethod
    def most_sides(cls) -> int:
        """The most sides a named polygon has."""
        raise NotImplementedError

    @property
    def angle_sum(self) -> int:
        """The sum of the interior angles in degrees."""
        raise NotImplementedError

    def perimeter(self, side: float) -> float:
        return self.sides * side


def test_stub_members_are_unwrapped_and_implemented_and_the_rest_stays():
    model = scripted('{"return_value": "pentagon"}', '{"return_value": 10}', '{"return_value": 540}')
    Strategy = llm_strategy(model)(Polygon)
    assert Strategy.name_of(5) == "pentagon"
    assert Strategy.most_sides() == 10
    assert Strategy(5).angle_sum == 540
    assert Strategy(5).perimeter(2.0) == 10.0 and Strategy.limit == 42
    assert len(model.calls) == 3


PROBE = """
import importlib.util, sys
spec = importlib.util.spec_from_file_location("stubs", sys.argv[1])
stubs = importlib.util.module_from_spec(spec)
spec.loader.exec_module(stubs)
def a():
    '''doc'''
    raise NotImplementedError()
def b():
    raise NotImplementedError("msg")
async def c():
    raise NotImplementedError
def d():
    return 1
def e():
    x = 1
    raise NotImplementedError()
print([stubs.is_stub(f) for f in (a, b, c, d, e)])
"""

OTHER_PYTHONS = sorted(
    {
        str(path)
        for version in ("3.12", "3.13")
        for path in Path("/root/.pyenv/versions").glob(f"{version}*/bin/python{version}")
    }
)


@pytest.mark.skipif(not OTHER_PYTHONS, reason="no other Python 3.12/3.13 interpreter on this machine")
@pytest.mark.parametrize("python", OTHER_PYTHONS or [sys.executable])
def test_stub_detection_on_other_interpreters(python, tmp_path):
    module = Path(__file__).parents[1] / "llm_strategy" / "_stubs.py"
    result = subprocess.run([python, "-c", PROBE, str(module)], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[True, True, True, False, False]"
