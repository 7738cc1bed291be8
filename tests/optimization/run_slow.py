"""A slow offline optimization, run as a script by the resume test.

`python run_slow.py DIR [--resume] [--calls FILE]`: FILE gets one line per LLM request.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[2]))

from llm_strategy.optimization import Budget, optimize_hyperparameters
from tests.optimization.tasks import SlowSynthetic, write_note

if __name__ == "__main__":
    calls = sys.argv[sys.argv.index("--calls") + 1] if "--calls" in sys.argv else None
    model = SlowSynthetic(seed=5, delay=0.15, request_log=calls)
    result = optimize_hyperparameters(
        write_note,
        [{"topic": "bees"}, {"topic": "tides"}, {"topic": "owls"}],
        optimizer_model=model,
        task_model=model,
        evaluator=lambda run: len(run.return_value or "") % 7,
        budget=Budget(max_steps=2),
        stop_probability=0.0,
        run_directory=sys.argv[1],
        resume="--resume" in sys.argv,
        concurrency=2,
        wandb=False,
        progress=False,
    )
    print(len(result.history))
