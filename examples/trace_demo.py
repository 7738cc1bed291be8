"""Trace a run of the customer example: a local HTML page, a JSON file, and an offline W&B run.

.venv/bin/python examples/trace_demo.py [--model provider:model] [--seed 0] [--out runs/trace-demo]
"""

from __future__ import annotations

from pathlib import Path

from common import chosen_model, example_arguments
from customer_database_search import Customer, MockCustomerDatabase

from llm_hyperparameters import Hyperparameters, log_trace, trace, write_html
from llm_strategy import llm_strategy


def main() -> None:
    arguments = example_arguments(__doc__.splitlines()[0], out="runs/trace-demo")
    model = chosen_model(arguments)
    out = Path(arguments.out)
    StrategyCustomer = llm_strategy(model)(Customer)
    Database = llm_strategy(model)(MockCustomerDatabase)

    with trace("customer search") as recorded, Hyperparameters() as used:
        database = Database()
        database.load()
        ages = [StrategyCustomer(**vars(customer)).age for customer in database.customers]
        keys = database.find_customer_key("the customer born in 1990")
    print(f"{len(database.customers)} customers, ages {ages}, best match for 1990: {keys}")

    summary = recorded.summary()
    requests, tokens = summary["llm_calls"], summary["total_tokens"]
    print(f"Trace: {summary['calls']} calls, {requests} LLM requests, {tokens} tokens")
    page = write_html(recorded, out / "trace.html")
    (out / "trace.json").write_text(recorded.to_json(indent=2), encoding="utf-8")
    (out / "hyperparameters.json").write_text(used.model_dump_json(indent=2), encoding="utf-8")
    run = log_trace(recorded, directory=out, project="llm-strategy-demo")
    print(f"Trace page:      {page.resolve()}")
    print(f"Trace JSON:      {(out / 'trace.json').resolve()}")
    print(f"Hyperparameters: {(out / 'hyperparameters.json').resolve()}")
    print(f"W&B run (offline): wandb sync {Path(run.dir).parent}")


if __name__ == "__main__":
    main()
