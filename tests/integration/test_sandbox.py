"""Generated code in the sandbox: real bwrap, real processes, real limits (attacks: test_sandbox_hostile)."""

import http.server
import threading
import time

import pytest

from llm_strategy.optimization.sandbox import (
    SandboxCodeError,
    SandboxError,
    SandboxLimits,
    SandboxMemoryError,
    SandboxTimeout,
    run_python,
)

pytestmark = pytest.mark.integration


def test_variables_come_back_from_a_clean_interpreter(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-canary-0123456789abcdef")
    result = run_python(
        "import os, sys\ntotal = sum(values)\nenvironment = dict(os.environ)\nisolated = sys.flags.isolated\n"
        "where = os.getcwd()\nprint('hello')",
        variables=["total", "environment", "isolated", "where"],
        inputs={"values": [1, 2, 3]},
    )
    assert result.variables["total"] == 6 and result.variables["isolated"] == 1
    assert result.variables["where"] == "/sandbox" and result.stdout == "hello\n"
    assert (result.isolation, result.network) == ("bubblewrap", "none")
    environment = result.variables["environment"]
    assert set(environment) - {"PWD"} <= {
        "PATH",
        "LANG",
        "PYTHONHASHSEED",
        "HOME",
        "TMPDIR",
        "OMP_NUM_THREADS",
        "OPENBLAS_NUM_THREADS",
        "KMP_DUPLICATE_LIB_OK",  # set by libraries the venv loads at startup
        "KMP_INIT_AT_FORK",
    }
    assert not any("canary" in value for value in environment.values())


def test_json_values_round_trip_and_other_values_are_refused_by_name():
    code = "data = {'a': [1, 2.5, None, True], 'b': 'x'}\npair = (1, 2)\nodd = {1, 2}"
    assert run_python(code, variables=["data", "pair"]).variables == {
        "data": {"a": [1, 2.5, None, True], "b": "x"},
        "pair": [1, 2],
    }
    with pytest.raises(
        SandboxCodeError, match=r"variable 'odd' cannot be returned: builtins\.set is not a JSON value"
    ):
        run_python(code, variables=["odd"])


def test_an_endless_loop_is_stopped_on_time():
    started = time.monotonic()
    with pytest.raises(SandboxTimeout, match=r"longer than 1\.5 s"):
        run_python("while True:\n    pass", limits=SandboxLimits(timeout=1.5))
    assert 1.5 <= time.monotonic() - started < 2.5


def test_the_cpu_limit_stops_a_busy_loop_before_the_wall_clock_does():
    with pytest.raises(SandboxTimeout, match="more than 1 s of CPU time"):
        run_python("while True:\n    pass", limits=SandboxLimits(timeout=20, cpu_seconds=1))


def test_unbounded_allocation_is_a_memory_error():
    with pytest.raises(SandboxMemoryError, match="more than 300 MB"):
        run_python(
            "chunks = []\nwhile True:\n    chunks.append(bytearray(10**7))",
            limits=SandboxLimits(memory_mb=300),
        )


def test_exceptions_and_missing_variables_are_code_errors():
    with pytest.raises(SandboxCodeError, match="ZeroDivisionError") as caught:
        run_python("x = 1 / 0")
    assert "code.py" in caught.value.traceback and caught.value.error_type == "ZeroDivisionError"
    with pytest.raises(SandboxCodeError, match="did not define answer"):
        run_python("other = 1", variables=["answer"])


def test_a_process_that_dies_without_reporting_is_a_sandbox_error():
    with pytest.raises(SandboxError, match="ended with exit status 3 before reporting"):
        run_python("import os\nos._exit(3)")
    with pytest.raises(SandboxError, match="ended with signal SIGKILL before reporting"):
        run_python("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)")


def test_the_work_directory_is_writable_and_the_rest_is_not():
    code = "open('notes.txt', 'w').write('fine')\nok = open('notes.txt').read()\nopen('/usr/escaped', 'w')"
    with pytest.raises(SandboxCodeError, match=r"Read-only file system|Permission denied"):
        run_python(code)
    assert run_python(code.rsplit("\n", 1)[0], variables=["ok"]).variables == {"ok": "fine"}


def test_the_file_size_limit_holds():
    with pytest.raises(SandboxError, match=r"signal SIGXFSZ|File too large"):
        run_python("open('big', 'wb').write(b'x' * (3 * 2**20))", limits=SandboxLimits(file_size_mb=2))


def test_scikit_learn_imports_inside():
    result = run_python(
        "from sklearn.linear_model import LinearRegression\n"
        "w = float(LinearRegression().fit([[0], [1], [2]], [1, 3, 5]).coef_[0])",
        variables=["w"],
        limits=SandboxLimits(timeout=60, cpu_seconds=60, memory_mb=2048),
    )
    assert result.variables["w"] == pytest.approx(2.0)


@pytest.fixture
def local_server():
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"pong")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_host_network_reaches_a_local_server_only_when_asked(local_server):
    code = "import urllib.request\nreply = urllib.request.urlopen(url, timeout=5).read().decode()"
    result = run_python(code, variables=["reply"], inputs={"url": local_server}, network="host")
    assert result.variables == {"reply": "pong"} and result.network == "host"
    with pytest.raises(SandboxCodeError, match="URLError"):
        run_python(code, variables=["reply"], inputs={"url": local_server})


def test_process_isolation_runs_without_bubblewrap(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # no bwrap here
    result = run_python("x = 2 * 21", variables=["x"], isolation="process", network="host")
    assert result.variables == {"x": 42} and result.isolation == "process"
    with pytest.raises(SandboxTimeout):
        run_python(
            "while True:\n    pass", isolation="process", network="host", limits=SandboxLimits(timeout=1)
        )
