"""Offline test doubles and switches for tests.

`ScriptedChatModel` (replies you choose), `SyntheticChatModel` (typed answers to any call),
`override_model` (swap the model of every LLM function in a block) and `block_model_requests`
(any request to a real model raises).
"""

from .._models import ModelRequestBlockedError, block_model_requests, override_model
from ._models import (
    RecordedRequest,
    RecordingChatModel,
    ScriptedChatModel,
    ScriptExhaustedError,
    SyntheticChatModel,
)
from ._synthesis import synthesize

__all__ = [
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
