"""Offline test doubles: `ScriptedChatModel` (replies you choose) and `SyntheticChatModel` (typed answers)."""

from .models import RecordingChatModel, ScriptedChatModel, SyntheticChatModel
from .synthesis import synthesize

__all__ = ["RecordingChatModel", "ScriptedChatModel", "SyntheticChatModel", "synthesize"]
