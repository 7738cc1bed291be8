"""The examples run offline, and the linear-regression protocols stop where they should."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from llm_strategy.testing import ScriptedChatModel

EXAMPLES = Path(__file__).parents[1] / "examples"
sys.path.insert(0, str(EXAMPLES))

from linear_regression import Pair, Problem, parse_pair, run_blackbox, run_opro, run_textgrad  # noqa: E402


def test_the_loss_is_the_mean_squared_error():
    problem = Problem.make(15, 14, seed=3)
    assert len(problem.xs) == 50
    expected = sum((y - (2 * x - 1)) ** 2 for x, y in zip(problem.xs, problem.ys, strict=True)) / 50
    assert problem.loss(2, -1) == pytest.approx(expected)
    assert 0.5 < problem.loss(15, 14) < 1.6  # only the noise is left
    assert len(problem.starts()) == 5 and all(
        10 <= pair.w <= 20 and 10 <= pair.b <= 20 for pair in problem.starts()
    )


def proposing(*pairs):
    pending = list(pairs)

    def reply(messages):
        w, b = pending.pop(0) if len(pending) > 1 else pending[0]
        return json.dumps({"return_value": {"w": w, "b": b}})

    return ScriptedChatModel(replies=reply)


def test_opro_protocol_stops_on_the_exact_hit(tmp_path):
    problem = Problem.make(15, 14)
    model = proposing((12, 12), (13, 13), (15, 14))
    result = run_opro(problem, model, "opro", steps=5, directory=tmp_path)
    assert result.stop_reason == "stop condition met" and result.best_x == Pair(w=15, b=14)


def test_seed_protocol_stops_when_the_last_three_losses_are_below_one(tmp_path):
    problem = Problem.make(3, 5, seed=1, noise=0.5)
    best = min(((w, b) for w in range(0, 7) for b in range(2, 9)), key=lambda pair: problem.loss(*pair))
    w, b = best
    neighbours = [(w, b), (w + 1, b), (w - 1, b)]  # each below 1: the noise variance plus E[x^2] = 1/3
    assert all(problem.loss(*pair) < 1 for pair in neighbours)
    model = proposing(*neighbours)
    result = run_opro(problem, model, "seed", steps=5, directory=tmp_path)
    assert result.stop_reason == "stop condition met"
    assert all(score < 1 for score in [score for score in result.scores if score is not None][-3:])


def test_blackbox_reads_pairs_from_text_and_records_unreadable_text(tmp_path):
    assert (
        parse_pair("w=15, b=-2") == (15, -2) and parse_pair("(3, 5)") == (3, 5) and parse_pair("none") is None
    )
    replies = iter(
        [
            json.dumps({"return_value": [{"reasoning": "r", "solution": text}]})
            for text in ("no numbers", "w=15, b=14")
        ]
    )
    model = ScriptedChatModel(replies=lambda messages: next(replies))
    result = run_blackbox(Problem.make(15, 14), model, "opro", steps=3, directory=tmp_path)
    failures = [record for record in result.history if record.score is None]
    assert failures and "write the solution as 'w=<integer>, b=<integer>'" in failures[0].feedback
    assert result.stop_reason == "stop condition met"


def test_textgrad_reads_the_measured_error_as_its_gradient(tmp_path):
    requests = []

    def reply(messages):
        request = json.loads(messages[1].text)
        requests.append(request)
        return json.dumps({"return_value": {"reasoning": "closer", "improved": "w=15, b=14"}})

    problem = Problem.make(15, 14)
    result = run_textgrad(problem, ScriptedChatModel(replies=reply), steps=1, directory=tmp_path)
    assert (
        "mean squared error of w=" in requests[0]["gradients"][0]
        and "lower is better" in requests[0]["gradients"][0]
    )
    assert result.best_values == {"the coefficients w and b": "w=15, b=14"}
    assert -result.best_score == pytest.approx(problem.loss(15, 14))


@pytest.mark.integration
@pytest.mark.parametrize(
    "script",
    [
        "customer_database_search.py",
        "linear_regression.py",
        "automl_digits.py",
        "paperclip_factory.py",
        "text_rubric.py",
        "opro_instruction.py",
        "textgrad_demo.py",
    ],
)
def test_examples_run_offline(script, tmp_path):
    arguments = [] if script == "customer_database_search.py" else ["--steps", "1"]
    completed = subprocess.run(
        [sys.executable, str(EXAMPLES / script), *arguments],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert "SyntheticChatModel" in completed.stdout  # each says clearly that it runs offline


def test_the_demo_says_it_deletes_a_previous_run_and_keeps_a_finished_real_one(tmp_path, capsys):
    from meta_optimization import REAL_MODEL_MARK, clear_run_directory

    offline = tmp_path / "offline"
    (offline / "steps").mkdir(parents=True)
    clear_run_directory(offline, overwrite=False)
    assert not offline.exists()
    assert capsys.readouterr().out == (
        f"Deleting the previous run in {offline} (pass --resume to continue it instead).\n"
    )

    real = tmp_path / "real"
    real.mkdir()
    (real / REAL_MODEL_MARK).write_text("openai:gpt-4o-mini")
    with pytest.raises(SystemExit, match="holds a finished run made with openai:gpt-4o-mini; keeping it"):
        clear_run_directory(real, overwrite=False)
    assert (real / REAL_MODEL_MARK).exists()
    clear_run_directory(real, overwrite=True)
    assert not real.exists()


SCRIPTS = sorted(path.name for path in EXAMPLES.glob("*.py") if path.name != "common.py")
HELP_PROBE = """
import contextlib, io, json, runpy, sys
sys.path.insert(0, sys.argv[1])
texts = {}
for script in sys.argv[2:]:
    sys.argv = [script, "--help"]
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
        runpy.run_path(f"{sys.path[0]}/{script}", run_name="__main__")
    texts[script] = out.getvalue()
print(json.dumps(texts))
"""


@pytest.fixture(scope="module")
def help_texts():
    """Every example's `--help`, from one interpreter (the imports are paid once)."""
    completed = subprocess.run(
        [sys.executable, "-c", HELP_PROBE, str(EXAMPLES), *SCRIPTS],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return json.loads(completed.stdout.splitlines()[-1])


@pytest.mark.parametrize("script", SCRIPTS)
def test_every_option_has_help_and_the_docstring_names_it(script, help_texts):
    text = help_texts[script]
    docstring = (EXAMPLES / script).read_text().split('"""')[1]
    options = set(re.findall(r"(--[a-z][a-z-]*)", text)) - {"--help"}
    assert options == set(re.findall(r"(--[a-z][a-z-]*)", docstring)), "the docstring's options"
    entries = re.split(r"\n(?=  -)", text.split("options:")[1])
    for entry in filter(str.strip, entries):
        first, *continued = entry.strip("\n").splitlines()
        assert re.search(r"\S {2,}\S", first.strip()) or continued, f"{script}: no help text for {first}"


def test_the_readme_quick_start_prints_what_the_readme_says(tmp_path):
    readme = (EXAMPLES.parent / "README.md").read_text()
    quick_start = readme.split("## Quick start", 1)[1]
    code = quick_start.split("```python\n", 1)[1].split("```", 1)[0]
    printed = quick_start.split("Offline it prints\n\n```text\n", 1)[1].split("```", 1)[0]
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=120, check=True
    )
    assert completed.stdout == printed
