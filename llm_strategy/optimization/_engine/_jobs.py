"""Jobs for any `concurrent.futures.Executor` (the default a thread pool), and the run's one event loop.

A job whose worker fails, or that cannot travel to it, comes back as a `WorkerFailure`, never raised.
"""

from __future__ import annotations

import asyncio
import contextvars
import dataclasses
import functools
import os
import socket
import threading
import traceback
import uuid
from collections.abc import Callable, Coroutine, Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any, TypeVar

from llm_hyperparameters import Trace, trace

__all__ = ["Job", "JobResult", "Jobs", "WorkerFailure", "error_text", "run_concurrently", "run_coroutine"]

T = TypeVar("T")


_LOOP_LOCK = threading.Lock()


def _event_loop() -> asyncio.AbstractEventLoop:
    """The process's long-lived event loop, started once even when many threads ask at the same moment."""
    with _LOOP_LOCK:
        return _started_loop()


@functools.cache
def _started_loop() -> asyncio.AbstractEventLoop:
    """A loop on its own daemon thread; async clients that cache connections per loop stay valid on it."""
    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, name="llm-strategy event loop", daemon=True).start()
    return loop


def run_coroutine(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine on the process's one event loop, in the caller's context (trace, scopes)."""
    context = contextvars.copy_context()

    async def in_context() -> T:
        return await asyncio.get_running_loop().create_task(coroutine, context=context)

    return asyncio.run_coroutine_threadsafe(in_context(), _event_loop()).result()


def run_concurrently(jobs: Sequence[Callable[[], T]], limit: int) -> list[T]:
    """Run jobs on up to `limit` threads, each in a copy of the caller's context (trace, scopes)."""
    if len(jobs) <= 1 or limit <= 1:
        return [job() for job in jobs]
    with ThreadPoolExecutor(max_workers=min(limit, len(jobs))) as pool:
        futures = [pool.submit(contextvars.copy_context().run, job) for job in jobs]
        return [future.result() for future in futures]


# -- jobs ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class JobResult:
    """What a job brings back: its outcome, the spans it recorded in another process, and where it ran."""

    outcome: Any
    spans: dict[str, Any] | None
    worker: str


@dataclass(frozen=True)
class WorkerFailure:
    """The outcome of a job whose worker failed, or that could not travel to it."""

    message: str


@dataclass(frozen=True)
class Job:
    """A unit of work for an executor: `function(*arguments)`, which opens its own span."""

    key: str
    function: Callable[..., Any]
    arguments: tuple[Any, ...] = ()
    elsewhere: bool = False

    def __dask_tokenize__(self) -> str:
        """Every job is new to Dask (never a cached result), and naming it costs nothing."""
        return f"{self.key}-{uuid.uuid4().hex}"

    def __call__(self) -> JobResult:
        """Run; spans go into the caller's trace, or (`elsewhere`) into a new one brought back as data."""
        worker = f"{socket.gethostname()}:{os.getpid()}"
        if not self.elsewhere:
            return JobResult(self.function(*self.arguments), None, worker)
        with trace(self.key) as recorded:
            outcome = self.function(*self.arguments)
        return JobResult(outcome, recorded.to_dict(), worker)


@dataclass
class Jobs:
    """Submits a run's jobs to its executor (by default a thread pool of `concurrency` threads)."""

    executor: Executor | None
    concurrency: int
    _pool: ThreadPoolExecutor | None = field(default=None, init=False)

    def run(
        self, jobs: Sequence[Job], step_trace: Trace | None, done: Callable[[Job, JobResult], None]
    ) -> None:
        """Run every job; `done` is called in the caller's thread as each one finishes.

        Spans recorded in another process are grafted into `step_trace` first.
        """
        if not jobs:
            return
        executor = self.executor or self._default()
        local = isinstance(executor, ThreadPoolExecutor)
        futures: dict[Future[JobResult], Job] = {}
        for job in jobs:
            try:
                if local:
                    future = executor.submit(contextvars.copy_context().run, job)
                else:
                    future = executor.submit(dataclasses.replace(job, elsewhere=True))
            except Exception as error:  # the job could not be sent
                done(job, JobResult(WorkerFailure(f"worker failed: {error_text(error)}"), None, ""))
                continue
            futures[future] = job
        for future in as_completed(futures):
            try:
                result = future.result()
            except Exception as error:  # the worker died, or the result could not travel back
                result = JobResult(WorkerFailure(f"worker failed: {error_text(error)}"), None, "")
            if result.spans is not None and step_trace is not None:
                step_trace.adopt(Trace.from_dict(result.spans), step_trace.root)
            done(futures[future], result)

    def _default(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="llm-strategy")
        return self._pool

    def close(self) -> None:
        """Shut the default thread pool down."""
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None


def error_text(error: BaseException) -> str:
    """The exception's type and message, as a traceback's last line shows them."""
    return "".join(traceback.format_exception_only(type(error), error)).strip()
