"""AutoML on scikit-learn's digits: the model writes training code, the sandbox runs it, validation scores it.

Parity with llm_optimize's AutoML example, fixed: candidates are scored on a validation split,
and the test score of the best code is reported once, at the end (the original optimized on the
test set). Generated code runs in the sandbox: bubblewrap, no network, no secrets, limited.

    .venv/bin/python examples/automl_digits.py [--model provider:model] [--seed 0] [--steps 3]
"""

from __future__ import annotations

from typing import Any

from common import chosen_model, example_arguments, report

from llm_strategy.optimization import blackbox
from llm_strategy.optimization.sandbox import SandboxLimits, run_python

START = """\
from sklearn.linear_model import LogisticRegression

model = LogisticRegression(max_iter=200)
model.fit(X_train, y_train)
predictions = [int(label) for label in model.predict(X_eval)]
"""
QUESTION = (
    "Write Python that trains a scikit-learn classifier on X_train, y_train (8x8 digit images, "
    "64 features) and sets `predictions` to a list of int labels for X_eval. Use only scikit-learn "
    "and numpy; keep training under 20 seconds."
)
LIMITS = SandboxLimits(timeout=60, cpu_seconds=60, memory_mb=3072)


def splits(seed: int = 0) -> dict[str, Any]:
    """Train, validation and test splits of the digits, as plain lists."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x_rest, x_test, y_rest, y_test = train_test_split(
        digits.data, digits.target, test_size=0.2, random_state=seed
    )
    x_train, x_val, y_train, y_val = train_test_split(x_rest, y_rest, test_size=0.25, random_state=seed)
    as_lists = {
        "x_train": x_train,
        "y_train": y_train,
        "x_val": x_val,
        "y_val": y_val,
        "x_test": x_test,
        "y_test": y_test,
    }
    return {name: array.tolist() for name, array in as_lists.items()}


def accuracy(code: str, data: dict[str, Any], evaluate_on: str) -> float:
    """Run the code in the sandbox on the training data and score its predictions on a split."""
    inputs = {"X_train": data["x_train"], "y_train": data["y_train"], "X_eval": data[f"x_{evaluate_on}"]}
    predictions = run_python(code, variables=["predictions"], inputs=inputs, limits=LIMITS).variables[
        "predictions"
    ]
    truth = data[f"y_{evaluate_on}"]
    if not isinstance(predictions, list) or len(predictions) != len(truth):
        raise ValueError(f"`predictions` must be a list of {len(truth)} labels")
    return sum(int(p) == int(t) for p, t in zip(predictions, truth, strict=True)) / len(truth)


def main() -> None:
    arguments = example_arguments(__doc__.splitlines()[0], steps=3)
    model = chosen_model(arguments)
    data = splits()

    def f(code: str) -> tuple[float, str]:
        score = accuracy(code, data, "val")  # code that fails raises: a recorded failure, with the reason
        return score, f"validation accuracy {score:.4f}"

    result = blackbox.run(
        "AutoML on the scikit-learn digits", QUESTION, f, START, None, arguments.steps, model,
        candidates_per_step=2, wandb=False,
    )  # fmt: skip
    report(result)
    print(f"\nBest validation accuracy: {result.best_score:.4f} ({result.stop_reason})")
    print(
        f"Test accuracy of the best code, measured once: {accuracy(result.best_x or START, data, 'test'):.4f}"
    )
    print("Best code:\n" + (result.best_x or START))


if __name__ == "__main__":
    main()
