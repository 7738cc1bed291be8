"""The meta-optimizer's selection machinery on a synthetic task family with conflicting instance types.

    make bench-optimizers            (this table is printed after the linear-regression one)

A candidate has two components, each a set of instruction tokens. Instances of type a and b read the
first component, c and d the second. An instance scores 0.25 for its type's token plus 0.75 for its
two detail tokens, and 0 when the conflicting type's token is present (a<->b, c<->d): no value
serves both types of a component. Each seed makes one type the majority (3 of 4 instances) of each
component, so the best single candidate covers the two majority types (validation mean 0.75). A run
that commits a component to its minority type first is in a local optimum: switching to the majority
type loses the minority instance's full score before the majority's details are found, so the
switch lowers the mean at first.
The evaluator's feedback names what an instance missed ("needs a", "needs a2", "use a, not b"). The
simulated proposer acts on one feedback item of the minibatch, picked at random, and with
probability 0.2 adds a random token instead (noise).

Four selections with the same proposer and evaluation budget: Pareto (frontier over validation
instances, proportional parent sampling, minibatch gate), Pareto with merge, greedy best-mean (the
best candidate is always the parent, minibatch gate), and the original's selection (the best
candidate is always the parent; every proposal is scored on the whole validation set, no gate).
The loop below drives the library's own frontier, sampling, gate and merge functions
(`llm_strategy.optimization.pareto`); the LLM calls are replaced by the simulated proposer, so it
runs in well under a second per selection.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from statistics import mean

from llm_strategy.optimization.pareto import frontier, gate_passes, merge_choice, sample_parent

TYPES = {"a": ("b", 0), "b": ("a", 0), "c": ("d", 1), "d": ("c", 1)}  # type: (its conflict, its component)
VOCABULARY = [*TYPES, *(f"{kind}{detail}" for kind in TYPES for detail in (1, 2, 3))]
BUDGET = 600
TARGET = 0.7
SEEDS = 20
NOISE = 0.2
MINIBATCH = 3

Candidate = tuple[frozenset[str], frozenset[str]]


@dataclass(frozen=True)
class Instance:
    kind: str
    details: frozenset[str]


def instances(rng: random.Random, majority: tuple[str, str]) -> list[Instance]:
    """Four instances per component: three of the majority type, one of the other; two details each."""
    made = []
    for component, (first, second) in enumerate((("a", "b"), ("c", "d"))):
        kinds = [majority[component]] * 3 + [second if majority[component] == first else first]
        for kind in kinds:
            made.append(Instance(kind, frozenset(rng.sample([f"{kind}{d}" for d in (1, 2, 3)], 2))))
    return made


def score(candidate: Candidate, instance: Instance) -> tuple[float, list[str]]:
    """The instance's score and the feedback naming what it missed."""
    conflict, component = TYPES[instance.kind]
    tokens = candidate[component]
    if conflict in tokens:
        return 0.0, [f"use {instance.kind}, not {conflict}"]
    if instance.kind not in tokens:
        return 0.0, [f"needs {instance.kind}"]
    missing = sorted(instance.details - tokens)
    return 0.25 + 0.75 * (2 - len(missing)) / 2, [f"needs {token}" for token in missing]


def propose(parent: Candidate, component: int, feedback: list[str], rng: random.Random) -> Candidate:
    """Act on one feedback item about the component (or, with probability NOISE, add a random token)."""
    tokens = set(parent[component])
    relevant = [item for item in feedback if TYPES[item.split()[1][0]][1] == component]
    if relevant and rng.random() >= NOISE:
        words = rng.choice(relevant).replace(",", "").split()
        tokens.add(words[1])
        if words[0] == "use":
            tokens.discard(words[-1])
    else:
        tokens.add(rng.choice(VOCABULARY))
    changed = frozenset(tokens)
    return (changed, parent[1]) if component == 0 else (parent[0], changed)


