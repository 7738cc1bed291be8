"""Model selection shared by the examples: offline by default, a real model on request."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from llm_strategy import resolve_model
from llm_strategy.testing import SyntheticChatModel

ENVIRONMENT_VARIABLE = "LLM_STRATEGY_MODEL"


def example_arguments(
    description: str, *, steps: int | None = None, out: str | None = None
) -> argparse.Namespace:
    """Parse `--model provider:model` (default: $LLM_STRATEGY_MODEL, else offline), `--seed`, and
    `--steps` and `--out` when given a default."""
    parser = argparse.ArgumentParser(description=description)
    if steps is not None:
        parser.add_argument("--steps", type=int, default=steps, help=f"optimization steps (default: {steps})")
    if out is not None:
        parser.add_argument("--out", default=out, help=f"the output directory (default: {out})")
    parser.add_argument(
        "--model",
        default=os.environ.get(ENVIRONMENT_VARIABLE),
        help=f"'provider:model', e.g. openai:gpt-4o-mini (default: ${ENVIRONMENT_VARIABLE}, else offline)",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of the offline synthetic model (default: 0)"
    )
    return parser.parse_args()


def chosen_model(arguments: argparse.Namespace) -> Any:
    """The model to run with, announcing clearly when it is the offline synthetic one."""
    if arguments.model:
        print(f"Model: {arguments.model}")
        return resolve_model(arguments.model)
    print(
        "Model: offline SyntheticChatModel (no model configured). Every answer is a valid value of the\n"
        f"requested type, but made up. Set {ENVIRONMENT_VARIABLE}=provider:model or pass --model\n"
        "for a real model.\n"
    )
    return SyntheticChatModel(seed=arguments.seed)


def report(result: Any) -> None:
    """Say where the run is kept; exit non-zero with the first error when nothing succeeded."""
    print(f"Run directory: {result.run_directory}  (trace index: {result.trace_page})")
    if result.failed:
        print(f"FAILED: no task run succeeded. The first error: {result.first_error}", file=sys.stderr)
        raise SystemExit(1)
