"""The selection benchmark's real task: instruction optimization on a generated ticket-routing set.

    make bench-optimizers MODEL=openai:gpt-4o-mini [OPTIMIZER_MODEL=...] [SELECTION_BUDGET=100]

`route_ticket(model, message)` answers one of four teams from its docstring, which starts vague.
The generated messages follow house rules a model cannot guess (refunds go to the returns desk,
`shipping`; cancelling a subscription is `billing`; a changed e-mail address is `account`), so
the instruction must learn them from the evaluator's feedback, which names the expected team and
the rule. Train and validation sets (12 each) feed the optimizer; a held-out test set (24) is
scored once per selection, for the best hyperparameters it returns. Every selection gets the
same evaluation budget; the table reports its own best score, the test accuracy and what it cost.
One seed, one run per selection: a small real run, not a statistically solid comparison.
"""

from __future__ import annotations

import os
import random
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Literal

from llm_hyperparameters import Hyperparameters
from llm_strategy import llm_function, resolve_model
from llm_strategy.optimization import Budget, optimize_hyperparameters

Team = Literal["billing", "technical", "account", "shipping"]

RULES: dict[str, tuple[Team, str, list[str]]] = {
    "invoice": (
        "billing",
        "invoices and charges go to billing",
        [
            "My invoice {n} shows the wrong amount.",
            "I was charged twice for order {n}.",
        ],
    ),
    "cancel": (
        "billing",
        "cancelling a subscription is billing, not account",
        [
            "Please cancel my {product} subscription.",
            "How do I stop the monthly {product} plan?",
        ],
    ),
    "refund": (
        "shipping",
        "refunds are handled by the returns desk: shipping, not billing",
        [
            "I want a refund for the {product} I returned.",
            "Where is my money back for order {n}?",
        ],
    ),
    "damaged": (
        "shipping",
        "damaged or missing parcels go to shipping",
        [
            "The {product} arrived broken.",
            "Parcel {n} never arrived.",
        ],
    ),
    "crash": (
        "technical",
        "app errors and crashes go to technical",
        [
            "The app crashes when I open {product}.",
            "Error {n} appears when I sync my {product}.",
        ],
    ),
    "email": (
        "account",
        "changing an e-mail address or password is account, not technical",
        [
            "I need to change the e-mail address on my {product} account.",
            "I cannot reset my password for {product}.",
        ],
    ),
}
PRODUCTS = ["kettle", "headphones", "e-reader", "thermostat", "backpack", "camera"]


@llm_function
def route_ticket(model: Any, message: str) -> Team:
    """Route the customer message to a team."""
    raise NotImplementedError


def splits(rng: random.Random, *sizes: int) -> list[list[dict[str, str]]]:
    """Ticket sets of the given sizes, the rules in turn, no message in two places (nothing leaks
    from train or validation into the held-out test)."""
    seen: set[str] = set()
    made = []
    for size in sizes:
        tickets = [{"message": _new_message(rng, rule, seen), "rule": rule} for rule in _rules(size)]
        rng.shuffle(tickets)
        made.append(tickets)
    return made


def _rules(count: int) -> list[str]:
    return [list(RULES)[index % len(RULES)] for index in range(count)]


def _new_message(rng: random.Random, rule: str, seen: set[str]) -> str:
    """A message for the rule from a random template, product and number, not drawn before."""
    while True:
        message = rng.choice(RULES[rule][2]).format(product=rng.choice(PRODUCTS), n=rng.randrange(1000, 9999))
        if message not in seen:
            seen.add(message)
            return message


Rule = Literal["invoice", "cancel", "refund", "damaged", "crash", "email"]


def route(model: Any, message: str, rule: Rule) -> Team:
    """The task: route one ticket (`rule` is the evaluator's, never shown to the model)."""
    return route_ticket(model, message)


def evaluator(run: Any) -> tuple[float, str]:
    expected, reason = RULES[run.task_parameters.rule][:2]
    if run.return_value == expected:
        return 1.0, "correct"
    return 0.0, f"expected {expected!r}, got {run.return_value!r}: {reason}"


def held_out_accuracy(model: Any, hyperparameters: Any, test: list[dict[str, str]]) -> float:
    """The share of test tickets routed right with `hyperparameters` in force: scored once.

    A failed call is a wrong answer; every call failing (a wrong MODEL or key) ends the benchmark.
    """
    errors: list[str] = []

    def correct(ticket: dict[str, str]) -> bool:
        with hyperparameters:
            try:
                return bool(route_ticket(model, ticket["message"]) == RULES[ticket["rule"]][0])
            except Exception as error:  # the model's failure, whatever the provider raised
                errors.append(f"{type(error).__name__}: {error}")
                return False

    with ThreadPoolExecutor(8) as pool:
        right = sum(pool.map(correct, test))
    if len(errors) == len(test):
        raise SystemExit(
            f"every held-out request failed (check MODEL and its API key); the first: {errors[0]:.300}"
        )
    return right / len(test)


def main(model_name: str) -> None:
    budget = int(os.environ.get("SELECTION_BUDGET", "100"))
    task_model = resolve_model(model_name)
    optimizer_model = resolve_model(os.environ.get("OPTIMIZER_MODEL") or model_name)
    train, validation, test = splits(random.Random(0), 12, 12, 24)
    print(
        f"Selections on a real task ({model_name}): routing generated tickets by house rules; "
        f"{budget} evaluations each,\ntrain 12, validation 12, held-out test 24 scored once per selection"
    )
    print(
        f"{'selection':<14}  {'own best':>8}  {'test accuracy':>13}  {'evaluations':>11}  "
        f"{'LLM calls':>9}  {'tokens':>8}  {'cost $':>7}"
    )
    print(f"{'(start)':<14}  {'-':>8}  {held_out_accuracy(task_model, Hyperparameters(), test):>13.3f}")
    selections: dict[str, dict[str, Any]] = {
        "pareto": {"selection": "pareto", "train": train, "validation": validation},
        "pareto+merge": {"selection": "pareto", "merge": True, "train": train, "validation": validation},
        "best (greedy)": {"selection": "best", "train": train, "validation": validation},
        "original": {"selection": "original"},
    }
    with tempfile.TemporaryDirectory() as directory:
        for name, options in selections.items():
            result = optimize_hyperparameters(
                route,
                validation,
                optimizer_model=optimizer_model,
                task_model=task_model,
                evaluator=evaluator,
                budget=Budget(max_evaluations=budget),
                run_directory=Path(directory) / name.split()[0],
                wandb=False,
                progress=False,
                **options,
            )
            if result.failed:
                raise SystemExit(f"{name}: no task run succeeded; the first failure: {result.first_error}")
            accuracy = held_out_accuracy(task_model, result.best_hyperparameters, test)
            own = "-" if result.best_score is None else f"{result.best_score:.3f}"
            usage = result.usage
            print(
                f"{name:<14}  {own:>8}  {accuracy:>13.3f}  {usage.evaluations:>11}  {usage.llm_calls:>9}  "
                f"{usage.total_tokens:>8}  {usage.cost:>7.4f}"
            )
    print(
        "own best: the optimizer's best score (Pareto and best: validation mean; original: best mean over\n"
        "the task parameters it chose). One seed and one run each: differences of a few tickets are noise."
    )
