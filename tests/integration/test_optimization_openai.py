"""The meta-optimizer drives an async task on the real `ChatOpenAI` client against a local server."""

import pytest

from llm_strategy import LLMSettings, llm_function
from llm_strategy.optimization import optimize_hyperparameters

from ..optimization.tasks import optimizer_replying
from .openai_server import OpenAIServer, Scripted

pytestmark = pytest.mark.integration
langchain_openai = pytest.importorskip("langchain_openai")


@llm_function(settings=LLMSettings(output_mode="prompt"))
async def write_note_async(model, topic: str) -> str:
    """Write a short note about the topic."""
    raise NotImplementedError


def test_async_tasks_share_one_event_loop_and_every_run_succeeds(tmp_path):
    name = write_note_async.hyperparameters.name
    suggestion = {
        "best_hyperparameters": {},
        "suggestion": "Try two phrasings.",
        "task_parameters_suggestions": [{"topic": "owls"}, {"topic": "tides"}],
        "hyperparameter_suggestions": [
            {name: {"docstring": "Write a short, vivid note."}},
            {name: {"docstring": "Write a short, factual note."}},
        ],
    }
    with OpenAIServer(keep_alive=True) as server:
        server.script.extend(Scripted('{"return_value": "A note."}') for _ in range(40))
        model = langchain_openai.ChatOpenAI(
            model="local-model", api_key="sk-local-test", base_url=server.base_url, max_retries=0
        )
        result = optimize_hyperparameters(
            write_note_async,
            [{"topic": topic} for topic in ("bees", "ants", "moss", "rain")],
            optimizer_model=optimizer_replying([suggestion]),
            task_model=model,
            evaluator=lambda run: float(len(run.return_value or "")),
            max_steps=2,
            stop_probability=0.0,
            concurrency=4,
            run_directory=tmp_path / "run",
            wandb=False,
            progress=False,
        )
    assert len(result.history) == 4 + 4 + 0  # step 2 repeats step 1: recorded as duplicates, not run
    assert [record.exception for record in result.history] == [None] * len(result.history)
    assert all(record.return_value == "A note." for record in result.history)
    assert len(server.requests) == len(result.history)
