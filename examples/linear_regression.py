"""Linear regression with an LLM as optimizer: fit integer (w, b) with each optimizer of the library.

The seeds' shared toy problem: 50 points from y = w_true * x + b_true + noise. Two stopping
protocols: OPRO's (stop on the exact hit (w_true, b_true)) and the seed article's (stop once
the last 3 losses are all below 1).
    .venv/bin/python examples/linear_regression.py [--model provider:model] [--w 15 --b 14] [--steps 10]
        [--optimizer opro|blackbox|meta|textgrad|all] [--protocol opro|seed]
"""

from __future__ import annotations

import argparse
import os
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from llm_hyperparameters import track_hyperparameters
from llm_strategy import resolve_model
from llm_strategy.optimization import Evaluated, blackbox, opro, optimize_hyperparameters
from llm_strategy.optimization import textgrad as tg
from llm_strategy.testing import SyntheticChatModel

TASK = "Find integers w and b so that y = w * x + b fits the data: the lowest mean squared error."


class Pair(BaseModel):
    """Candidate coefficients."""

    w: int = Field(description="The slope.")
    b: int = Field(description="The intercept.")


@dataclass(frozen=True)
class Problem:
    """50 noisy points on a line, and the mean squared error of a candidate."""

    w_true: int
    b_true: int
    xs: tuple[float, ...]
    ys: tuple[float, ...]
    seed: int = 0

    @classmethod
    def make(cls, w_true: int, b_true: int, seed: int = 0, points: int = 50, noise: float = 1.0) -> Problem:
        """`points` x in [-1, 1], y on the line plus Gaussian noise of standard deviation `noise`."""
        rng = random.Random(seed)
        xs = tuple(rng.uniform(-1, 1) for _ in range(points))
        ys = tuple(w_true * x + b_true + rng.gauss(0, noise) for x in xs)
        return cls(w_true, b_true, xs, ys, seed)

    def loss(self, w: float, b: float) -> float:
        """The mean squared error of y = w * x + b over the points."""
        return sum((y - (w * x + b)) ** 2 for x, y in zip(self.xs, self.ys, strict=True)) / len(self.xs)

    def starts(self, count: int = 5) -> list[Pair]:
        """Random integer starting pairs in [10, 20], as in OPRO's protocol (from the problem's seed)."""
        rng = random.Random(self.seed + 1)
        return [Pair(w=rng.randint(10, 20), b=rng.randint(10, 20)) for _ in range(count)]


def stop_condition(problem: Problem, protocol: str) -> Any:
    """OPRO: stop on the exact hit. The seed article: stop once the last 3 losses are below 1."""
    if protocol == "opro":
        return lambda history: any(_pair(item.x) == (problem.w_true, problem.b_true) for item in history)

    def last_three_below_one(history: Sequence[Evaluated[Any]]) -> bool:
        losses = [item.score for item in history if item.score is not None][-3:]
        return len(losses) == 3 and all(loss < 1 for loss in losses)

    return last_three_below_one


def _pair(x: Any) -> tuple[int, int] | None:
    if isinstance(x, Pair):
        return x.w, x.b
    parsed = parse_pair(x) if isinstance(x, str) else None
    return parsed


def parse_pair(text: str) -> tuple[int, int] | None:
    """`w=15, b=14` (or `(15, 14)`) as a pair; None when the text has no two integers."""
    named = re.search(r"w\s*[=:]\s*(-?\d+).*?b\s*[=:]\s*(-?\d+)", text, re.IGNORECASE | re.DOTALL)
    if named:
        return int(named.group(1)), int(named.group(2))
    numbers = re.findall(r"-?\d+", text)
    return (int(numbers[0]), int(numbers[1])) if len(numbers) >= 2 else None


def run_opro(problem: Problem, model: Any, protocol: str, steps: int, directory: Path | None) -> Any:
    """OPRO with typed (w, b) solutions, 8 proposals per step, minimizing the loss."""
    return opro.run(
        TASK,
        lambda pair: (problem.loss(pair.w, pair.b), ""),
        problem.starts(),
        model=model,
        solution_type=Pair,
        direction="minimize",
        candidates_per_step=8,
        stop_when=stop_condition(problem, protocol),
        max_steps=steps,
        run_directory=directory / "opro" if directory else None,
        wandb=False,
        progress=False,
    )


def run_blackbox(problem: Problem, model: Any, protocol: str, steps: int, directory: Path | None) -> Any:
    """The black-box optimizer on text 'w=.., b=..'; text without two integers is a recorded failure."""

    def f(text: str) -> tuple[float, str]:
        pair = parse_pair(text)
        if pair is None:
            raise ValueError("write the solution as 'w=<integer>, b=<integer>'")
        loss = problem.loss(*pair)
        return loss, f"mean squared error {loss:.3f}"

    starts = [f"w={pair.w}, b={pair.b}" for pair in problem.starts()]
    return blackbox.run(
        TASK,
        "Propose w and b as 'w=<integer>, b=<integer>'.",
        f,
        starts,
        None,
        steps,
        model,
        direction="minimize",
        candidates_per_step=8,
        stop_when=stop_condition(problem, protocol),
        run_directory=directory / "blackbox" if directory else None,
        wandb=False,
        progress=False,
    )


