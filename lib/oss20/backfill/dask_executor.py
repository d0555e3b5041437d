"""Run recorded backfill chunks on a Dask distributed cluster (``OSS20_DASK_SCHEDULER``).

One Dask task per symbol-day: inside a worker its chunks go through the same ``run_chunks`` as the
local pool, one after another, so merges of one symbol-day never race while different symbol-days
spread over the cluster. At most ``concurrency`` symbol-days run at once, and each sends one history
request at a time, so at most ``concurrency`` requests are in flight cluster-wide, as with the local
pool; every request still takes its slot from the shared budget (``open_budget``: Redis across
machines, the data dir's state file on one), which keeps the whole cluster within the vendor's rate.

Workers rebuild ``Settings`` from a plain dict and open their own store, catalog and history
connection, so the store, catalog and data dir must be reachable from every worker (one machine, or
S3, PostgreSQL and Redis across machines). A worker lost mid-task has its symbol-day run again on
another: the merge keys on the tick identity, so that stores nothing twice.

    with open_catalog(settings.resolved_catalog_url) as catalog:
        tasks = record(catalog, chunks)
    outcomes = run_on_dask(tasks, settings, concurrency=8, on_done=print)
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from distributed import Client, Future, as_completed

from oss20.backfill.chunks import Chunk
from oss20.backfill.executor import ChunkOutcome, run_chunks
from oss20.config import Settings

log = logging.getLogger(__name__)

Task = tuple[str, Chunk]
"""A recorded chunk: (collection_tasks id, chunk)."""


def run_on_dask(
    tasks: Sequence[Task],
    settings: Settings,
    *,
    concurrency: int = 8,
    on_done: Callable[[ChunkOutcome], None] | None = None,
) -> list[ChunkOutcome]:
    """Fill every recorded chunk on the cluster at ``settings.dask_scheduler``.

    Returns the outcomes in the order ``run_chunks`` gives them (symbol-days in order of first
    appearance, chunks in order within each); ``on_done`` hears each outcome here, on the client,
    as its symbol-day finishes.
    """
    if concurrency < 1:
        raise ValueError(f"concurrency must be at least 1, got {concurrency}")
    if not settings.dask_scheduler:
        raise ValueError("settings.dask_scheduler is empty: set OSS20_DASK_SCHEDULER=tcp://host:8786")
    groups = symbol_days(tasks)
    params = worker_params(settings)
    results: dict[int, list[ChunkOutcome]] = {}
    with Client(settings.dask_scheduler, set_as_default=False) as client:
        log.info(
            "backfill on dask scheduler=%s workers=%d symbol_days=%d chunks=%d",
            settings.dask_scheduler,
            len(client.nthreads()),
            len(groups),
            len(tasks),
        )
        waiting = iter(enumerate(groups))
        index: dict[str, int] = {}

        def submit(position: int, group: list[Task]) -> Future:
            future = client.submit(_run_group, group, params, key=f"backfill-{group[0][0]}")
            index[future.key] = position
            return future

        first = [submit(i, group) for i, group in itertools.islice(waiting, concurrency)]
        running = as_completed(first, loop=client.loop)
        for future in running:
            outcomes: list[ChunkOutcome] = future.result()
            results[index.pop(future.key)] = outcomes
            if on_done is not None:
                for outcome in outcomes:
                    on_done(outcome)
            following = next(waiting, None)
            if following is not None:
                running.add(submit(*following))
    return [outcome for position in range(len(groups)) for outcome in results[position]]


def symbol_days(tasks: Sequence[Task]) -> list[list[Task]]:
    """The tasks grouped by the symbol-day they write, groups in order of first appearance."""
    groups: dict[tuple[object, ...], list[Task]] = {}
    for task_id, chunk in tasks:
        groups.setdefault(chunk.key, []).append((task_id, chunk))
    return list(groups.values())


def worker_params(settings: Settings) -> dict[str, Any]:
    """``settings`` as a plain dict for ``Settings(**params)`` on a worker, with the data dir made
    absolute (a worker's working directory is not the client's)."""
    return {**settings.as_dict(), "data_dir": str(Path(settings.data_dir).resolve())}


def _run_group(group: list[Task], params: dict[str, Any]) -> list[ChunkOutcome]:
    """On a worker: fill one symbol-day's chunks one after another (one request in flight)."""
    return asyncio.run(run_chunks(group, Settings(**params), concurrency=1))
