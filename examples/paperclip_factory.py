"""The paperclip factory: the model writes the code that runs the factory; a local server scores it by profit.

Parity with llm_optimize's paperclip example: the example starts its own HTTP server on
127.0.0.1 that simulates 30 days of a paperclip business. Each candidate is Python that posts
one production plan to the factory; it runs in the sandbox with `network="host"` (the only way
it can reach the local port), and the profit the server recorded for that run is the score.

    .venv/bin/python examples/paperclip_factory.py [--model provider:model] [--seed 0] [--steps 4]
"""

from __future__ import annotations

import json
import math
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from common import chosen_model, example_arguments, report

from llm_strategy.optimization import blackbox
from llm_strategy.optimization.sandbox import SandboxError, SandboxLimits, run_python

RANGES = {
    "price_cents": (1, 100),
    "wire_spools_per_day": (0, 20),
    "autoclippers": (0, 30),
    "marketing_level": (0, 5),
}
START = """\
import json
import urllib.request

plan = {"price_cents": 60, "wire_spools_per_day": 5, "autoclippers": 5, "marketing_level": 0}
request = urllib.request.Request(FACTORY_URL, data=json.dumps(plan).encode(), method="POST")
print(urllib.request.urlopen(request, timeout=10).read().decode())
"""
LIMITS = SandboxLimits(timeout=20, cpu_seconds=20, memory_mb=512)


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
    """`POST /<run>/simulate` with a plan, once per run; answers with the figures, or 400/409 and why."""

    def __init__(self) -> None:
        figures: dict[str, dict[str, float] | None] = {}
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                run = self.path.strip("/").removesuffix("/simulate")
                try:
                    plan = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                    with lock:
                        if run not in figures or figures[run] is not None:
                            raise LookupError("unknown run, or it already ran its plan")
                        figures[run] = simulate(_checked(plan))
                    status, body = 200, figures[run]
                except (ValueError, KeyError, TypeError) as error:
                    status, body = 400, {"error": str(error)}
                except LookupError as error:
                    status, body = 409, {"error": str(error)}
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self._figures, self._lock = figures, lock
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def open_run(self) -> str:
        """A fresh run that may post one plan; returns its URL."""
        run = secrets.token_hex(8)
        with self._lock:
            self._figures[run] = None
        return f"{self.url}/{run}/simulate"

    def figures(self, url: str) -> dict[str, float] | None:
        """What the run at `url` made, or None if it posted no valid plan."""
        with self._lock:
            return self._figures.get(url.removeprefix(self.url).strip("/").removesuffix("/simulate"))

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


def scorer(factory: FactoryServer) -> Any:
    """`f(code) -> (profit, feedback)`: the code runs sandboxed, on the host network to reach the factory."""

    def f(code: str) -> tuple[float, str]:
        url = factory.open_run()
        try:
            output = run_python(code, inputs={"FACTORY_URL": url}, limits=LIMITS, network="host").stdout
        except SandboxError as error:
            raise ValueError(f"the code failed: {error}") from error
        figures = factory.figures(url)
        if figures is None:
            raise ValueError(f"the code posted no valid plan; its output: {output[-500:]}")
        return figures["profit"], ", ".join(f"{key} {value}" for key, value in figures.items())

    return f


def main() -> None:
    arguments = example_arguments(__doc__.splitlines()[0], steps=4)
    model = chosen_model(arguments)
    factory = FactoryServer()
    limits = ", ".join(f"{key} {low}..{high}" for key, (low, high) in RANGES.items())
    try:
        result = blackbox.run(
            "Run a paperclip factory for 30 days at the highest profit.",
            "Write Python that posts one production plan, a JSON object with integer fields "
            f"{limits}, to FACTORY_URL (a global; standard library only, e.g. urllib.request).",
            scorer(factory), START, None, arguments.steps, model, candidates_per_step=3, wandb=False,
        )  # fmt: skip
    finally:
        factory.close()
    report(result)
    print(f"\nBest profit ${result.best_score:,.2f} ({result.stop_reason}) with the code:\n{result.best_x}")


if __name__ == "__main__":
    main()
