"""The root of definition errors, shared with `llm_strategy` (which re-exports it)."""

from __future__ import annotations

__all__ = ["DefinitionError"]


class DefinitionError(TypeError):
    """A decorated definition cannot be used as written; the message names the function and the fix."""
