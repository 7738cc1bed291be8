"""The selection benchmark's real-task mode (`MODEL=provider:model`), end to end through the real
`ChatOpenAI` client against a local OpenAI-compatible server that answers every request."""

import json
import random
import sys
from pathlib import Path

import pytest

from llm_strategy.testing import synthesize

from .openai_server import OpenAIServer, Scripted

pytestmark = pytest.mark.integration
pytest.importorskip("langchain_openai")
sys.path.insert(0, str(Path(__file__).parents[2] / "benchmarks"))
import selection_real  # noqa: E402


def respond(body):
    """Native requests get a valid value of their schema; the router answers from its instructions."""
    rng = random.Random(json.dumps(body["messages"], sort_keys=True))
    form = body.get("response_format") or {}
    if form.get("type") == "json_schema":
        return Scripted(json.dumps(synthesize(form["json_schema"]["schema"], rng)))
    system = body["messages"][0]["content"]
    if system.startswith("route_ticket"):
        team = "shipping" if "returns desk" in system else "billing"
        return Scripted(json.dumps({"return_value": team}))
    return Scripted("Refunds go to the returns desk.")


def test_the_real_task_mode_runs_every_selection_and_scores_the_test_set_once(monkeypatch, capsys):
    train, validation, test = selection_real.splits(random.Random(0), 12, 12, 24)  # the harness's own
    held_out = {ticket["message"] for ticket in test}
    assert len(held_out) == 24 and not held_out & {ticket["message"] for ticket in train + validation}
    with OpenAIServer(respond=respond) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-local-test")
        monkeypatch.setenv("SELECTION_BUDGET", "30")
        selection_real.main("openai:local-model")
    printed = capsys.readouterr().out.splitlines()
    rows = {line[:14].strip(): line[14:].split() for line in printed[3:8]}
    assert list(rows) == ["(start)", "pareto", "pareto+merge", "best (greedy)", "original"]
    assert rows["(start)"] == ["-", "0.333"]  # the vague start routes everything to billing: 8 of 24
    for name in ("pareto", "pareto+merge", "best (greedy)", "original"):
        own, accuracy, evaluations, calls, tokens, cost = rows[name]
        assert own == "-" or 0.0 <= float(own) <= 1.0
        assert accuracy == "0.333"  # the local model never learns the rules; the plumbing is what is tested
        assert 12 <= int(evaluations) <= 30 + 18  # a Pareto step may overshoot by 3 + 3 + 12
        assert int(calls) > int(evaluations) and int(tokens) > 0 and float(cost) == 0.0  # unpriced model
    assert all(request["model"] == "local-model" for request in server.requests)
    scored = [
        json.loads(request["messages"][-1]["content"])["message"]
        for request in server.requests
        if request["messages"][0]["content"].startswith("route_ticket")
    ]
    assert sum(message in held_out for message in scored) == 5 * 24  # each test ticket once per row


def test_a_model_that_answers_nothing_ends_the_benchmark_with_the_reason(monkeypatch):
    with OpenAIServer(respond=lambda body: Scripted(status=400, error="model 'nope' not found")) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-local-test")
        with pytest.raises(
            SystemExit, match="every held-out request failed \\(check MODEL and its API key\\)"
        ):
            selection_real.main("openai:nope")
    assert len(server.requests) <= 24 * 3  # the start's 24 tickets (the client retries twice), nothing more