def run_textgrad(problem: Problem, model: Any, steps: int, directory: Path | None) -> Any:
    """Textual gradients on the text 'w=.., b=..': the measured loss is the critique that flows back."""
    start = problem.starts()[0]
    pair = tg.Variable(f"w={start.w}, b={start.b}", role="the coefficients w and b", requires_grad=True)

    def measured(text: str) -> float:
        parsed = parse_pair(text)
        return problem.loss(*parsed) if parsed else float("inf")

    def forward(step: int) -> tg.Variable:
        loss = measured(pair.value)
        critique = f"The mean squared error of {pair.value} is {loss:.3f}; lower is better."
        return tg.Variable(critique, role="the measured error", predecessors=[pair], kind="loss")

    return tg.run(
        [pair],
        forward,
        model=model,
        max_steps=steps,
        evaluate=lambda: -measured(pair.value),
        constraints=["Write exactly 'w=<integer>, b=<integer>'."],
        name="linear regression",
        run_directory=directory / "textgrad" if directory else None,
        wandb=False,
        progress=False,
    )


class Dataset(BaseModel):
    """Which data to fit (one fixed dataset here)."""

    name: str = Field(description="The dataset's name.")


def run_meta(problem: Problem, model: Any, steps: int, directory: Path | None) -> Any:
    """The meta-optimizer on a tracked function whose hyperparameters are w and b."""

    @track_hyperparameters
    def line(model: Any, name: str, *, _w: int = 0, _b: int = 0) -> float:
        """Predict with y = w * x + b and return the mean squared error on the dataset."""
        return problem.loss(_w, _b)

    return optimize_hyperparameters(
        line,
        [Dataset(name="50 noisy points")],
        optimizer_model=model,
        task_model=None,
        evaluator=lambda run: (-run.return_value, f"mean squared error {run.return_value:.3f}"),
        max_steps=steps,
        stop_probability=0.0,
        run_directory=directory / "meta" if directory else None,
        wandb=False,
        progress=False,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--model", default=os.environ.get("LLM_STRATEGY_MODEL"), help="provider:model (default: offline)"
    )
    parser.add_argument(
        "--optimizer",
        choices=["opro", "blackbox", "meta", "textgrad", "all"],
        default="all",
        help="which optimizer to run (default: all, one after the other)",
    )
    parser.add_argument(
        "--protocol",
        choices=["opro", "seed"],
        default="opro",
        help="stop on the exact hit (opro) or once the last 3 losses are below 1 (seed); default: opro",
    )
    parser.add_argument("--w", type=int, default=15, help="the true slope w (default: 15)")
    parser.add_argument("--b", type=int, default=14, help="the true intercept b (default: 14)")
    parser.add_argument("--steps", type=int, default=10, help="optimization steps (default: 10)")
    arguments = parser.parse_args()
    model = resolve_model(arguments.model) if arguments.model else SyntheticChatModel(seed=1)
    if not arguments.model:
        print(
            "Offline: SyntheticChatModel proposes valid but random pairs; "
            "set LLM_STRATEGY_MODEL for a real run."
        )
    # the seed article's "last 3 losses below 1" needs noise below 1: the best loss is the noise variance
    problem = Problem.make(arguments.w, arguments.b, noise=1.0 if arguments.protocol == "opro" else 0.5)
    print(
        f"True line: w={problem.w_true}, b={problem.b_true}; "
        f"loss there {problem.loss(problem.w_true, problem.b_true):.3f}"
    )
    chosen = (
        ["opro", "blackbox", "meta", "textgrad"] if arguments.optimizer == "all" else [arguments.optimizer]
    )
    for name in chosen:
        if name == "textgrad":
            result = run_textgrad(problem, model, arguments.steps, None)
            best = next(iter(result.best_values.values()))
            print(f"textgrad: best {best}, loss {-(result.best_score or 0):.3f}, {result.steps} steps")
        elif name == "meta":
            result = run_meta(problem, model, arguments.steps, None)
            best = result.best_hyperparameters.model_dump()
            print(
                f"meta:     best {best}, loss {-(result.best_score or 0):.3f}, "
                f"{result.steps} steps, {result.stop_reason}"
            )
        else:
            runner = run_opro if name == "opro" else run_blackbox
            result = runner(problem, model, arguments.protocol, arguments.steps, None)
            unique = len({str(record.x) for record in result.history})
            print(
                f"{name + ':':9} best {result.best_x}, loss {result.best_score:.3f}, {result.steps} steps, "
                f"{unique} unique pairs, {result.stop_reason}"
            )
        print(f"          run directory: {result.run_directory}")


if __name__ == "__main__":
    main()
