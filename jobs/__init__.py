"""Scheduled jobs as plain functions over oss20, and the registry that runs them one at a time.

The functions (``eod_backfill``, ``eod_reconcile``, ``validate_day``, ``compact``, ``storage_health``,
``prune_journal``) do one piece of upkeep each and return a small result dict; ``run_job``
runs one by name under its catalog lock and records the run in collection_tasks (kind
``job:<name>``), which is what ``oss20 jobs run NAME`` (cron, systemd timers, Kubernetes CronJobs)
and ``oss20 scheduler`` (one machine, APScheduler) call.

Example::

    from jobs import run_job
    run = run_job("storage_health", Settings.from_env())
    print(run.status, run.result)
"""

from jobs.eod import eod_backfill, eod_reconcile, validate_day
from jobs.registry import JOBS, Job, JobLocked, JobRun, resolve_day, run_job
from jobs.upkeep import compact, prune_journal, storage_health

__all__ = [
    "JOBS",
    "Job",
    "JobLocked",
    "JobRun",
    "compact",
    "eod_backfill",
    "eod_reconcile",
    "prune_journal",
    "resolve_day",
    "run_job",
    "storage_health",
    "validate_day",
]
