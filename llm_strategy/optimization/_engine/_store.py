"""The run directory: locked while in use, every file written atomically, typed records read back to resume.

Every record, trace and page of a run is written here (`RunStore.write_bytes`): the one
place where what reaches the disk is redacted, by the run's `Redactor`, which learns the secrets
of every typed record before it is written.
"""

from __future__ import annotations

import contextlib
import errno
import os
import socket
import threading
import time
from pathlib import Path
from typing import IO, Any, Generic, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError

from llm_hyperparameters import Redactor

from ._records import FORMAT, FORMAT_VERSION, RunInfo

__all__ = ["Collection", "ResumeError", "RunLockedError", "RunStorageError", "RunStore", "default_directory"]

T = TypeVar("T", bound=BaseModel)
_TEMPORARY = ".tmp"


class ResumeError(ValueError):
    """The run directory cannot be resumed by this optimization (another task, kind or format)."""


class RunLockedError(ResumeError):
    """Another process is working in the run directory."""


class RunStorageError(OSError):
    """A file of the run could not be written (read-only directory, full disk); nothing finished is lost."""


def default_directory(kind: str, task: str) -> Path:
    """A new directory `runs/<kind>-<task>-<time>[-n]`, created here so no other run can take it."""
    name = "".join(character if character.isalnum() or character in "-_" else "-" for character in task)
    stem = Path("runs") / f"{kind}-{name.strip('-')[:40]}-{time.strftime('%Y%m%d-%H%M%S')}"
    stem.parent.mkdir(parents=True, exist_ok=True)
    for number in range(1, 10_000):
        candidate = stem if number == 1 else stem.with_name(f"{stem.name}-{number}")
        try:
            candidate.mkdir()
        except FileExistsError:
            continue
        return candidate
    raise RunStorageError(f"no free run directory next to {stem}")


_REMEDIES = {
    errno.ENOSPC: "the disk has free space",
    errno.EDQUOT: "the disk quota has room",
    errno.EFBIG: "the file-size limit (ulimit -f) or the file system allows files this large",
    errno.EROFS: "the run directory is writable",
    errno.EACCES: "the run directory is writable",
    errno.EPERM: "the run directory is writable",
}
"""What to fix before resuming, by the error that stopped a write."""