class Run:
    """One selection run: candidates, their validation scores, evaluations used, the best mean over time."""

    def __init__(self, seed: int, selection: str) -> None:
        self.rng = random.Random(seed)
        majority = (self.rng.choice("ab"), self.rng.choice("cd"))
        self.validation = instances(self.rng, majority)
        self.train = instances(self.rng, majority)
        self.selection = selection
        self.candidates: dict[str, Candidate] = {}
        self.parents: dict[str, str | None] = {}
        self.scores: dict[str, list[float | None]] = {}
        self.evaluations = 0
        self.reached: int | None = None

    def evaluate(self, candidate: Candidate, batch: list[Instance]) -> tuple[list[float], list[str]]:
        self.evaluations += len(batch)
        results = [score(candidate, instance) for instance in batch]
        return [value for value, _ in results], [item for _, items in results for item in items]

    def add(self, name: str, candidate: Candidate, parent: str | None) -> None:
        self.candidates[name], self.parents[name] = candidate, parent
        self.scores[name] = list(self.evaluate(candidate, self.validation)[0])
        if self.reached is None and self.best() >= TARGET:
            self.reached = self.evaluations

    def best(self) -> float:
        return max(mean(value or 0.0 for value in row) for row in self.scores.values())

    def best_name(self) -> str:
        return max(self.scores, key=lambda name: mean(value or 0.0 for value in self.scores[name]))

    def ancestors(self, name: str) -> list[str]:
        chain = [name]
        while (parent := self.parents[chain[-1]]) is not None:
            chain.append(parent)
        return chain

    def merged(self, front: dict[str, list[int]]) -> tuple[str, str, Candidate] | None:
        for first in sorted(front):
            for second in sorted(front):
                theirs = self.ancestors(second)
                common = [name for name in self.ancestors(first) if name in theirs]
                if first >= second or not common or common[0] in (first, second):
                    continue
                flat = [
                    {"first": self.candidates[name][0], "second": self.candidates[name][1]}
                    for name in (common[0], first, second)
                ]
                choice = merge_choice(*flat)
                if choice is not None:
                    merged = (choice["first"], choice["second"])
                    return first, second, merged  # type: ignore[return-value] # the components' own values
        return None

    def run(self) -> Run:
        self.add("c0", (frozenset(), frozenset()), None)
        step, merge_next = 0, False
        while self.evaluations < BUDGET:
            step += 1
            name = f"c{step}"
            batch = self.rng.sample(self.train, MINIBATCH)
            if self.selection == "pareto+merge" and merge_next:
                merge_next = False
                pair = self.merged(frontier(self.scores))
                if pair is not None:
                    first, second, child = pair
                    parent_best = max(
                        sum(self.evaluate(self.candidates[p], batch)[0]) for p in (first, second)
                    )
                    if gate_passes([parent_best], self.evaluate(child, batch)[0]):
                        self.add(name, child, first)
                        merge_next = True
                    continue
            if self.selection.startswith("pareto"):
                parent = sample_parent(frontier(self.scores), self.rng)
            else:
                parent = self.best_name()
            component = (step - 1) % 2
            if self.selection == "original":
                _, feedback = self.evaluate(self.candidates[parent], batch)
                self.add(name, propose(self.candidates[parent], component, feedback, self.rng), parent)
                continue
            parent_scores, feedback = self.evaluate(self.candidates[parent], batch)
            child = propose(self.candidates[parent], component, feedback, self.rng)
            if gate_passes(parent_scores, self.evaluate(child, batch)[0]):
                self.add(name, child, parent)
                merge_next = True
        return self


def table(selections: list[str], runs: Callable[[str], list[Run]]) -> list[str]:
    lines = [
        f"{'selection':<14}  {'reached target':>14}  {'evaluations to target':>21}  {'final best mean':>15}",
    ]
    for selection in selections:
        done = runs(selection)
        reached = [run.reached for run in done if run.reached is not None]
        shown = f"{mean(reached):.0f}" if reached else "-"
        final = mean(run.best() for run in done)
        lines.append(f"{selection:<14}  {f'{len(reached)}/{len(done)}':>14}  {shown:>21}  {final:>15.3f}")
    return lines


def main() -> None:
    print(
        f"Selection rules on a synthetic task family with conflicting instance types: {SEEDS} seeds, "
        f"{BUDGET} evaluations,\ntarget validation mean {TARGET} (best possible 0.75), simulated proposer "
        f"with noise {NOISE}, minibatch {MINIBATCH}"
    )
    selections = ["pareto", "pareto+merge", "greedy", "original"]
    for line in table(selections, lambda name: [Run(seed, name).run() for seed in range(SEEDS)]):
        print(line)
    print(
        "What it shows: how each selection rule spends a fixed evaluation budget when one value cannot\n"
        "serve every instance type and committing to the wrong type first is a local optimum.\n"
        "What it does not show: anything about real LLMs, reflections or prompts. The proposer is a\n"
        "simulation that acts on the feedback 80% of the time; the loop is this file's, driving the\n"
        "library's frontier, sampling, gate and merge functions (not MetaOptimizer's task runs)."
    )


if __name__ == "__main__":
    main()
