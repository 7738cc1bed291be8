"""Shared fixtures: offline models."""

import pytest

from llm_strategy.testing import SyntheticChatModel


@pytest.fixture
def synthetic():
    """A synthetic model in prompt mode: the output type is read from the prompt's outline."""
    return SyntheticChatModel(structured_output=False)


@pytest.fixture
def native_synthetic():
    """A synthetic model with native structured output: the output type is read from the JSON schema."""
    return SyntheticChatModel()
