"""Offline test doubles: `ScriptedChatModel` (replies you choose) and `SyntheticChatModel` (typed answers)."""

from ._models import RecordingChatModel, ScriptedChatModel, SyntheticChatModel
from ._synthesis import synthesize

__all__ = ["RecordingChatModel", "ScriptedChatModel", "SyntheticChatModel", "synthesize"]
