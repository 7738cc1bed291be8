"""The sandbox's child side (run as a script by `sandbox.run_python`, never imported by the library).

It opens its report file first, then installs an audit hook that refuses network access,
subprocesses and any write, rename or deletion outside the working directory, then runs
`code.py` and reports the requested variables as JSON. The hook guards ordinary Python code
(native libraries such as numpy load as usual); the process limits, the empty environment,
the temporary directory and the network namespace do not depend on it.
"""

from __future__ import annotations

import json
import os
import runpy
import sys
import traceback
from typing import Any

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC
_PATH_EVENTS = {
    *("os.remove", "os.rename", "os.rmdir", "os.mkdir", "os.chmod", "os.chown", "os.symlink", "os.link"),
    *("os.truncate", "shutil.rmtree", "shutil.move", "shutil.copyfile", "os.utime"),
}
_FORBIDDEN_EVENTS = {
    *("subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.fork", "os.forkpty", "os.spawn"),
    *("pty.spawn", "os.kill", "os.killpg"),
}
_NETWORK_EVENTS = {
    *("socket.connect", "socket.bind", "socket.sendto", "socket.sendmsg", "socket.getaddrinfo"),
    *("socket.gethostbyname", "urllib.Request"),
}


def _inside(path: Any, root: str) -> bool:
    if isinstance(path, int):
        return True  # an already-open descriptor
    full = os.path.realpath(os.path.join(root, os.fsdecode(path)))
    return full == root or full.startswith(root + os.sep)


def _guard(root: str, allow_network: bool) -> Any:
    def hook(event: str, arguments: tuple[Any, ...]) -> None:
        if event == "open":
            path, mode, flags = (*arguments, None, None, None)[:3]
            writing = (isinstance(mode, str) and any(flag in mode for flag in "wax+")) or (
                isinstance(flags, int) and flags & _WRITE_FLAGS
            )
            if writing and path is not None and not _inside(path, root):
                raise PermissionError(f"the sandbox may only write inside its directory, not to {path!r}")
        elif event in _PATH_EVENTS:
            for argument in arguments[:2]:
                if isinstance(argument, str | bytes | os.PathLike) and not _inside(argument, root):
                    raise PermissionError(f"the sandbox may not change {argument!r} ({event})")
        elif event in _FORBIDDEN_EVENTS or event.startswith("os.exec") or event.startswith("os.spawn"):
            raise PermissionError(f"the sandbox does not allow {event}")
        elif event in _NETWORK_EVENTS and not allow_network:
            raise PermissionError(f"the sandbox has no network ({event})")

    return hook


def main() -> None:
    root = os.path.realpath(sys.argv[1])
    allow_network = "--allow-network" in sys.argv[2:]
    with open(os.path.join(root, "request.json"), encoding="utf-8") as file:
        request = json.load(file)
    report = open(os.path.join(root, "result.json"), "w", encoding="utf-8")  # noqa: SIM115 - opened before the guard
    sys.addaudithook(_guard(root, allow_network))
    try:
        code = os.path.join(root, "code.py")
        namespace = runpy.run_path(code, init_globals=request["inputs"], run_name="__main__")
        missing = [name for name in request["variables"] if name not in namespace]
        if missing:
            raise NameError(f"the code did not define {', '.join(missing)}")
        values = {name: namespace[name] for name in request["variables"]}
        text = json.dumps({"variables": values}, default=repr)
    except BaseException as error:  # everything the code raises is reported
        text = json.dumps(
            {
                "error": {
                    "type": type(error).__name__,
                    "message": str(error),
                    "traceback": "".join(traceback.format_exception(error)[-6:]),
                }
            }
        )
    report.write(text)
    report.close()


if __name__ == "__main__":
    main()
