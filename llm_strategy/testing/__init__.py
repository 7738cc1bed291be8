"""Offline test doubles and switches for tests.

`ScriptedChatModel` (replies you choose), `SyntheticChatModel` (typed answers to any call),
`override_model` (swap the model of every LLM function in a block), `block_model_requests`
(any request to a real model raises), 2.2.0's record-and-replay `FakeLLM` and `FakeChatModel`,
and pytest fixtures (`pytest_plugins = ["llm_strategy.testing.pytest_plugin"]`).
"""

from .._switches import ModelRequestBlockedError, block_model_requests, override_model
from ._fakes import FakeChatModel, FakeLLM
from ._models import (
    RecordedRequest,
    RecordingChatModel,
    ScriptedChatModel,
    ScriptExhaustedError,
    SyntheticChatModel,
)
from ._synthesis import synthesize

__all__ = [
    "FakeChatModel",
    "FakeLLM",
    "ModelRequestBlockedError",
    "RecordedRequest",
    "RecordingChatModel",
    "ScriptExhaustedError",
    "ScriptedChatModel",
    "SyntheticChatModel",
    "block_model_requests",
    "override_model",
    "synthesize",
]
