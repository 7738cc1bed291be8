"""The sandbox's argument checks and its refusal to run unisolated: fast, no sandbox started."""

import os
import stat
import sys

import pytest

from llm_strategy.optimization.sandbox import (
    SandboxError,
    SandboxLimits,
    SandboxUnavailableError,
    run_python,
)


@pytest.mark.parametrize(
    ("arguments", "error", "message"),
    [
        ({"variables": "total"}, TypeError, "variables must be a list of names, not the string 'total'"),
        ({"variables": ["not a name"]}, ValueError, "'not a name' is not a Python identifier"),
        ({"inputs": {"x-y": 1}}, ValueError, "'x-y' is not a Python identifier"),
        ({"inputs": {"handle": object()}}, TypeError, "input 'handle' cannot be sent to the sandbox as JSON"),
        ({"isolation": "docker"}, ValueError, "isolation must be 'bubblewrap' or 'process', not 'docker'"),
        ({"network": "internet"}, ValueError, "network must be 'none' or 'host', not 'internet'"),
        ({"isolation": "process"}, ValueError, "isolation='process' cannot keep the code off the network"),
    ],
    ids=[
        "variables-string",
        "variable-name",
        "input-name",
        "input-not-json",
        "isolation",
        "network",
        "process-net",
    ],
)
def test_bad_arguments_are_refused_before_anything_runs(arguments, error, message):
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
        run_python("x = 1", **arguments)


@pytest.mark.parametrize(
    "field", ["timeout", "cpu_seconds", "memory_mb", "file_size_mb", "processes", "output_bytes"]
)
def test_limits_must_be_positive(field):
    with pytest.raises(ValueError, match=f"SandboxLimits.{field} must be positive, not 0"):
        SandboxLimits(**{field: 0})


def test_a_missing_bwrap_raises_with_the_fix(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(
        SandboxUnavailableError, match=r"bwrap.*not on PATH: install it \(`apt-get install bubblewrap`\)"
    ):
        run_python("x = 1")


def test_a_bwrap_that_cannot_create_namespaces_raises_with_its_reason(monkeypatch, tmp_path):
    fake = tmp_path / "bwrap"
    fake.write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(
        SandboxUnavailableError, match=r"No permissions to create new namespace.*apt-get install bubblewrap"
    ):
        run_python("x = 1")


def test_the_unavailable_error_is_a_sandbox_error():
    assert issubclass(SandboxUnavailableError, SandboxError)


def test_the_package_imports_without_the_resource_module():
    """Windows has no `resource`: the sandbox module must not need it to be imported."""
    import subprocess

    code = (
        "import sys\nsys.modules['resource'] = None\n"
        "import llm_strategy.optimization\nfrom llm_strategy.optimization import sandbox\nprint('ok')"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert completed.stdout == "ok\n", completed.stderr
