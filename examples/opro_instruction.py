"""OPRO optimizes an instruction: the best ones so far, with their training accuracy, propose the next.

The example makes its own data: two-step arithmetic word problems with exact answers. An
instruction's score is the task model's accuracy on the training questions when following it;
the best instruction is then measured once on held-out questions.
    .venv/bin/python examples/opro_instruction.py [--model provider:model] [--seed 0] [--steps 3]
"""

from __future__ import annotations

import contextlib
import random
from typing import Any

from common import chosen_model, example_arguments, report

from llm_strategy import llm_function
from llm_strategy.optimization import opro


@llm_function
def solve(model: Any, instruction: str, question: str) -> int:
    """Answer the question with a single integer, following the instruction."""
    raise NotImplementedError


def problems(count: int, seed: int) -> list[tuple[str, int]]:
    """Word problems like 'Ann has 12 apples, buys 3 bags of 4 more...' with their answers."""
    rng = random.Random(seed)
    made = []
    for _ in range(count):
        start, bags, per_bag, eaten = (
            rng.randint(5, 40),
            rng.randint(2, 6),
            rng.randint(2, 9),
            rng.randint(1, 5),
        )
        question = (
            f"Ann has {start} apples. She buys {bags} bags with {per_bag} apples each "
            f"and eats {eaten}. How many apples does she have?"
        )
        made.append((question, start + bags * per_bag - eaten))
    return made


def accuracy(model: Any, instruction: str, questions: list[tuple[str, int]]) -> float:
    """The share of questions answered exactly when following the instruction."""
    correct = 0
    for question, answer in questions:
        with contextlib.suppress(Exception):  # a failed answer is a wrong answer
            correct += solve(model, instruction, question) == answer
    return correct / len(questions)


def main() -> None:
    arguments = example_arguments(__doc__.splitlines()[0], steps=3)
    model = chosen_model(arguments)
    train, held_out = problems(8, seed=1), problems(20, seed=2)
    result = opro.run(
        "An instruction that makes a language model solve arithmetic word problems exactly.",
        lambda instruction: (accuracy(model, instruction, train), ""),
        ["Let's solve the problem.", "Answer the question."],
        model=model, score_range=(0, 1), candidates_per_step=4, max_steps=arguments.steps, stop_score=1.0,
        wandb=False,
    )  # fmt: skip
    report(result)
    best = result.best_x or ""
    print(f"\nBest instruction (training accuracy {result.best_score:.2f}): {best!r}")
    print(f"Held-out accuracy, measured once: {accuracy(model, best, held_out):.2f}")


if __name__ == "__main__":
    main()
