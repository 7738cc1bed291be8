"""The 2.2.0 module path `llm_strategy.testing.fake_chat_model`: an alias of `FakeChatModel`."""

from ._fakes import FakeChatModel

__all__ = ["FakeChatModel"]
