"""Shared fixtures: offline models, and no request to a real model outside integration tests."""

import pytest

from llm_strategy.testing import SyntheticChatModel, block_model_requests


@pytest.fixture(autouse=True)
def _no_real_model_requests(request):
    """Unit tests never reach a real model; integration tests talk to local servers on purpose."""
    with block_model_requests(request.node.get_closest_marker("integration") is None):
        yield


@pytest.fixture
def synthetic():
    """A synthetic model in prompt mode: the output type comes from the request's description."""
    return SyntheticChatModel(structured_output=False)


@pytest.fixture
def native_synthetic():
    """A synthetic model with native structured output: the output type is read from the JSON schema."""
    return SyntheticChatModel()
