"""Where the jobs of a run execute: in this process, in a pool of processes, or as Ray tasks.

Each runner takes the jobs, a picklable `work(job) -> Outcome` (which never raises for a bad
file) and `report`, called here with each Outcome as it arrives. On Ctrl-C a runner stops its
workers, whose half-written outputs are removed as they stop (audio_io.atomic_output), and
re-raises KeyboardInterrupt; a rerun skips the files already done. `ray` reaches Ray first and
yields its runner, so a cluster that cannot be reached fails the command before any output is made.
"""

import contextlib
import functools
import multiprocessing
import os
import signal
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from types import ModuleType

from codec.batch import cluster
from codec.batch.plan import Job
from codec.batch.work import Outcome, failed, one_line

Work = Callable[[Job], Outcome]
Report = Callable[[Outcome], None]
Runner = Callable[[list[Job], Work, Report], None]


def here(jobs: list[Job], work: Work, report: Report) -> None:
    for job in jobs:
        report(work(job))


def processes(jobs: list[Job], work: Work, report: Report, workers: int) -> None:
    """`workers` processes, started fresh ("spawn": no copy of this process's threads or torch state).

    A worker that dies (killed, out of memory) breaks the pool and every job in it. The jobs left
    are then run one at a time until the one that kills its worker again is found and failed,
    and the rest go back to `workers` processes: one bad file costs one file, not the run."""
    left = _pool_pass(jobs, work, report, workers)
    while left:
        left = _pool_pass(left, work, report, 1)
        if left:  # one worker, jobs in order: the first not finished is the one that was running
            report(failed(left[0], "its worker process stopped (killed, or out of memory?)"))
            left = _pool_pass(left[1:], work, report, workers)


def _pool_pass(jobs: list[Job], work: Work, report: Report, workers: int) -> list[Job]:
    """Run jobs in a fresh pool; the jobs not finished when a worker died, in order (none if none died)."""
    if not jobs:
        return []
    finished: set[int] = set()
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = {pool.submit(_interruptible, work, job): index for index, job in enumerate(jobs)}
        try:
            for future in as_completed(futures):
                try:
                    outcome = future.result()
                except BrokenProcessPool:
                    continue
                except Exception as exc:  # the job could not reach its worker (not picklable, say)
                    outcome = failed(jobs[futures[future]], one_line(exc))
                finished.add(futures[future])
                report(outcome)
        except KeyboardInterrupt:
            for child in multiprocessing.active_children():  # reached when only this process got the signal
                os.kill(child.pid, signal.SIGINT)
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    return [job for index, job in enumerate(jobs) if index not in finished]


def _interruptible(work: Work, job: Job) -> Outcome:
    """In a worker: on SIGINT, leave once the job's temporary file is gone, instead of taking the next job."""
    try:
        return work(job)
    except KeyboardInterrupt:
        os._exit(130)


@contextlib.contextmanager
def ray(address: str | None, cpus_per_task: int) -> Iterator[Runner]:
    """A runner of one Ray task per file, each asking for `cpus_per_task` CPUs, on Ray reached now (cluster.connected:
    DdcodecError if it cannot be). Paths are passed as they are, so every node must see them (a shared filesystem)."""
    with cluster.connected(address) as ray_api:
        yield functools.partial(_ray_tasks, ray_api, cpus_per_task)


def _ray_tasks(ray_api: ModuleType, cpus_per_task: int, jobs: list[Job], work: Work, report: Report) -> None:
    task = ray_api.remote(num_cpus=cpus_per_task)(_call)
    pending = {task.remote(work, job): job for job in jobs}
    try:
        while pending:
            [ready], _ = ray_api.wait(list(pending), num_returns=1)
            job = pending.pop(ready)
            try:
                report(ray_api.get(ready))
            except Exception as exc:  # the task's process or node was lost
                report(failed(job, f"its Ray task failed: {one_line(exc)}"))
    except KeyboardInterrupt:
        for ref in pending:
            ray_api.cancel(ref)  # KeyboardInterrupt in the task: its temporary file is removed
        raise


def _call(work: Work, job: Job) -> Outcome:
    return work(job)
