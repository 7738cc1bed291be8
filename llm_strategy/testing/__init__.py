"""Offline test doubles: `ScriptedChatModel` (replies you choose) and `SyntheticChatModel` (typed answers)."""

from ._models import (
    RecordedRequest,
    RecordingChatModel,
    ScriptedChatModel,
    ScriptExhaustedError,
    SyntheticChatModel,
)
from ._synthesis import synthesize

__all__ = [
    "RecordedRequest",
    "RecordingChatModel",
    "ScriptExhaustedError",
    "ScriptedChatModel",
    "SyntheticChatModel",
    "synthesize",
]
