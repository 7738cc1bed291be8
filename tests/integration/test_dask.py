"""Task runs and evaluations on a real Dask `LocalCluster` with two worker processes: the same records
as on the default thread pool, run in other processes, with their usage and traces."""

import json
import os

import pytest

from llm_strategy.optimization import blackbox, optimize_hyperparameters
from llm_strategy.testing import SyntheticChatModel

from ..optimization.tasks import judged_length, write_note
from ..optimization.test_search import proposer

pytestmark = pytest.mark.integration
distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=2, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as connected,
    ):
        yield connected


def llm_spans_under_task_runs(directory):
    counted = 0
    for path in sorted((directory / "traces").glob("step-*.json")):
        spans = json.loads(path.read_text())["spans"]
        runs = {span["id"] for span in spans if span["name"].startswith(("task run", "evaluate"))}
        parents = {span["id"]: span["parent_id"] for span in spans}
        for span in spans:
            ancestor = span["parent_id"]
            while ancestor is not None and ancestor not in runs:
                ancestor = parents.get(ancestor)
            counted += span["kind"] == "llm" and ancestor is not None
    return counted


def test_blackbox_on_a_cluster_matches_the_thread_pool(client, tmp_path):
    def optimize(directory, **extra):
        return blackbox.run(
            "Grow",
            "Longer.",
            judged_length,
            ["ab", "abc"],
            max_steps=2,
            model=proposer(["abcd", "abcde"], ["abcdefg"]),
            run_directory=directory,
            wandb=False,
            progress=False,
            **extra,
        )

    local = optimize(tmp_path / "threads")
    remote = optimize(tmp_path / "dask", executor=client.get_executor())

    def comparable(result):
        return [(r.id, r.step, r.x, r.score, r.feedback.split(", pid")[0]) for r in result.history]

    assert comparable(remote) == comparable(local) and remote.best_x == "abcdefg"
    pids = {int(record.feedback.rsplit(" ", 1)[1]) for record in remote.history}
    assert os.getpid() not in pids and len(pids) >= 1
    assert all(record.worker and not record.worker.endswith(f":{os.getpid()}") for record in remote.history)
    assert (
        remote.usage.llm_calls == local.usage.llm_calls == 5 + 2
    )  # a judge request per candidate, 2 proposals
    assert (
        llm_spans_under_task_runs(tmp_path / "dask") == llm_spans_under_task_runs(tmp_path / "threads") == 5
    )


def test_meta_optimizer_on_a_cluster_matches_the_thread_pool(client, tmp_path):
    def optimize(directory, **extra):
        model = SyntheticChatModel(seed=4)
        return optimize_hyperparameters(
            write_note,
            [{"topic": "bees"}, {"topic": "tides"}],
            optimizer_model=model,
            task_model=model,
            evaluator=lambda run: float(len(run.return_value or "")),
            max_steps=1,
            stop_probability=0.0,
            run_directory=directory,
            wandb=False,
            progress=False,
            **extra,
        )

    local = optimize(tmp_path / "threads")
    remote = optimize(tmp_path / "dask", executor=client.get_executor())

    def comparable(result):
        return [
            (r.id, r.task_parameters, r.hyperparameters, r.return_value, r.exception, r.score, r.chat_chains)
            for r in result.history
        ]

    assert comparable(remote) == comparable(local) and len(remote.history) >= 3
    assert all(record.exception is None for record in remote.history)
    workers = {record.worker for record in remote.history}
    assert all(not worker.endswith(f":{os.getpid()}") for worker in workers)
    assert remote.best_hyperparameters == local.best_hyperparameters
    assert remote.usage.llm_calls == local.usage.llm_calls
    assert remote.usage.total_tokens == local.usage.total_tokens
    task_requests = llm_spans_under_task_runs(tmp_path / "dask")
    assert task_requests == llm_spans_under_task_runs(tmp_path / "threads") == len(remote.history)
