"""Textual gradients: improve a solution, then a system prompt over minibatches of questions.

.venv/bin/python examples/textgrad_demo.py [--model provider:model] [--seed 0] [--steps 2]
"""

from __future__ import annotations

import random
from typing import Any

from common import chosen_model, example_arguments, report
from opro_instruction import problems

from llm_strategy.optimization import textgrad as tg


def improve_solution(model: Any, steps: int) -> tg.TextGradResult:
    """Optimize one answer against an LLM-judged loss."""
    question = "Why is the sky blue? Answer in at most two sentences for a ten-year-old."
    answer = tg.Variable("Because of the atmosphere.", role="the answer to the question", requires_grad=True)

    def forward(step: int) -> tg.Variable:
        return tg.text_loss(
            model, f"Question: {question}\nIs the answer correct, complete and simple enough?", answer
        )

    return tg.run(
        [answer], forward, model=model, max_steps=steps, name="sky", constraints=["At most two sentences."],
        wandb=False, progress=False,
    )  # fmt: skip


def improve_prompt(model: Any, steps: int) -> tg.TextGradResult:
    """Optimize a system prompt over minibatches of word problems; keep the best by validation accuracy."""
    train, validation = problems(12, seed=1), problems(6, seed=2)
    prompt = tg.Variable(
        "Answer the question.", role="the system prompt for a math assistant", requires_grad=True
    )
    rng = random.Random(0)

    def forward(step: int) -> tg.Variable:
        batch = rng.sample(train, 3)
        losses = []
        for question, answer in batch:
            response = tg.llm_call(model, prompt, tg.Variable(question, role="a word problem"))
            instruction = (
                f"The correct answer is {answer}. Is the response correct and does it end with the number?"
            )
            losses.append(tg.text_loss(model, instruction, response))
        return tg.total_loss(losses)

    def validation_accuracy() -> float:
        correct = 0
        for question, answer in validation:
            response = tg.llm_call(model, prompt, tg.Variable(question, role="a word problem")).value
            numbers = [
                word.strip(".,") for word in response.split() if word.strip(".,").lstrip("-").isdigit()
            ]
            correct += bool(numbers) and int(numbers[-1]) == answer
        return correct / len(validation)

    return tg.run(
        [prompt], forward, model=model, max_steps=steps, evaluate=validation_accuracy, name="math prompt",
        constraints=["Keep it under 60 words."], wandb=False, progress=False,
    )  # fmt: skip


def main() -> None:
    arguments = example_arguments(__doc__.splitlines()[0], steps=2)
    model = chosen_model(arguments)
    solution = improve_solution(model, arguments.steps)
    report(solution)
    print(f"Answer after {solution.steps} steps: {next(iter(solution.values.values()))!r}")
    prompt = improve_prompt(model, arguments.steps)
    report(prompt)
    best = next(iter(prompt.best_values.values()))
    print(f"Best system prompt (validation accuracy {prompt.best_score:.2f}): {best!r}")


if __name__ == "__main__":
    main()
