"""Meta-optimization of an essay writer: the original llm-strategy example, with a measured evaluator.

The optimizer reflects on each essay, suggests new instructions (the docstring and descriptions
of `write_essay`, which are tracked hyperparameters) and new topics, runs every pair, and keeps
the instructions whose essays score best.
    .venv/bin/python examples/meta_optimization.py [--model provider:model] [--steps 2] [--out runs/essays]
        [--resume | --overwrite]

Without `--resume` a previous run in `--out` is deleted first (it says so), except a finished run
made with a real model: that one is kept unless `--overwrite` is given.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from llm_strategy import llm_function, resolve_model
from llm_strategy.optimization import Budget, OptimizationResult, TaskRun, optimize_hyperparameters
from llm_strategy.testing import SyntheticChatModel


class EssayTask(BaseModel):
    """What to write about."""

    essay_topic: str = Field(description="The essay topic.")


@llm_function
def write_essay(model, essay_topic: str = Field(..., description="The essay topic.")) -> str:
    """Write an essay at the level of an Oxford undergraduate student.
    Please include a title and multiple paragraphs."""
    raise NotImplementedError()


TOPICS = ["The ethics of gene editing", "Why cities need trees", "The history of the printing press"]
TARGET_WORDS = 350


def score_essay(run: TaskRun[EssayTask, str, BaseModel]) -> tuple[float, str]:
    """A measurable rubric: a title, several paragraphs, about 350 words, on topic (each 0.25)."""
    text = (run.return_value or "").strip()
    if not text:
        return 0.0, "no essay (the task failed)"
    lines = [line for line in text.splitlines() if line.strip()]
    paragraphs = [block for block in re.split(r"\n\s*\n", text) if block.strip()]
    words = len(text.split())
    topic_words = {word.lower() for word in re.findall(r"\w{4,}", run.task_parameters.essay_topic)}
    has_title = bool(lines) and len(lines[0].split()) <= 12 and not lines[0].rstrip().endswith(".")
    on_topic = len(topic_words & {word.lower() for word in re.findall(r"\w{4,}", text)}) / max(
        len(topic_words), 1
    )
    length = max(0.0, 1 - abs(words - TARGET_WORDS) / TARGET_WORDS)
    parts = {
        "title": 0.25 * has_title,
        "paragraphs": 0.25 * min(len(paragraphs), 4) / 4,
        "length": 0.25 * length,
        "topic": 0.25 * on_topic,
    }
    feedback = (
        f"{words} words, {len(paragraphs)} paragraphs, title: {has_title}, topic words used: {on_topic:.0%}"
    )
    return round(sum(parts.values()), 4), feedback


def optimize_essays(model: Any, steps: int, run_directory: str | Path, **options: Any) -> OptimizationResult:
    """Optimize `write_essay` over the topics with the rubric; `options` go to the optimizer."""
    return optimize_hyperparameters(
        write_essay,
        [EssayTask(essay_topic=topic) for topic in TOPICS],
        optimizer_model=model,
        task_model=model,
        evaluator=score_essay,
        max_steps=steps,
        budget=Budget(max_seconds=600),
        run_directory=run_directory,
        **options,
    )


REAL_MODEL_MARK = "finished-with-model.txt"
"""Written into the run directory when a run with a real model finished: such a run is kept."""


def clear_run_directory(directory: Path, *, overwrite: bool) -> None:
    """Delete a previous run in `directory`, saying so; a finished real-model run needs `overwrite`."""
    if not directory.exists():
        return
    mark = directory / REAL_MODEL_MARK
    if mark.exists() and not overwrite:
        model = mark.read_text(encoding="utf-8")
        raise SystemExit(
            f"{directory} holds a finished run made with {model}; keeping it. Pass --resume to continue "
            f"it, --overwrite to replace it, or --out for another directory."
        )
    print(f"Deleting the previous run in {directory} (pass --resume to continue it instead).")
    shutil.rmtree(directory)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--model",
        default=os.environ.get("LLM_STRATEGY_MODEL"),
        help="provider:model, e.g. openai:gpt-4o-mini (default: $LLM_STRATEGY_MODEL, else offline)",
    )
    parser.add_argument(
        "--steps", type=int, default=2, help="optimization steps after the seed runs (default: 2)"
    )
    parser.add_argument("--out", default="runs/essays", help="the run directory (default: runs/essays)")
    replace = parser.add_mutually_exclusive_group()
    replace.add_argument("--resume", action="store_true", help="continue the run in --out")
    replace.add_argument(
        "--overwrite", action="store_true", help="replace a finished run of a real model in --out"
    )
    arguments = parser.parse_args()
    if arguments.model:
        model = resolve_model(arguments.model)
        print(f"Optimizer and task model: {arguments.model}")
    else:
        model = SyntheticChatModel(seed=7)
        print(
            "No model configured: running OFFLINE on SyntheticChatModel, which answers every call with\n"
            "a valid but made-up value. The loop, checkpoints, W&B run and trace pages are all real;\n"
            "the essays and reflections are not. Set LLM_STRATEGY_MODEL=provider:model\n"
            "(e.g. openai:gpt-4o-mini) for a real run.\n"
        )
    if not arguments.resume:
        clear_run_directory(Path(arguments.out), overwrite=arguments.overwrite)
    result = optimize_essays(model, arguments.steps, arguments.out, resume=arguments.resume)
    if arguments.model:
        (Path(arguments.out) / REAL_MODEL_MARK).write_text(arguments.model, encoding="utf-8")
    if result.failed:  # the summary above ends with the first error
        raise SystemExit(1)
    best = result.best_hyperparameters[write_essay]
    score = "-" if result.best_score is None else f"{result.best_score:.4f}"
    print(f"\nBest instructions for write_essay (score {score}):")
    print(f"  docstring: {best.docstring!r}")
    print(f"  descriptions: {best.descriptions}")
    print(f"\nRun directory:  {result.run_directory}")
    print(f"Score plot:     {result.plot}")
    print(f"Trace pages:    {result.trace_page}")
    if result.wandb_directory is not None:
        print(f"W&B run:        {result.wandb_directory} (offline runs: wandb sync {result.wandb_directory})")


if __name__ == "__main__":
    main()
