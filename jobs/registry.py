"""The jobs by name, with their default schedules, and ``run_job``: one run at a time, recorded.

A run takes the job's lock in the catalog (``Catalog.job_lock``): a second run of the same job,
from any process or machine on the catalog, is refused with ``JobLocked`` naming the holder.
The run is a collection_tasks row of kind ``job:<name>``: running, then done or failed, with
the result's integer entries as counters and the error text of a failure.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from jobs.eod import eod_backfill, eod_reconcile, validate_day
from jobs.upkeep import compact, prune_journal, storage_health
from oss20 import calendar
from oss20.config import Settings
from oss20.storage.catalog import Catalog, JobLock, open_catalog

log = logging.getLogger(__name__)

KEEP_JOURNAL_DAYS = 3
"""Days of journal files ``prune_journal`` keeps unless system_config ``journal_keep_days`` says."""
SLOT_LOOKBACK = 50
"""Recent runs of a job searched for one of the same scheduled slot (a racing scheduler's)."""


class JobLocked(Exception):
    """Another run of the job holds its lock; ``lock.holder`` says who (host:pid:run)."""

    def __init__(self, lock: JobLock) -> None:
        self.lock = lock
        since = f" since {lock.since:%Y-%m-%d %H:%M:%S} UTC" if lock.since else ""
        super().__init__(f"job {lock.name} is already running: held by {lock.holder or 'unknown'}{since}")


@dataclass(frozen=True)
class Job:
    """A job's name, what it does in one line, its default cron schedule (America/New_York) and how
    it takes a day: ``"session"`` (a trading day, default the latest), ``"date"`` (any day, default
    the job's own) or ``None`` (no day)."""

    name: str
    description: str
    schedule: str
    day: str | None
    call: Callable[[Settings, dt.date | None, Catalog], dict[str, Any]]


@dataclass(frozen=True)
class JobRun:
    """One run: its task id in collection_tasks (None when skipped), status, result and error."""

    name: str
    task_id: str | None
    status: str
    result: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


def _session(day: dt.date | None) -> dt.date:
    return calendar.latest_session() if day is None else day


JOBS: dict[str, Job] = {
    job.name: job
    for job in (
        Job(
            "eod_backfill",
            "Fill the reachable gaps of the watchlist's day from IQFeed history.",
            "30 17 * * 1-5",
            "session",
            lambda settings, day, _: eod_backfill(_session(day), settings),
        ),
        Job(
            "eod_reconcile",
            "Re-read the watchlist's day from tick history, store what is missing, snapshot it, record it.",
            "45 17 * * 1-5",
            "session",
            lambda settings, day, _: eod_reconcile(_session(day), settings),
        ),
        Job(
            "validate_day",
            "Run the four validation tiers on the watchlist's stored day.",
            "0 18 * * 1-5",
            "session",
            lambda settings, day, _: validate_day(_session(day), settings),
        ),
        Job(
            "compact",
            "Rewrite fragmented symbol-days up to --date (default yesterday) into full segments.",
            "30 18 * * 1-5",
            "date",
            lambda settings, day, _: compact(settings, day),
        ),
        Job(
            "storage_health",
            "Report symbols, days, fragmented symbol-days, quarantine and journal sizes.",
            "0 19 * * *",
            None,
            lambda settings, _day, _catalog: storage_health(settings),
        ),
        Job(
            "prune_journal",
            "Store and delete journal files older than system_config journal_keep_days (default 3).",
            "30 19 * * *",
            "date",
            lambda settings, day, catalog: prune_journal(
                settings, int(catalog.get_config("journal_keep_days", KEEP_JOURNAL_DAYS)), day
            ),
        ),
    )
}
"""Every job by name."""


def job(name: str) -> Job:
    """The job called ``name``; ValueError naming the known ones otherwise."""
    if name not in JOBS:
        raise ValueError(f"unknown job {name!r}; expected one of {', '.join(JOBS)}")
    return JOBS[name]


def resolve_day(name: str, day: dt.date | None) -> dt.date | None:
    """Check ``day`` suits job ``name``: a trading day for end-of-day jobs, none for jobs without one."""
    kind = job(name).day
    if day is None:
        return None
    if kind is None:
        raise ValueError(f"job {name} takes no date, got {day}")
    if kind == "session" and not calendar.is_session(day):
        raise ValueError(f"{day} is not an NYSE trading day; job {name} needs one")
    return day


def run_job(name: str, settings: Settings, day: dt.date | None = None, *, slot: str | None = None) -> JobRun:
    """Run job ``name`` (for ``day`` where it takes one) under its lock and record the run.

    ``slot`` names the scheduled time a scheduler fires it for: a run of a slot that another
    scheduler already ran is skipped (status "skipped"), so racing schedulers run each slot once.
    Raises ValueError for an unknown job or an unsuitable day, JobLocked when another run holds
    the lock. A job's own error does not raise: the run comes back (and is recorded) as failed;
    so does a result that counts ``failed`` parts.
    """
    spec, day = job(name), resolve_day(name, day)
    kind = f"job:{name}"
    with open_catalog(settings.resolved_catalog_url) as catalog, catalog.job_lock(name) as lock:
        if not lock.acquired:
            raise JobLocked(lock)
        if slot is not None and any(
            task.params.get("slot") == slot for task in catalog.tasks(kind=kind, limit=SLOT_LOOKBACK)
        ):
            log.info("job slot already run name=%s slot=%s", name, slot)
            return JobRun(name, None, "skipped")
        params = {"day": None if day is None else day.isoformat(), "slot": slot, "owner": lock.owner}
        task_id = catalog.create_task(kind, (), params=params, status="running")
        log.info("job started name=%s task=%s day=%s slot=%s", name, task_id, day, slot)
        try:
            result = spec.call(settings, day, catalog)
        except Exception as exc:  # the run's boundary: any failure is recorded, never lost
            error = f"{type(exc).__name__}: {exc}"
            log.exception("job failed name=%s task=%s", name, task_id)
            catalog.update_task(task_id, status="failed", error=error)
            return JobRun(name, task_id, "failed", error=error)
        counters = {k: v for k, v in result.items() if isinstance(v, int) and not isinstance(v, bool)}
        failed = counters.get("failed", 0) > 0
        problem = f"{counters['failed']} parts failed" if failed else None
        status = "failed" if failed else "done"
        catalog.update_task(task_id, status=status, counters=counters, error=problem)
        log.info(
            "job %s name=%s task=%s %s",
            status,
            name,
            task_id,
            " ".join(f"{k}={v}" for k, v in counters.items()),
        )
        return JobRun(name, task_id, status, result, problem)


def schedule(catalog: Catalog) -> dict[str, str]:
    """Each job's cron schedule: the defaults here, overridden by system_config ``schedule``
    (``{"compact": "0 3 * * *", "prune_journal": null}``: null or "" turns a job off)."""
    overrides = catalog.get_config("schedule", {}) or {}
    if not isinstance(overrides, dict):
        raise ValueError(f"system_config schedule must map job names to cron text, got {overrides!r}")
    for name in overrides:
        job(name)
    merged = {name: spec.schedule for name, spec in JOBS.items()} | overrides
    return {name: expr for name, expr in merged.items() if expr}
