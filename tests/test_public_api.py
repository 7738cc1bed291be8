"""The public faces of the packages and the import direction between the layers."""

import ast
import importlib
import itertools
import subprocess
import sys
import types
from pathlib import Path
from typing import ParamSpec, TypeVar

import pytest

import llm_hyperparameters
import llm_strategy
import llm_strategy.testing

ROOT = Path(__file__).parents[1]


PUBLIC_MODULES = [
    "llm_strategy",
    "llm_strategy.errors",
    "llm_strategy.chat_chain",
    "llm_strategy.testing",
    "llm_strategy.testing.pytest_plugin",
    "llm_strategy.optimization",
    "llm_strategy.optimization.blackbox",
    "llm_strategy.optimization.opro",
    "llm_strategy.optimization.textgrad",
    "llm_strategy.optimization.sandbox",
    "llm_strategy.optimization.judge",
    "llm_strategy.optimization.pareto",
    "llm_hyperparameters",
]
OLD_MODULE_PATHS = {  # 2.2.0's module paths: aliases of public names
    "llm_strategy.llm_function": "llm_strategy",
    "llm_strategy.llm_strategy": "llm_strategy",
    "llm_strategy.adapters": "llm_strategy",
    "llm_strategy.testing.fake_llm": "llm_strategy.testing",
    "llm_strategy.testing.fake_chat_model": "llm_strategy.testing",
    "llm_hyperparameters.track_hyperparameters": "llm_hyperparameters",
}
OUR_PACKAGES = ("llm_strategy", "llm_hyperparameters")


def test_llm_strategy_all_is_pinned():
    assert sorted(llm_strategy.__all__) == [
        "ArgumentError",
        "ChatChain",
        "ChatModelAsLLM",
        "DefinitionError",
        "LLMAsChatModel",
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
        "settings",
    ]
    assert sorted(llm_strategy.testing.__all__) == [
        "FakeChatModel",
        "FakeLLM",
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
        "Hyperparameter",
        "Hyperparameters",
        "HyperparametersScope",
        "Redactor",
        "Span",
        "SpanError",
        "Trace",
        "TrackedHyperparameters",
        "current_span",
        "current_trace",
        "export_otel",
        "flush",
        "hyperparameters_scope",
        "instrument",
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
        "uninstrument",
        "write_html",
    ]
    assert llm_strategy.DefinitionError is llm_hyperparameters.DefinitionError


def test_optimization_all_is_pinned():
    import llm_strategy.optimization as optimization

    assert sorted(optimization.__all__) == [
        "Budget",
        "ChatMessage",
        "ChatRequest",
        "DEFAULT_PRICES",
        "Duplicate",
        "Evaluated",
        "FrontierEntry",
        "ImprovementProbability",
        "LLMOptimizer",
        "MetaDecision",
        "MetaOptimizer",
        "OptimizationInfo",
        "OptimizationResult",
        "OptimizationStep",
        "ParetoStep",
        "ReflectiveProposer",
        "ResumeError",
        "RunLockedError",
        "RunOptions",
        "RunPlan",
        "RunResult",
        "RunStorageError",
        "SearchDecision",
        "SearchResult",
        "StepRow",
        "Suggestion",
        "TaskInfo",
        "TaskReflection",
        "TaskRun",
        "TaskRunRecord",
        "TextGradStep",
        "Usage",
        "blackbox",
        "judge",
        "opro",
        "optimize_hyperparameters",
        "pareto",
        "sandbox",
        "textgrad",
    ]
    for name in optimization.__all__:
        assert getattr(optimization, name).__doc__ or name == "DEFAULT_PRICES", name
    documented = (ROOT / "docs" / "reference" / "optimization.md").read_text()
    for name in optimization.__all__:
        if name[0].isupper() and name != "DEFAULT_PRICES":
            assert f"llm_strategy.optimization.{name}" in documented or f"- {name}" in documented, name


def _defines(module: types.ModuleType, value: object) -> bool:
    """Whether `value` is our own: defined in `module`, or (for a package) anywhere in our packages."""
    if isinstance(value, types.ModuleType | TypeVar | ParamSpec):
        return False
    origin = getattr(value, "__module__", None)
    if not isinstance(origin, str):
        return False
    if hasattr(module, "__path__"):  # a package's __init__ only re-exports
        return origin.split(".")[0] in OUR_PACKAGES
    return origin == module.__name__


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_exported_members(name):
    """Every public name of our own in the module is in `__all__`, and every name in `__all__` exists."""
    module = importlib.import_module(name)
    exported = set(module.__all__)
    for attribute in exported:
        assert getattr(module, attribute) is not None, attribute  # lazily loaded names resolve too
    public = {
        key for key, value in vars(module).items() if not key.startswith("_") and _defines(module, value)
    }
    assert public - exported == set(), f"{name}: public but not in __all__"


