"""The 2.2.0 module path `llm_strategy.testing.fake_llm`: an alias of `llm_strategy.testing.FakeLLM`."""

from ._fakes import FakeLLM

__all__ = ["FakeLLM"]
