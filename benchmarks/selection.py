"""The meta-optimizer's selections, run through `MetaOptimizer` itself, on a synthetic task family.

    make bench-optimizers                      (printed after the linear-regression table)
    make bench-optimizers MODEL=openai:gpt-4o-mini   (a small real task instead, see `real_task`)

Offline, the task is `solve(model, kind, details)`: it calls one of two LLM functions, `first_rules`
for instances of kind a or b and `second_rules` for c or d. The task model (a scripted chat model)
answers with the rule tokens (`#a`, `#a1`, ...) its request shows, wherever the instructions hold
them: a function's docstring or its parameter description. So a candidate has four components
(each function's docstring and descriptions) and the tokens in force per function are what count.
An instance scores 0.25 for its kind's token plus 0.75 for its two detail tokens, and 0 when the
conflicting kind's token is present (a<->b, c<->d): no value serves both kinds of a function. Each
seed makes one kind the majority (3 of 4 instances) of each function, so the best single candidate
covers the two majority kinds (validation mean 0.75). Committing a function to its minority kind
first is a local optimum: switching kinds loses that instance's full score before the majority's
details are found. The evaluator's feedback names what an instance missed ("needs #a1", "use #a,
not #b").

The optimizer model is a scripted chat model too: a simulated proposer that acts on one feedback item
it reads in the request (picked at random), and with probability 0.2 adds a random token instead. It
answers the reflective proposer (Pareto and best selections: one component, from the minibatch's
feedback) and the original loop's four functions (its reflections carry the evaluator's feedback;
its suggestions edit a function's docstring from one item of the best candidate's runs and pick 4
validation instances to run them on). Its randomness is seeded by the request's text, so a run is
deterministic.

Every selection gets the same evaluation budget (`Budget(max_evaluations=...)`, task runs scored).
A candidate's true validation mean is computed from its values (the task is deterministic), so each
selection is judged the same way: evaluations spent until it holds a candidate that reaches the
target (Pareto and best: a candidate scored on the whole validation set; original: any candidate it ran),
and the true validation mean of the best hyperparameters it returns.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from statistics import mean
from typing import Any

from llm_strategy import llm_function
from llm_strategy.optimization import Budget, optimize_hyperparameters
from llm_strategy.testing import ScriptedChatModel

KINDS = {"a": ("b", 0), "b": ("a", 0), "c": ("d", 1), "d": ("c", 1)}  # kind: (its conflict, its function)
VOCABULARY = [f"#{kind}{detail}" for kind in KINDS for detail in ("", "1", "2", "3")]
TOKEN = re.compile(r"#[abcd][123]?(?![\w])")
BUDGET = int(os.environ.get("SELECTION_BUDGET", "300"))
SEEDS = int(os.environ.get("SELECTION_SEEDS", "20"))
TARGET = 0.7
NOISE = 0.2
MINIBATCH = 3
SELECTIONS = {
    "pareto": {"selection": "pareto"},
    "pareto+merge": {"selection": "pareto", "merge": True},
    "best (greedy)": {"selection": "best"},
    "original": {"selection": "original"},
}


@llm_function
def first_rules(model: Any, kind: str) -> str:
    """Answer with the rules that apply to the request."""
    raise NotImplementedError


@llm_function
def second_rules(model: Any, kind: str) -> str:
    """Answer with the rules that apply to the request."""
    raise NotImplementedError


FUNCTIONS = [first_rules.hyperparameters.name, second_rules.hyperparameters.name]


def solve(model: Any, kind: str, details: list[str]) -> str:
    """The task: kinds a and b read the first function's rules, c and d the second's."""
    return (first_rules if KINDS[kind][1] == 0 else second_rules)(model, kind)


def echo_rules(messages: list[Any]) -> str:
    """The task model: the rule tokens its instructions show (or that it found none)."""
    return " ".join(sorted(set(TOKEN.findall(messages[0].text)))) or "no rules"


@dataclass(frozen=True)
class Instance:
    kind: str
    details: tuple[str, str]

    def parameters(self) -> dict[str, Any]:
        return {"kind": self.kind, "details": list(self.details)}


def instances(rng: random.Random, majority: tuple[str, str]) -> list[Instance]:
    """Four instances per function: three of the majority kind, one of the other; two details each."""
    made = []
    for function, (first, second) in enumerate((("a", "b"), ("c", "d"))):
        kinds = [majority[function]] * 3 + [second if majority[function] == first else first]
        for kind in kinds:
            details = sorted(rng.sample([f"#{kind}{detail}" for detail in "123"], 2))
            made.append(Instance(kind, (details[0], details[1])))
    return made


def score(tokens: set[str], kind: str, details: list[str]) -> tuple[float, list[str]]:
    """An instance's score for the tokens its function showed, and the feedback naming what it missed."""
    conflict = f"#{KINDS[kind][0]}"
    if conflict in tokens:
        return 0.0, [f"use #{kind}, not {conflict}"]
    if f"#{kind}" not in tokens:
        return 0.0, [f"needs #{kind}"]
    missing = sorted(set(details) - tokens)
    return 0.25 + 0.75 * (2 - len(missing)) / 2, [f"needs {token}" for token in missing]