@pytest.mark.parametrize(("old", "new"), OLD_MODULE_PATHS.items())
def test_old_module_paths_alias_public_names(old, new):
    module, public = importlib.import_module(old), importlib.import_module(new)
    assert module.__all__
    for attribute in module.__all__:
        assert getattr(module, attribute) is getattr(public, attribute), f"{old}.{attribute}"


def _reference_entries() -> list[tuple[str, list[str] | None]]:
    """`(path, members or None)` for each `::: path` of the API reference."""
    entries: list[tuple[str, list[str] | None]] = []
    for page in sorted((ROOT / "docs" / "reference").glob("*.md")):
        lines = page.read_text().splitlines()
        for index, line in enumerate(lines):
            if line.startswith("::: "):
                members = None
                block = itertools.takewhile(lambda text: text.startswith(" ") or not text, lines[index + 1 :])
                listed = [text.strip()[2:] for text in block if text.strip().startswith("- ")]
                entries.append((line[4:].strip(), listed or members))
    return entries


def _resolve(path: str) -> tuple[object, types.ModuleType | None]:
    """The object a dotted path names, and the module that exports it (None for a module)."""
    parts = path.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            module = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        if cut == len(parts):
            return module, None
        owner: object = module
        for part in parts[cut:-1]:
            owner = getattr(owner, part)
        return getattr(owner, parts[-1]), module if len(parts) == cut + 1 else None
    raise AssertionError(f"{path} names nothing")


def test_api_reference_names_only_public_names():
    for path, members in _reference_entries():
        assert not any(part.startswith("_") for part in path.split(".")), path
        value, exporter = _resolve(path)
        if exporter is not None:
            assert path.rsplit(".", 1)[1] in exporter.__all__, f"{path} is not in its module's __all__"
        for member in members or ():
            assert member in value.__all__, f"{path}: {member}"  # type: ignore[attr-defined]


def test_every_public_name_is_in_the_api_reference():
    documented: list[object] = []
    for path, members in _reference_entries():
        value, _ = _resolve(path)
        if isinstance(value, types.ModuleType):
            documented += [getattr(value, member) for member in (members or value.__all__)]
        else:
            documented.append(value)
    missing = []
    for name in PUBLIC_MODULES:
        module = importlib.import_module(name)
        for attribute in module.__all__:
            value = getattr(module, attribute)
            if not isinstance(value, types.ModuleType) and not any(value is known for known in documented):
                missing.append(f"{name}.{attribute}")
    assert missing == [], "not in the API reference: " + " ".join(missing)


def test_public_names_are_documented():
    for name in PUBLIC_MODULES:
        module = importlib.import_module(name)
        for attribute in module.__all__:
            assert getattr(module, attribute).__doc__, f"{name}.{attribute}"


def test_tests_and_examples_use_public_names_only():
    for folder in ("tests", "examples"):
        for path in (ROOT / folder).rglob("*.py"):
            for module in imported_modules_of(path):
                private = [
                    part for part in module.split(".") if part.startswith("_") and part != "__future__"
                ]
                assert not private, f"{path}: {module}"


def imported_modules_of(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def imported_modules(package: str) -> set[str]:
    return {module for path in (ROOT / package).rglob("*.py") for module in imported_modules_of(path)}


def test_llm_hyperparameters_imports_neither_llm_strategy_nor_langchain():
    for module in imported_modules("llm_hyperparameters"):
        assert not module.startswith(("llm_strategy", "langchain")), module


def test_import_is_light():
    script = (
        "import sys, time; start = time.perf_counter(); import llm_strategy, llm_hyperparameters;"
        "print(time.perf_counter() - start);"
        "heavy = ('wandb', 'openai', 'langchain_openai', 'langchain', 'matplotlib', 'opentelemetry',"
        " 'openinference');"
        "print(' '.join(m for m in heavy if m in sys.modules))"
    )
    lines = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert lines[1:] in ([], [""]), f"heavy modules imported: {lines[1:]}"
