"""Meta-optimizer figures: step latency against its critical path, and characters per optimizer call."""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from pydantic import Field
from report import Row

from llm_strategy import llm_function
from llm_strategy.optimization import Budget, optimize_hyperparameters
from llm_strategy.testing import ScriptedChatModel

sys.path.insert(0, str(Path(__file__).parents[1] / "examples"))
from meta_optimization import optimize_essays

LATENCY = 0.2
ORIGINAL_CHARACTERS = (7_000, 12_600)


@llm_function
def tagline(model, product: str = Field(..., description="The product.")) -> str:
    """Write a tagline for the product."""
    raise NotImplementedError


class SlowModel(ScriptedChatModel):
    """Answers every request after a fixed latency; prompt mode."""

    def _generate(self, messages: Any, stop: Any = None, run_manager: Any = None, **kwargs: Any) -> Any:
        time.sleep(LATENCY)
        return super()._generate(messages, stop, run_manager, **kwargs)


def _optimizer_reply(messages: list[Any]) -> str:
    prompt = messages[0].text
    name = tagline.hyperparameters.name
    if "reflect_on_task_run" in prompt:
        value: Any = {
            "feedback": "f",
            "evaluation": "e",
            "hyperparameter_suggestion": "s",
            "hyperparameter_missing": "m",
        }
    elif "suggest_next_optimization_step" in prompt:
        value = {
            "best_hyperparameters": {},
            "suggestion": "Try two phrasings on four products.",
            "task_parameters_suggestions": [{"product": p} for p in ("tea", "bikes", "maps", "socks")],
            "hyperparameter_suggestions": [
                {name: {"docstring": "Write a short tagline."}},
                {name: {"docstring": "Write a witty tagline."}},
            ],
        }
    else:
        value = {"considerations": ["c"], "probability": 0.5}
    return json.dumps({"return_value": value})


def step_latency() -> list[Row]:
    """Step 1 (suggest, 8 task runs, 8 reflections, probability) timed from its trace, against 4 requests."""
    optimizer = SlowModel(replies=_optimizer_reply)
    task_model = SlowModel(replies=lambda messages: '{"return_value": "Tagline!"}')
    with tempfile.TemporaryDirectory() as directory:
        start = time.perf_counter()
        result = optimize_hyperparameters(
            tagline, [{"product": "kettles"}], optimizer_model=optimizer, task_model=task_model,
            evaluator=lambda run: 1.0, budget=Budget(max_steps=1), run_directory=Path(directory) / "run",
            wandb=False, progress=False,
        )  # fmt: skip
        whole = time.perf_counter() - start
        step = json.loads((result.run_directory / "traces" / "step-001.json").read_text())["summary"][
            "duration_s"
        ]
    runs = sum(1 for record in result.history if record.step == 1)
    critical = 4 * LATENCY  # suggest, the task runs at once, the reflections at once, probability
    sequential = (1 + 8 + 8 + 1) * LATENCY
    ratio = step / critical
    label = f"{step:.2f} s ({runs} runs)"
    baseline = f"{critical:.2f} s ({sequential:.1f} s seq.)"
    return [
        Row("1 step, 8 task runs, 200 ms/request", label, baseline, ratio, "<= 1.5x", ratio <= 1.5),
        Row(
            "  the whole run: seeds, step 1, plot",
            f"{whole:.2f} s",
            "6 requests: 1.20 s",
            whole / 1.2,
            "(detail)",
            True,
        ),
    ]


def optimizer_characters() -> list[Row]:
    from llm_strategy.testing import SyntheticChatModel

    model = SyntheticChatModel(seed=7)
    sizes: dict[str, list[int]] = {}
    with tempfile.TemporaryDirectory() as directory:
        result = optimize_essays(
            model, 3, Path(directory) / "run", stop_probability=0.0, wandb=False, progress=False
        )
        for path in sorted((result.run_directory / "traces").glob("*.json")):
            spans = json.loads(path.read_text())["spans"]
            parents = {span["id"]: span for span in spans}
            for span in spans:
                parent = parents.get(span["parent_id"] or "")
                if span["kind"] == "llm" and parent and parent["name"].startswith("LLMOptimizer."):
                    characters = sum(len(str(message["content"])) for message in span["inputs"]["messages"])
                    sizes.setdefault(parent["name"].split(".", 1)[1], []).append(characters)
    low, high = ORIGINAL_CHARACTERS
    everything = [size for values in sizes.values() for size in values]
    ratio = max(min(everything) / low, max(everything) / high)
    rows = [
        Row(
            "chars per optimizer call (all)",
            f"{min(everything)}-{max(everything)}",
            f"{low}-{high} (original)",
            ratio,
            "<= 0.5x",
            ratio <= 0.5,
        )
    ]
    for name, values in sorted(sizes.items()):
        share = max(values) / high
        rows.append(
            Row(f"  {name}", f"{min(values)}-{max(values)}", f"{len(values)} calls", share, "(detail)", True)
        )
    return rows


def optimization_rows() -> list[Row]:
    """The meta-optimizer's rows of the report."""
    return [*step_latency(), *optimizer_characters()]
