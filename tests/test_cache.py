"""The SQLite response cache: off by default, one line to enable, survives a new process."""

import subprocess
import sys

from langchain_core.globals import get_llm_cache, set_llm_cache

from llm_strategy import SQLiteResponseCache, enable_response_cache, llm_function

from .helpers import scripted


@llm_function
def add(model, a: int, b: int) -> int:
    """Add two numbers."""
    raise NotImplementedError


def test_cache_is_off_by_default():
    assert get_llm_cache() is None


def test_repeated_requests_are_answered_from_the_file(tmp_path):
    path = tmp_path / "responses.sqlite"
    try:
        cache = enable_response_cache(path)
        model = scripted('{"return_value": 3}', '{"return_value": 99}')
        assert add(model, 1, 2) == 3
        assert add(model, 1, 2) == 3  # same request: cached, the model is not called again
        assert len(model.calls) == 1 and len(cache) == 1
        assert add(model, 2, 2) == 99
        assert len(model.calls) == 2
    finally:
        set_llm_cache(None)


def test_cache_persists_across_processes(tmp_path):
    path = tmp_path / "responses.sqlite"
    cache = SQLiteResponseCache(path)
    model = scripted('{"return_value": 3}').model_copy(update={"cache": cache})
    assert add(model, 1, 2) == 3
    script = f"""
from llm_strategy import SQLiteResponseCache, llm_function
from llm_strategy.testing import ScriptedChatModel

@llm_function
def add(model, a: int, b: int) -> int:
    '''Add two numbers.'''
    raise NotImplementedError

model = ScriptedChatModel(replies=[], cache=SQLiteResponseCache({str(path)!r}))
print(add(model, 1, 2), len(model.calls))
"""
    output = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert output.split() == ["3", "0"]
    cache.clear()
    assert len(cache) == 0