def evaluator(run: Any) -> tuple[float, str]:
    parameters = run.task_parameters
    value, feedback = score(set((run.return_value or "").split()), parameters.kind, parameters.details)
    return value, "; ".join(feedback) or "complete"


def tokens_in_force(values: dict[str, Any], function: int) -> set[str]:
    """The rule tokens a candidate's values show for one function (docstring and descriptions)."""
    return set(TOKEN.findall(json.dumps(values.get(FUNCTIONS[function], {}))))


def validation_mean(values: dict[str, Any], validation: list[Instance]) -> float:
    """A candidate's true validation mean, computed from its values (the task is deterministic)."""
    return mean(
        score(tokens_in_force(values, KINDS[item.kind][1]), item.kind, list(item.details))[0]
        for item in validation
    )


# -- the simulated optimizer model --------------------------------------------------------------------


def acted_on(tokens: set[str], feedback: list[str], function: int, rng: random.Random) -> set[str]:
    """The tokens after acting on one feedback item about the function (or, at NOISE, a random token)."""
    relevant = [item for item in feedback if KINDS[item.split()[1][1]][1] == function]
    changed = set(tokens)
    if relevant and rng.random() >= NOISE:
        words = rng.choice(relevant).replace(",", "").split()
        changed.add(words[1])
        if words[0] == "use":
            changed.discard(words[-1])
    else:
        changed.add(rng.choice(VOCABULARY))
    return changed


def written(value: Any, tokens: set[str]) -> Any:
    """A component's value showing `tokens`: a docstring, or a descriptions dict."""
    rules = " ".join(sorted(tokens))
    if isinstance(value, dict):
        return {"kind": f"The request's kind. Rules: {rules}"} if rules else {}
    return f"Answer with the rules that apply to the request. Rules: {rules}"


def feedback_items(texts: list[str | None]) -> list[str]:
    return [item for text in texts if text for item in text.split("; ") if item.startswith(("needs", "use"))]


class SimulatedOptimizer:
    """The optimizer model's replies: acts on the feedback it reads, with noise; seeded by the request."""

    def __init__(self, seed: int, validation: list[Instance]) -> None:
        self.seed, self.validation = seed, validation
        self.asked: Counter[str] = Counter()  # a request asked again gets a fresh draw, as from an LLM
        self.lock = threading.Lock()

    def __call__(self, messages: list[Any]) -> str:
        prompt, request = messages[0].text, json.loads(messages[-1].text)
        digest = hashlib.sha256(f"{self.seed}:{prompt}:{messages[-1].text}".encode()).hexdigest()
        with self.lock:
            self.asked[digest] += 1
            rng = random.Random(f"{digest}:{self.asked[digest]}")
        name = prompt.split(":", 1)[0]
        handlers: dict[str, Callable[[dict[str, Any], random.Random], Any]] = {
            "ReflectiveProposer.propose_component_value": self.propose,
            "LLMOptimizer.reflect_on_task_run": self.reflect,
            "LLMOptimizer.suggest_next_optimization_step": self.suggest,
            "LLMOptimizer.summarize_optimization_info": lambda request, rng: "Act on the feedback.",
            "LLMOptimizer.probability_for_improvement": lambda request, rng: {
                "considerations": ["the feedback still names missing rules"],
                "probability": 0.9,
            },
        }
        return json.dumps({"return_value": handlers[name](request, rng)})

    def propose(self, request: dict[str, Any], rng: random.Random) -> dict[str, Any]:
        function = FUNCTIONS.index(request["component"].rsplit(":", 1)[0])
        current = request["current_value"]
        feedback = feedback_items([example["feedback"] for example in request["examples"]])
        tokens = acted_on(set(TOKEN.findall(json.dumps(current))), feedback, function, rng)
        return {"lessons": "; ".join(feedback) or "none", "new_value": written(current, tokens)}

    def reflect(self, request: dict[str, Any], rng: random.Random) -> dict[str, str]:
        feedback = request.get("evaluation") or "complete"
        return {
            "feedback": feedback,
            "evaluation": f"score {request.get('score')}",
            "hyperparameter_suggestion": feedback,
            "hyperparameter_missing": "none",
        }

    def suggest(self, request: dict[str, Any], rng: random.Random) -> dict[str, Any]:
        best = request["best_hyperparameters"]
        runs = [info for info in request["task_infos"] if not info["hyperparameters"]] or request[
            "task_infos"
        ]
        feedback = feedback_items([info["reflection"]["hyperparameter_suggestion"] for info in runs])
        skipped = " ".join(request["skipped_suggestions"])
        patches: list[dict[str, Any]] = []
        while len(patches) < 2:
            for _attempt in range(10):  # it reads the skipped suggestions and tries something else
                function = KINDS[rng.choice(feedback).split()[1][1]][1] if feedback else rng.randrange(2)
                docstring = best[FUNCTIONS[function]]["docstring"]
                tokens = acted_on(set(TOKEN.findall(docstring)), feedback, function, rng)
                patch = {FUNCTIONS[function]: {"docstring": written(docstring, tokens)}}
                if json.dumps(patch) not in skipped and patch not in patches:
                    break
            patches.append(patch)
        chosen = rng.sample(self.validation, 4)
        return {
            "best_hyperparameters": {},
            "suggestion": "Act on the feedback of the best candidate's runs.",
            "task_parameters_suggestions": [item.parameters() for item in chosen],
            "hyperparameter_suggestions": patches,
        }


