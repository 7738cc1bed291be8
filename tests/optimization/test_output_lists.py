"""Output lists the optimizers rely on are never empty: an empty one is rejected and asked again."""

import pytest
from pydantic import ValidationError

from llm_strategy.optimization import ImprovementProbability
from llm_strategy.optimization.blackbox import Candidate, ProposalRequest, propose_solutions

from ..helpers import scripted


def test_an_empty_proposal_is_retried():
    request = ProposalRequest(task="t", question="q", goal="maximize", best=None, recent=[], count=2)
    model = scripted('{"return_value": []}', '{"return_value": [{"reasoning": "r", "solution": "s"}]}')
    assert propose_solutions(model, request) == [Candidate(reasoning="r", solution="s")]
    assert model.calls[0][0].text.endswith("// min 1 items")
    assert "value: List should have at least 1 item after validation, not 0" in model.calls[1][-1].text


def test_improvement_probability_needs_a_consideration():
    with pytest.raises(ValidationError, match="considerations"):
        ImprovementProbability(considerations=[], probability=0.5)
    assert ImprovementProbability(considerations=["c"], probability=0.5).considerations == ["c"]
