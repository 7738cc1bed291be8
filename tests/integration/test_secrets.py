"""A canary secret in five places never reaches a file, W&B, a log or the optimizer's model.

The canary sits in `OPENAI_API_KEY`, in a task argument, in an LLM function's docstring, in a
`_api_key` hyperparameter, and in the error a failing OpenAI-compatible server sends back (through
the real `ChatOpenAI`). Traced calls are exported (JSON, HTML, W&B) and a meta-optimization runs
with W&B offline; then every file written, the captured output and logs, and every request the
optimizer's model received are searched for it.
"""

from __future__ import annotations

import json
import logging
import uuid
from pathlib import Path
from typing import Any

import pytest

from llm_hyperparameters import log_trace, read_run_file, trace, track_hyperparameters, write_html
from llm_strategy import LLMSettings, llm_function
from llm_strategy.errors import ProviderError
from llm_strategy.optimization import Budget, optimize_hyperparameters

from ..optimization.tasks import optimizer_replying
from .openai_server import OpenAIServer, Scripted

pytestmark = pytest.mark.integration
langchain_openai = pytest.importorskip("langchain_openai")
pytest.importorskip("wandb")


def _task(canary: str, base_url: str, keys_used: list[str]) -> tuple[Any, Any]:
    """An LLM function whose docstring holds the canary, and a task calling it with a `_api_key`."""

    def answer(model: Any, question: str) -> str:
        raise NotImplementedError

    answer.__doc__ = f"Answer the question. Our internal reference key is {canary}."
    label = uuid.uuid4().hex[:8]  # each test gets its own tracked functions
    answer.__qualname__ = f"answer_{label}"
    answer_function = llm_function(settings=LLMSettings(output_mode="prompt"))(answer)

    def ask_support(model: Any, question: str, *, _api_key: str = canary, _style: str = "plain") -> str:
        """Ask the support model; a failure comes back as text, unless the question says to fail."""
        keys_used.append(_api_key)
        client = langchain_openai.ChatOpenAI(
            model="local-model", api_key=_api_key, base_url=base_url, max_retries=0
        )
        try:
            return answer_function(client, f"{question} ({_style})")
        except ProviderError as error:
            if question.startswith("fail"):
                raise RuntimeError(f"could not answer {question!r}: {error}") from None
            return f"no answer to {question!r}: {error}"

    ask_support.__qualname__ = f"ask_support_{label}"
    return answer_function, track_hyperparameters(ask_support)


def _occurrences(canary: str, root: Path) -> dict[str, int]:
    """Every file under `root` holding the canary (a W&B run file also read record by record)."""
    found = {}
    for path in sorted(root.rglob("*")):
        if not path.is_file():
            continue
        count = path.read_bytes().count(canary.encode())
        if path.suffix == ".wandb":
            count += json.dumps(vars(read_run_file(path, wait=60)), default=repr).count(canary)
        if count:
            found[str(path.relative_to(root))] = count
    return found


@pytest.mark.parametrize("shape", ["key-shaped", "plain"])
def test_the_canary_appears_nowhere(tmp_path, monkeypatch, capfd, caplog, shape):
    canary = f"sk-canary{uuid.uuid4().hex}" if shape == "key-shaped" else f"canary{uuid.uuid4().hex}"
    monkeypatch.setenv("OPENAI_API_KEY", canary)
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_DIR", str(tmp_path / "wandb"))
    caplog.set_level(logging.DEBUG)
    keys_used: list[str] = []
    with OpenAIServer(keep_alive=True) as server:
        server.script.extend(
            Scripted(status=401, error=f"Incorrect API key provided: {canary}.") for _ in range(40)
        )
        _, task = _task(canary, server.base_url, keys_used)
        question = f"Is {canary} still valid?"

        with trace("support") as recorded:
            task(None, question)
        (tmp_path / "traces").mkdir()
        (tmp_path / "traces" / "support.json").write_text(recorded.to_json())
        write_html(recorded, tmp_path / "traces" / "support.html")
        log_trace(recorded, directory=tmp_path / "wandb-trace")

        name = task.hyperparameters.name
        suggestion = {
            "best_hyperparameters": {},
            "suggestion": "Try a formal style.",
            "task_parameters_suggestions": [{"question": "How do I rotate keys?"}],
            "hyperparameter_suggestions": [{name: {"style": "formal"}}],
        }
        optimizer = optimizer_replying([suggestion])
        result = optimize_hyperparameters(
            task,
            [{"question": question}, {"question": f"fail: {question}"}],
            optimizer_model=optimizer,
            task_model=None,
            evaluator=lambda run: float(len(run.return_value or "")),
            budget=Budget(max_steps=1),
            run_directory=tmp_path / "run",
            progress=True,
        )
    printed = capfd.readouterr()

    probe = canary[:20]  # a cut-off canary (a table cell, a truncated string) is a leak too
    leaks = {
        "files (run directory, W&B, traces)": _occurrences(probe, tmp_path),
        "stdout": printed.out.count(probe),
        "stderr": printed.err.count(probe),
        "logs": caplog.text.count(probe),
        "optimizer requests holding it": sum(
            probe in repr(request.messages) + repr(dict(request.kwargs)) for request in optimizer.requests
        ),
    }
    assert leaks == {
        "files (run directory, W&B, traces)": {},
        "stdout": 0,
        "stderr": 0,
        "logs": 0,
        "optimizer requests holding it": 0,
    }
    # the secret hyperparameter stayed in force, as the user set it, and the run did what it should
    assert keys_used == [canary] * 4 and len(server.requests) == 4
    assert len(result.history) == 3 and result.wandb_directory is not None
    assert [record.exception is not None for record in result.history] == [False, True, False]
    assert "[REDACTED]" in (result.history[1].exception or "")
    assert len(optimizer.requests) == 5  # 3 reflections, 1 suggestion, 1 probability
    # the optimizer's model never sees nor may set the secret hyperparameter
    prompts = [json.dumps([m.content for m in request.messages]) for request in optimizer.requests]
    assert not any('"api_key' in prompt or "api_key\\" in prompt for prompt in prompts)
    assert all("style" in prompt for prompt in prompts[3:])

    assert "FAILED" not in printed.err and "[REDACTED]" in printed.err
    assert any(Path(tmp_path / "run").rglob("*.wandb"))