# -- one run per seed and selection -------------------------------------------------------------------


@dataclass
class Outcome:
    reached: int | None  # evaluations spent when a candidate reaching the target was held
    final: float  # the returned best hyperparameters' true validation mean
    evaluations: int
    seconds: float


def run(seed: int, selection: str, directory: Path) -> Outcome:
    rng = random.Random(seed)
    majority = (rng.choice("ab"), rng.choice("cd"))
    validation, train = instances(rng, majority), instances(rng, majority)
    options = SELECTIONS[selection]
    data: dict[str, Any] = (
        {"train": [item.parameters() for item in train], "minibatch_size": MINIBATCH, "seed": seed}
        if options["selection"] != "original"
        else {}
    )
    started = time.perf_counter()
    result = optimize_hyperparameters(
        solve,
        [item.parameters() for item in validation],
        optimizer_model=ScriptedChatModel(replies=SimulatedOptimizer(seed, validation)),
        task_model=ScriptedChatModel(replies=echo_rules),
        evaluator=evaluator,
        budget=Budget(max_evaluations=BUDGET),
        run_directory=directory / f"{selection}-{seed}",
        wandb=False,
        progress=False,
        **options,
        **data,
    )
    seconds = time.perf_counter() - started
    reached = None
    last_validation = f"-v{len(validation) - 1:02d}"  # a Pareto candidate is held once fully validated
    for spent, record in enumerate(sorted(result.history, key=_order), start=1):
        held = options["selection"] == "original" or record.id.endswith(last_validation)
        if held and validation_mean(record.hyperparameters, validation) >= TARGET:
            reached = spent
            break
    final = validation_mean(result.best_hyperparameters.model_dump(), validation)
    return Outcome(reached, final, result.usage.evaluations, seconds)


def _order(record: Any) -> tuple[int, str]:
    return record.step, record.id


def table(outcomes: dict[str, list[Outcome]]) -> list[str]:
    lines = [
        f"{'selection':<14}  {'reached target':>14}  {'evaluations to target':>21}  "
        f"{'final validation':>16}  {'spent':>5}  {'s/run':>5}"
    ]
    for selection, done in outcomes.items():
        reached = [outcome.reached for outcome in done if outcome.reached is not None]
        shown = f"{mean(reached):.0f}" if reached else "-"
        lines.append(
            f"{selection:<14}  {f'{len(reached)}/{len(done)}':>14}  {shown:>21}  "
            f"{mean(outcome.final for outcome in done):>16.3f}  "
            f"{mean(outcome.evaluations for outcome in done):>5.0f}  "
            f"{mean(outcome.seconds for outcome in done):>5.1f}"
        )
    return lines


def main() -> None:
    if os.environ.get("MODEL"):
        from selection_real import main as real_main

        real_main(os.environ["MODEL"])
        return
    print(
        f"Selections through MetaOptimizer on a synthetic task family with conflicting instance kinds: "
        f"{SEEDS} seeds,\n{BUDGET} evaluations each, target validation mean {TARGET} (best possible 0.75), "
        f"a simulated proposer with noise {NOISE}, minibatch {MINIBATCH}"
    )
    outcomes: dict[str, list[Outcome]] = {}
    with tempfile.TemporaryDirectory() as directory:
        for selection in SELECTIONS:
            outcomes[selection] = [run(seed, selection, Path(directory)) for seed in range(SEEDS)]
            print(f"  {selection}: done", file=sys.stderr)
    for line in table(outcomes):
        print(line)
    print(
        "What it shows: how each selection spends the same evaluation budget inside MetaOptimizer (its\n"
        "task runs, records, gate, frontier and merge) when one value cannot serve every instance kind\n"
        "and committing to the wrong kind first is a local optimum.\n"
        "What it does not show: anything about real LLMs, reflections or prompts: the proposer is a\n"
        "simulation that acts on the feedback 80% of the time. MODEL=provider:model runs a small real task."
    )


if __name__ == "__main__":
    main()
