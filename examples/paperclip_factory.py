"""The paperclip factory: the model writes production plans; a local factory server scores them by profit.

Parity with llm_optimize's paperclip example: the example starts its own HTTP server on
127.0.0.1 that simulates 30 days of a paperclip business; `f` posts a plan and reads the profit.
    .venv/bin/python examples/paperclip_factory.py [--model provider:model] [--seed 0] [--steps 4]
"""

from __future__ import annotations

import json
import math
import tempfile
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from common import chosen_model, example_arguments

from llm_strategy.optimization import blackbox

RANGES = {
    "price_cents": (1, 100),
    "wire_spools_per_day": (0, 20),
    "autoclippers": (0, 30),
    "marketing_level": (0, 5),
}
START = json.dumps({"price_cents": 60, "wire_spools_per_day": 5, "autoclippers": 5, "marketing_level": 0})


def simulate(plan: dict[str, int], days: int = 30) -> dict[str, float]:
    """Thirty days of making and selling paperclips under a plan; returns the figures."""
    demand_per_day = 3000 * (1.3 ** plan["marketing_level"]) * math.exp(-plan["price_cents"] / 18)
    capacity = 800 + plan["autoclippers"] * 1500
    wire = plan["wire_spools_per_day"] * 1000
    sold = min(demand_per_day, capacity, wire) * days
    revenue = sold * plan["price_cents"] / 100
    costs = days * (
        plan["wire_spools_per_day"] * 12 + plan["autoclippers"] * 9 + 40 * plan["marketing_level"] ** 2
    )
    return {
        "clips_sold": round(sold),
        "revenue": round(revenue, 2),
        "costs": round(costs, 2),
        "profit": round(revenue - costs, 2),
    }


class FactoryServer:
    """`POST /simulate` with a plan; answers with the figures, or 400 and what is wrong."""

    def __init__(self) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                try:
                    plan = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                    status, body = 200, simulate(_checked(plan))
                except (ValueError, KeyError, TypeError) as error:
                    status, body = 400, {"error": str(error)}
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/simulate"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _checked(plan: Any) -> dict[str, int]:
    if not isinstance(plan, dict):
        raise ValueError("the plan must be a JSON object")
    checked = {}
    for key, (low, high) in RANGES.items():
        value = plan[key]
        if not isinstance(value, int) or not low <= value <= high:
            raise ValueError(f"{key} must be an integer from {low} to {high}")
        checked[key] = value
    return checked


def scorer(url: str) -> Any:
    """`f(plan text) -> (profit, feedback)` through the factory server."""

    def f(text: str) -> tuple[float, str]:
        request = urllib.request.Request(
            url, data=text.encode(), headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                figures = json.loads(response.read())
        except urllib.error.HTTPError as error:
            raise ValueError(json.loads(error.read())["error"]) from error
        return figures["profit"], ", ".join(f"{key} {value}" for key, value in figures.items())

    return f


def main() -> None:
    arguments = example_arguments(__doc__.splitlines()[0], steps=4)
    model = chosen_model(arguments)
    factory = FactoryServer()
    limits = ", ".join(f"{key} {low}..{high}" for key, (low, high) in RANGES.items())
    try:
        with tempfile.TemporaryDirectory() as directory:
            result = blackbox.run(
                "Run a paperclip factory for 30 days at the highest profit.",
                f"Write a production plan as a JSON object with integer fields: {limits}.",
                scorer(factory.url), START, None, arguments.steps, model,
                candidates_per_step=3, run_directory=Path(directory) / "run", wandb=False,
            )  # fmt: skip
    finally:
        factory.close()
    print(f"\nBest profit ${result.best_score:,.2f} with plan {result.best_x} ({result.stop_reason})")


if __name__ == "__main__":
    main()
