"""Offline test doubles: `ScriptedChatModel` (replies you choose), `SyntheticChatModel` (typed answers),
2.2.0's record-and-replay `FakeLLM` and `FakeChatModel`, and pytest fixtures (`pytest_plugin`)."""

from ._fakes import FakeChatModel, FakeLLM
from ._models import RecordingChatModel, ScriptedChatModel, SyntheticChatModel
from ._synthesis import synthesize

__all__ = [
    "FakeChatModel",
    "FakeLLM",
    "RecordingChatModel",
    "ScriptedChatModel",
    "SyntheticChatModel",
    "synthesize",
]
