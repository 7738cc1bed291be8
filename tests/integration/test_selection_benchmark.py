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
    with OpenAIServer(respond=respond) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-local-test")
        monkeypatch.setenv("SELECTION_BUDGET", "30")
        selection_real.main("openai:local-model")
    printed = capsys.readouterr().out.splitlines()
    rows = {
        line.split("  ")[0].strip(): line.split() for line in printed if line.startswith(("(", "p", "b", "o"))
    }
    assert rows["(start)"][-1] == "0.333"  # the vague start routes everything to billing: 8 of 24 right
    for name in ("pareto", "pareto+merge", "best (greedy)", "original"):
        cells = rows[name][-6:]
        own, accuracy, evaluations = cells[0], float(cells[1]), int(cells[2])
        assert own == "-" or 0.0 <= float(own) <= 1.0
        assert 0.0 <= accuracy <= 1.0 and 12 <= evaluations <= 30 + 12
    assert all(request["model"] == "local-model" for request in server.requests)
    test_requests = [
        request for request in server.requests if request["messages"][0]["content"].startswith("route_ticket")
    ]
    assert len(test_requests) >= 5 * 24  # the start and each selection's best scored the 24 test tickets