class RunStore:
    """`run.json`, typed collections (`task_runs/`, `steps/`, ...), traces and outputs, under an OS lock.

    Text is written redacted by `redactor` (values under secret-named keys and fields it learned,
    secret environment variables, key-shaped strings); binary files (a PNG plot) as they are.
    """

    def __init__(self, path: Path, redactor: Redactor | None = None) -> None:
        self.path = path
        self.redactor = redactor or Redactor()
        self._lock: IO[bytes] | None = None
        self._folders: set[Path] = set()

    def open(self, info: RunInfo, *, resume: bool) -> bool:
        """Lock the directory, clean up after killed writes, and start or check the run; True when resumed."""
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise RunStorageError(f"cannot create the run directory {self.path}: {error}") from error
        self._acquire()
        for leftover in self.path.rglob(f".*{_TEMPORARY}"):
            leftover.unlink(missing_ok=True)
        target = self.path / "run.json"
        if not target.exists():
            if resume and any(item.name != ".lock" for item in self.path.iterdir()):
                raise ResumeError(f"{self.path} holds no optimization run to resume (no run.json)")
            self.write("run.json", info)
            return False
        if not resume:
            raise ResumeError(
                f"{self.path} already holds a run; pass resume=True to continue it, or another directory"
            )
        existing = _existing(target)
        for key in ("kind", "task", "identity"):
            if getattr(existing, key) != getattr(info, key):
                raise ResumeError(
                    f"{self.path} belongs to another optimization: its {key} is "
                    f"{getattr(existing, key)!r:.200}, this one's is {getattr(info, key)!r:.200}"
                )
        return True

    def close(self) -> None:
        """Release the lock."""
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def _acquire(self) -> None:
        try:
            handle = open(self.path / ".lock", "a+b")  # noqa: SIM115 - held until close()
        except OSError as error:  # a read-only directory: refused before any work is done
            raise self._unwritable(self.path / ".lock", error) from error
        try:
            _lock_file(handle)
        except OSError as error:
            handle.close()
            raise RunLockedError(
                f"{self.path} is in use by another process (its lock is held); wait for it to finish, or "
                "use another run directory"
            ) from error
        handle.seek(0)
        handle.truncate()
        handle.write(f"{socket.gethostname()}:{os.getpid()}\n".encode())
        handle.flush()
        self._lock = handle

    def write(self, name: str, record: BaseModel) -> Path:
        """Write a typed record as JSON, atomically (its secrets learned first)."""
        self.redactor.learn(record)
        return self.write_bytes(name, record.model_dump_json(indent=1).encode())

    def write_bytes(self, name: str, data: bytes, *, cleaned: bool = False) -> Path:
        """Write a file atomically, its text redacted: a reader never sees half of it, a killed or failed
        write leaves none.

        `cleaned`: the text was rendered from data this store's redactor has just cleaned (a step's
        trace), so it is not scanned a second time. (The rename is atomic; there is no fsync, so a
        power cut may lose the last writes.)
        """
        if not cleaned:
            with contextlib.suppress(UnicodeDecodeError):  # binary (a plot): holds no text of the run
                data = self.redactor.scrub(data.decode()).encode()
        target = self.path / name
        temporary: str | None = None
        try:
            if target.parent not in self._folders:
                target.parent.mkdir(parents=True, exist_ok=True)
                self._folders.add(target.parent)
            temporary = f"{target.parent}/.{target.name}.{threading.get_ident()}{_TEMPORARY}"
            with open(temporary, "wb") as file:
                file.write(data)
            os.replace(temporary, target)
        except OSError as error:
            if temporary is not None:
                with contextlib.suppress(OSError):  # none was made (read-only), or it is cleaned on resume
                    Path(temporary).unlink()
            raise self._unwritable(target, error) from error
        return target

    def _unwritable(self, target: Path, error: OSError) -> RunStorageError:
        remedy = _REMEDIES.get(error.errno or 0, "it can be written")
        return RunStorageError(
            f"cannot write {target}: {error.strerror or error}. Everything finished before is kept in "
            f"{self.path}; resume the run (resume=True) once {remedy}"
        )

    def read(self, name: str, model: type[T]) -> T | None:
        """The record stored under `name`, or None."""
        target = self.path / name
        if not target.exists():
            return None
        return _validated(model, target)

    def collection(self, directory: str, record_type: Any) -> Collection[Any]:
        """The records of one type under `directory/<id>.json`."""
        return Collection(self, directory, record_type)


class Collection(Generic[T]):
    """One directory of records of one type, each file named by its id, read through one adapter."""

    def __init__(self, store: RunStore, directory: str, record_type: type[T]) -> None:
        self.store, self.directory = store, directory
        self.adapter: TypeAdapter[T] = TypeAdapter(record_type)

    def write(self, key: str, record: T) -> None:
        """Store one finished record (its secrets learned first)."""
        self.store.redactor.learn(record)
        self.store.write_bytes(f"{self.directory}/{key}.json", self.adapter.dump_json(record, indent=1))

    def all(self) -> list[T]:
        """Every stored record, in id order."""
        return [
            _validated(self.adapter, path)
            for path in sorted((self.store.path / self.directory).glob("*.json"))
        ]


def _validated(model: Any, path: Path) -> Any:
    adapter = model if isinstance(model, TypeAdapter) else TypeAdapter(model)
    try:
        return adapter.validate_json(path.read_bytes())
    except ValidationError as error:
        raise ResumeError(
            f"{path} does not hold what this version of llm-strategy writes: {error}"
        ) from error


def _existing(target: Path) -> RunInfo:
    import json

    data = json.loads(target.read_text(encoding="utf-8"))
    version = data.get("version", 1) if isinstance(data, dict) else None
    if not isinstance(data, dict) or data.get("format") != FORMAT or version != FORMAT_VERSION:
        raise ResumeError(
            f"{target.parent} was written in run format {version!r}; this version of llm-strategy reads "
            f"format {FORMAT_VERSION} only. Start a new run directory (or use the llm-strategy that wrote it)"
        )
    return RunInfo.model_validate(data)


def _lock_file(handle: IO[bytes]) -> None:
    """An exclusive, non-blocking OS lock, released when the process dies."""
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined,unused-ignore]
    else:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
