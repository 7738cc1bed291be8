"""OPRO's linear-regression protocol (Table 2 of arXiv 2309.03409) for our optimizers and two baselines.

    make bench-optimizers MODEL=provider:model [STEPS=50] [REPEATS=5]

For each (w, b): 50 noisy points, 5 random integer starts in [10, 20], 8 proposals per step,
stop on the exact hit. Reported: steps to the hit (mean over the repetitions that hit, and how
many hit) and unique pairs explored, for OPRO, the black-box optimizer, the meta-optimizer,
random search and Nelder-Mead, the baselines getting the same number of evaluations.
Without MODEL it runs offline on the synthetic model: a smoke test whose figures mean nothing.
Then the meta-optimizer's selection rules on a synthetic task family (`benchmarks/selection.py`).
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from statistics import mean
from typing import Any

sys.path.insert(0, str(Path(__file__).parents[1] / "examples"))
from linear_regression import Problem, parse_pair, run_blackbox, run_meta, run_opro
from selection import main as selection_table

from llm_strategy import resolve_model
from llm_strategy.testing import SyntheticChatModel

PAIRS = [(15, 14), (17, 17), (16, 10), (3, 5), (25, 23), (2, 30), (36, -1)]
PAPER_GPT4_STEPS = [4.0, 6.0, 6.2, 12.2, 12.2, 38.0, 50.4]
PER_STEP = 8
Outcome = tuple[float | None, int]  # (steps to the exact hit or None, unique pairs explored)


def llm_outcome(result: Any, problem: Problem, pair_of: Callable[[Any], tuple[int, int] | None]) -> Outcome:
    """Steps until the exact hit (None without one) and unique pairs, from a search result's history."""
    target = (problem.w_true, problem.b_true)
    pairs = [(record.step, pair_of(record.x)) for record in result.history]
    hits = [step for step, pair in pairs if pair == target]
    return (float(min(hits)) if hits else None), len({pair for _, pair in pairs if pair is not None})


def meta_outcome(result: Any, problem: Problem) -> Outcome:
    target = (problem.w_true, problem.b_true)
    pairs = []
    for record in result.history:
        values = next(iter(record.hyperparameters.values()), {})
        pairs.append((record.step, (values.get("w"), values.get("b"))))
    hits = [step for step, pair in pairs if pair == target]
    return (float(min(hits)) if hits else None), len({pair for _, pair in pairs})


def random_search(problem: Problem, evaluations: int, seed: int) -> Outcome:
    """Uniform integer pairs in [-50, 50]^2 until the hit, as many evaluations as the LLM had."""
    rng = random.Random(seed)
    seen = set()
    for index in range(evaluations):
        pair = (rng.randint(-50, 50), rng.randint(-50, 50))
        seen.add(pair)
        if pair == (problem.w_true, problem.b_true):
            return index / PER_STEP, len(seen)
    return None, len(seen)


def nelder_mead(problem: Problem, evaluations: int, seed: int) -> Outcome:
    """Nelder-Mead on the loss from a random start in [10, 20]^2, rounding each point to integers."""
    from scipy.optimize import minimize

    rng = random.Random(seed)
    seen: list[tuple[int, int]] = []

    def loss(point: Any) -> float:
        pair = (round(point[0]), round(point[1]))
        seen.append(pair)
        return problem.loss(*pair)

    minimize(
        loss,
        [rng.uniform(10, 20), rng.uniform(10, 20)],
        method="Nelder-Mead",
        options={"maxfev": evaluations},
    )
    target = (problem.w_true, problem.b_true)
    hit = next((index for index, pair in enumerate(seen) if pair == target), None)
    return (None if hit is None else hit / PER_STEP), len(set(seen))


def summarize(outcomes: list[Outcome]) -> str:
    steps = [steps for steps, _ in outcomes if steps is not None]
    shown = f"{mean(steps):5.1f}" if steps else "    -"
    return f"{shown} ({len(steps)}/{len(outcomes)}) {mean(pairs for _, pairs in outcomes):6.1f}"


def main() -> None:
    model_name = os.environ.get("MODEL") or None
    offline = model_name is None
    steps = int(os.environ.get("STEPS") or (3 if offline else 50))
    repeats = int(os.environ.get("REPEATS") or 5)
    if offline:
        print("OFFLINE smoke test on SyntheticChatModel: the figures below mean nothing about real models.")
        print("Run `make bench-optimizers MODEL=provider:model` for real figures.\n")
    methods = ["opro", "blackbox", "meta", "random", "nelder-mead"]
    header = f"{'(w, b)':>9}  {'paper':>5}  " + "  ".join(f"{name:>22}" for name in methods)
    print(
        f"steps to the exact hit (hits/repeats) and unique pairs explored; {steps} steps x {PER_STEP} max\n"
    )
    print(header)
    print("-" * len(header))
    evaluations = 5 + steps * PER_STEP
    for (w, b), paper in zip(PAIRS, PAPER_GPT4_STEPS, strict=True):
        results: dict[str, list[Outcome]] = {name: [] for name in methods}
        for repeat in range(repeats):
            problem = Problem.make(w, b, seed=repeat)
            model = resolve_model(model_name) if model_name else SyntheticChatModel(seed=repeat)
            with tempfile.TemporaryDirectory() as directory:
                here = Path(directory)
                opro_result = run_opro(problem, model, "opro", steps, here)
                results["opro"].append(llm_outcome(opro_result, problem, lambda x: (x.w, x.b)))
                box = run_blackbox(problem, model, "opro", steps, here)
                results["blackbox"].append(llm_outcome(box, problem, parse_pair))
                results["meta"].append(meta_outcome(run_meta(problem, model, steps, here), problem))
            results["random"].append(random_search(problem, evaluations, repeat))
            results["nelder-mead"].append(nelder_mead(problem, evaluations, repeat))
        cells = "  ".join(f"{summarize(results[name]):>22}" for name in methods)
        print(f"{f'({w}, {b})':>9}  {paper:5.1f}  {cells}")
    print()
    selection_table()


if __name__ == "__main__":
    main()
