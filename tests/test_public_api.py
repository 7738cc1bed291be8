"""The public faces of the packages and the import direction between the layers."""

import ast
import subprocess
import sys
from pathlib import Path

import llm_hyperparameters
import llm_strategy
import llm_strategy.testing

ROOT = Path(__file__).parents[1]


def test_llm_strategy_all_is_pinned():
    assert sorted(llm_strategy.__all__) == [
        "ArgumentError",
        "ChatChain",
        "DefinitionError",
        "LLMCallError",
        "LLMFunction",
        "LLMSettings",
        "ModelRefusalError",
        "OutputParseError",
        "OutputTruncatedError",
        "ParseAttempt",
        "ProviderError",
        "SQLiteResponseCache",
        "TypeVarBindingError",
        "enable_response_cache",
        "llm_dataclass",
        "llm_explicit_function",
        "llm_function",
        "llm_strategy",
        "resolve_model",
    ]
    assert sorted(llm_strategy.testing.__all__) == [
        "ModelRequestBlockedError",
        "RecordedRequest",
        "RecordingChatModel",
        "ScriptExhaustedError",
        "ScriptedChatModel",
        "SyntheticChatModel",
        "block_model_requests",
        "override_model",
        "synthesize",
    ]
    assert sorted(llm_hyperparameters.__all__) == [
        "DefinitionError",
        "Hyperparameters",
        "Redactor",
        "Span",
        "SpanError",
        "Trace",
        "TrackedHyperparameters",
        "current_span",
        "current_trace",
        "is_secret_name",
        "log_trace",
        "lookup",
        "read_run_file",
        "register",
        "registered",
        "render_html",
        "span",
        "start_span",
        "trace",
        "tracing_active",
        "track_hyperparameters",
        "write_html",
    ]
    assert llm_strategy.DefinitionError is llm_hyperparameters.DefinitionError


def test_public_names_are_documented():
    for package in (llm_strategy, llm_hyperparameters):
        for name in package.__all__:
            assert getattr(package, name).__doc__, name


def imported_modules(package: str) -> set[str]:
    found = set()
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module)
    return found


def test_llm_hyperparameters_imports_neither_llm_strategy_nor_langchain():
    for module in imported_modules("llm_hyperparameters"):
        assert not module.startswith(("llm_strategy", "langchain")), module


def test_import_is_light():
    script = (
        "import sys, time; start = time.perf_counter(); import llm_strategy, llm_hyperparameters;"
        "print(time.perf_counter() - start);"
        "heavy = ('wandb', 'openai', 'langchain_openai', 'langchain', 'matplotlib');"
        "print(' '.join(m for m in heavy if m in sys.modules))"
    )
    lines = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert lines[1:] in ([], [""]), f"heavy modules imported: {lines[1:]}"
