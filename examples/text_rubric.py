"""Optimize a text against a rubric, graded by an LLM judge (llm_optimize's text example).

.venv/bin/python examples/text_rubric.py [--model provider:model] [--seed 0] [--steps 3]
"""

from __future__ import annotations

from common import chosen_model, example_arguments, report

from llm_strategy.optimization import blackbox, judge

RUBRIC = """A product description for a reusable water bottle. Full marks when it:
1. names three concrete benefits (2 points each),
2. is between 40 and 80 words (2 points),
3. ends with a call to action (2 points)."""
START = "This is a bottle. It holds water."


def main() -> None:
    arguments = example_arguments(__doc__.splitlines()[0], steps=3)
    model = chosen_model(arguments)
    result = blackbox.run(
        "Write a product description that meets the rubric.",
        f"Improve the description. The rubric:\n{RUBRIC}",
        judge.rubric_scorer(RUBRIC, model, lowest=0, highest=10),
        START, 10, arguments.steps, model, wandb=False,
    )  # fmt: skip
    report(result)
    print(f"\nBest score {result.best_score} ({result.stop_reason}):\n{result.best_x}")


if __name__ == "__main__":
    main()
