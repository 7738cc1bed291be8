"""async stubs await the model's async API; many calls run concurrently."""

import asyncio
import json
import time
from typing import Any

from langchain_core.outputs import ChatResult

from llm_strategy import llm_function, llm_strategy
from llm_strategy.testing import ScriptedChatModel


def _sum_reply(messages: list[Any]) -> str:
    arguments = json.loads(messages[-1].text)
    return json.dumps({"return_value": arguments["a"] + arguments["b"]})


class SlowAsyncModel(ScriptedChatModel):
    """Answers `a + b` after a delay; only the async path sleeps without blocking."""

    delay: float = 0.2
    replies: Any = staticmethod(_sum_reply)

    async def _agenerate(self, messages, stop=None, run_manager=None, **kwargs: Any) -> ChatResult:
        await asyncio.sleep(self.delay)
        return self._generate(messages, stop, run_manager, **kwargs)


@llm_function
async def add(model, a: int, b: int) -> int:
    """Add two numbers."""
    raise NotImplementedError


@llm_function
def add_sync(model, a: int, b: int) -> int:
    """Add two numbers."""
    raise NotImplementedError


async def test_async_stub_is_awaitable():
    model = SlowAsyncModel(delay=0)
    assert await add(model, 1, 2) == 3


async def test_gather_runs_calls_concurrently():
    model = SlowAsyncModel(delay=0.2)
    start = time.perf_counter()
    results = await asyncio.gather(*(add(model, i, i) for i in range(10)))
    elapsed = time.perf_counter() - start
    assert results == [2 * i for i in range(10)]
    assert elapsed < 1.0  # sequentially it would take 2 s
    assert len(model.calls) == 10


async def test_sync_stubs_have_acall():
    model = SlowAsyncModel(delay=0)
    assert await add_sync.acall(model, 2, 3) == 5


async def test_async_strategy_methods():
    from dataclasses import dataclass

    @llm_strategy(SlowAsyncModel(delay=0))
    @dataclass
    class Calculator:
        offset: int

        async def add(self, a: int, b: int) -> int:
            """Add two numbers."""
            raise NotImplementedError

    assert await Calculator(0).add(4, 5) == 9
