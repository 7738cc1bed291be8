"""Small helpers shared by the tests."""

from llm_strategy.testing import ScriptedChatModel


def scripted(*replies):
    """A scripted model that returns `replies` in order."""
    return ScriptedChatModel(replies=list(replies))
