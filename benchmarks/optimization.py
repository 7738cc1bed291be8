"""Meta-optimizer figures: step latency against its critical path (thread pool and Dask), per-step engine
overhead against history length, and characters per optimizer call."""

from __future__ import annotations

import hashlib
import json
import math
import sys
import tempfile
import time
from concurrent.futures import as_completed
from pathlib import Path
from typing import Any

from pydantic import Field
from report import Row

from llm_strategy import llm_function
from llm_strategy.optimization import optimize_hyperparameters
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


def _optimizer_reply(messages: list[Any], *, tag: str = "", probability: float = 0.5) -> str:
    """Instant optimizer replies: fixed reflections, 4 products x 2 phrasings (marked by `tag`)."""
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
                {name: {"docstring": f"Write a short tagline{tag}."}},
                {name: {"docstring": f"Write a witty tagline{tag}."}},
            ],
        }
    elif "summarize_optimization_info" in prompt:
        value = "Short taglines did as well as witty ones."
    else:
        value = {"considerations": ["c"], "probability": probability}
    return json.dumps({"return_value": value})


def _step_seconds(run_directory: Path, step: int) -> float:
    return float(
        json.loads((run_directory / "traces" / f"step-{step:03d}.json").read_text())["summary"]["duration_s"]
    )


def _one_step(directory: Path, **options: Any) -> tuple[float, int]:
    """Step 1 (suggest, 8 task runs, 8 reflections, probability) timed from its trace, and its task runs."""
    optimizer = SlowModel(replies=_optimizer_reply)
    task_model = SlowModel(replies=lambda messages: '{"return_value": "Tagline!"}')
    result = optimize_hyperparameters(
        tagline,
        [{"product": "kettles"}],
        optimizer_model=optimizer,
        task_model=task_model,
        evaluator=_one,
        max_steps=1,
        run_directory=directory,
        wandb=False,
        progress=False,
        **options,
    )
    return _step_seconds(result.run_directory, 1), sum(1 for record in result.history if record.step == 1)


def _one(run: Any) -> float:
    return 1.0


def step_latency() -> list[Row]:
    """One step's latency (best of 5 runs) against its critical path, on the thread pool and on Dask."""
    critical = 4 * LATENCY  # suggest, the task runs at once, the reflections at once, probability
    sequential = (1 + 8 + 8 + 1) * LATENCY
    baseline = f"{critical:.2f} s ({sequential:.1f} s seq.)"
    names = {"threads": "1 step, 8 task runs, 200 ms/request", "dask": "  the same on a Dask LocalCluster"}
    measured: dict[str, tuple[float, int]] = {}
    with tempfile.TemporaryDirectory() as directory:
        measured["threads"] = min(_one_step(Path(directory) / f"threads-{n}") for n in range(5))
        try:
            import distributed
        except ImportError:
            distributed = None
        if distributed is not None:
            with (
                distributed.LocalCluster(
                    n_workers=2, threads_per_worker=4, processes=True, dashboard_address=None
                ) as cluster,
                distributed.Client(cluster) as client,
            ):
                executor = client.get_executor()
                _one_step(Path(directory) / "warm", executor=executor)  # the workers import the task once
                measured["dask"] = min(
                    _one_step(Path(directory) / f"dask-{n}", executor=executor) for n in range(5)
                )
                floor = min(_bare_wave(executor) for _ in range(5))
    rows = []
    for key, (step, runs) in measured.items():
        ratio = step / critical
        rows.append(Row(names[key], f"{step:.2f} s ({runs} runs)", baseline, ratio, "<= 1.1x", ratio <= 1.1))
    if "dask" in measured:  # Dask's own cost of one wave of tasks, without the engine
        rows.append(
            Row(
                "  Dask alone: 8 bare 200 ms tasks",
                f"{floor:.2f} s",
                f"{LATENCY:.2f} s",
                floor / LATENCY,
                "(detail)",
                True,
            )
        )
    return rows


def _bare_wave(executor: Any) -> float:
    """Seconds for 8 Dask tasks that only sleep `LATENCY`, submitted and collected like the engine's jobs."""
    started = time.perf_counter()
    futures = [executor.submit(time.sleep, LATENCY, pure=False) for _ in range(8)]  # 8 tasks, not 1 cached
    for future in as_completed(futures):
        future.result()
    return time.perf_counter() - started


def _growing_reply(messages: list[Any]) -> str:
    """Every suggestion is new (tagged by the request), so each step runs 4 products x 2 phrasings."""
    tag = hashlib.sha1(messages[-1].text.encode()).hexdigest()[:8]
    return _optimizer_reply(messages, tag=f" ({tag})", probability=0.9)


def _engine_seconds(run_directory: Path, step: int) -> float:
    """A step's time outside model calls and task runs: the step minus the union of its children's spans."""
    spans = json.loads((run_directory / "traces" / f"step-{step:03d}.json").read_text())["spans"]
    root = spans[0]
    intervals = sorted(
        (span["start_time"], span["end_time"]) for span in spans if span["parent_id"] == root["id"]
    )
    covered, reach = 0.0, root["start_time"]
    for start, end in intervals:
        start = max(start, reach)
        if end > start:
            covered += end - start
            reach = end
    return root["end_time"] - root["start_time"] - covered


def overhead_by_history() -> list[Row]:
    """The engine's own time per step (8 task runs, instant models) at steps 1, 10 and 50: flat if linear.

    The engine's time is the step's time outside model calls and task runs (its bookkeeping:
    records, the best, the optimizer's view, jobs); each figure is the best of 5 steps from there
    on, over 2 runs.
    """
    seconds = {1: math.inf, 10: math.inf, 50: math.inf}
    whole = {1: math.inf, 50: math.inf}
    for _ in range(2):
        with tempfile.TemporaryDirectory() as directory:
            result = optimize_hyperparameters(
                tagline,
                [{"product": "kettles"}],
                optimizer_model=ScriptedChatModel(replies=_growing_reply),
                task_model=ScriptedChatModel(replies=lambda messages: '{"return_value": "Tagline!"}'),
                evaluator=_one,
                max_steps=54,
                stop_probability=0.0,
                run_directory=Path(directory) / "run",
                wandb=False,
                progress=False,
            )
            for step in seconds:
                measured = min(_engine_seconds(result.run_directory, n) for n in range(step, step + 5))
                seconds[step] = min(seconds[step], measured)
            for step in whole:
                whole[step] = min(whole[step], _step_seconds(result.run_directory, step))
    runs = sum(1 for record in result.history if record.step == 50)
    ratio = seconds[50] / seconds[1]
    return [
        Row(
            f"engine time/step at step 50 vs 1 ({runs} runs)",
            f"{seconds[50] * 1e3:.1f} ms",
            f"{seconds[1] * 1e3:.1f} ms (step 1)",
            ratio,
            "<= 1.5x",
            ratio <= 1.5,
        ),
        Row(
            "  at step 10",
            f"{seconds[10] * 1e3:.1f} ms",
            f"{len(result.history)} records in all",
            seconds[10] / seconds[1],
            "(detail)",
            True,
        ),
        Row(
            "  whole step 50 vs step 1 (with model calls)",
            f"{whole[50] * 1e3:.1f} ms",
            f"{whole[1] * 1e3:.1f} ms",
            whole[50] / whole[1],
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
        for path in sorted((result.run_directory / "traces").glob("step-*.json")):
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
    return [*step_latency(), *overhead_by_history(), *optimizer_characters()]
