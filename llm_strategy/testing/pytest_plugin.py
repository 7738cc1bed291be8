"""pytest fixtures for code built on llm-strategy; enable them in `conftest.py`.

```python
pytest_plugins = ["llm_strategy.testing.pytest_plugin"]
```

- `synthetic_model`: a fresh `SyntheticChatModel` (typed answers, offline, deterministic).
- `scripted_model`: makes a `ScriptedChatModel` from replies: `scripted_model('{"return_value": 3}')`.
- `isolated_hyperparameters`: a fresh `Hyperparameters` scope around the test, so values a test
  sets (its functions' or `llm_strategy.settings`) never leak into another test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from llm_hyperparameters import Hyperparameters

from ._models import ScriptedChatModel, SyntheticChatModel

__all__ = ["isolated_hyperparameters", "scripted_model", "synthetic_model"]


@pytest.fixture
def synthetic_model() -> SyntheticChatModel:
    """A fresh `SyntheticChatModel()` that records its calls."""
    return SyntheticChatModel()


@pytest.fixture
def scripted_model() -> Callable[..., ScriptedChatModel]:
    """Make a `ScriptedChatModel` that gives these replies in order (an exception is raised instead)."""

    def make(*replies: str | BaseException) -> ScriptedChatModel:
        return ScriptedChatModel(replies=list(replies))

    return make


@pytest.fixture
def isolated_hyperparameters() -> Iterator[Hyperparameters]:
    """A fresh `Hyperparameters` scope entered for the test: set values on it, they end with the test."""
    with Hyperparameters() as scope:
        yield scope
