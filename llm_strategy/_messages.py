"""Messages for a text-completion model: one prompt with each message's role marked (ChatML).

A `BaseLLM` takes one string, so a conversation is joined into
`<|im_start|>user\n...<|im_end|>...<|im_start|>assistant\n`; the model's turn ends at
`END_OF_TURN`, which is passed as a stop word.
"""

from __future__ import annotations

from collections.abc import Sequence

from langchain_core.messages import BaseMessage, ChatMessage

__all__ = ["END_OF_TURN", "join_for_text_model"]

END_OF_TURN = "<|im_end|>"
"""Where a turn ends: the stop word for the model's reply."""

_ROLES = {"human": "user", "ai": "assistant", "system": "system", "tool": "tool", "function": "function"}


def join_for_text_model(messages: Sequence[BaseMessage]) -> str:
    """One prompt from the messages, each marked with its role, ending where the assistant replies.

    Example:
        ```python
        join_for_text_model([HumanMessage("Hello")])
        # '<|im_start|>user\\nHello<|im_end|><|im_start|>assistant\\n'
        ```
    """
    turns = [f"<|im_start|>{_role(message)}\n{message.text}{END_OF_TURN}" for message in messages]
    return "".join(turns) + "<|im_start|>assistant\n"


def _role(message: BaseMessage) -> str:
    if isinstance(message, ChatMessage):
        return message.role
    try:
        return _ROLES[message.type]
    except KeyError:
        raise ValueError(f"a text model cannot be sent a {message.type!r} message") from None
