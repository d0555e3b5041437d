"""``oss20 scheduler``: run the jobs on their cron schedules on one machine, with APScheduler.

Several schedulers may run against one catalog (a spare machine, a rolling restart): each fires
every slot, the job's catalog lock lets one run in, and the slot recorded with the run keeps a
scheduler that fires a moment later from running the same slot again.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import signal
import threading
from types import FrameType

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from jobs.registry import JobLocked, run_job, schedule
from oss20.config import Settings
from oss20.schema import TZ
from oss20.storage.catalog import open_catalog

log = logging.getLogger(__name__)

WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
"""Cron's weekday numbers (0 or 7 Sunday): APScheduler 3 counts from Monday, so numbers become names."""
MISFIRE_GRACE = 30
"""Seconds late a slot may still start (a busy machine); later ones are skipped, not run in a burst."""


def cron(expression: str) -> CronTrigger:
    """A trigger in New York time from five cron fields (minute hour day month weekday), or six with
    seconds first (``"*/10 * * * * *"``). ValueError says what was wrong."""
    fields = expression.split()
    try:
        if len(fields) in (5, 6):
            second, minute, hour, day, month, weekday = fields if len(fields) == 6 else ["0", *fields]
            return CronTrigger(
                second=second,
                minute=minute,
                hour=hour,
                day=day,
                month=month,
                day_of_week=_weekdays(weekday),
                timezone=TZ,
            )
    except ValueError as exc:
        raise ValueError(f"bad cron expression {expression!r}: {exc}") from None
    raise ValueError(
        f"bad cron expression {expression!r}: expected 5 fields (minute hour day month weekday) "
        "or 6 with seconds first"
    )


def _weekdays(field: str) -> str:
    """Cron's weekday field in APScheduler's terms: numbers and ranges of numbers (``1-5``, ``0-6/2``)
    become day names, so ``1-5`` stays Monday to Friday; names and ``*`` pass as they are."""
    parts = []
    for part in field.split(","):
        match = re.fullmatch(r"(\d)(?:-(\d))?(?:/(\d+))?", part)
        if match is None:
            parts.append(part)
            continue
        first, last, step = match.groups()
        days = range(int(first), int(last or first) + 1, int(step or 1))
        if not days or max(days) > 7:
            raise ValueError(f"weekday {part!r} is not within 0-7 (0 and 7 are Sunday)")
        parts.extend(WEEKDAYS[d % 7] for d in days)
    return ",".join(dict.fromkeys(parts))


def slot_of(trigger: CronTrigger, now: dt.datetime) -> dt.datetime:
    """The latest fire time of ``trigger`` at or before ``now`` (within the misfire grace): the slot a
    run that starts now belongs to, the same in every scheduler whatever its small delay."""
    fire = trigger.get_next_fire_time(None, now - dt.timedelta(seconds=MISFIRE_GRACE))
    if fire is None or fire > now:
        return now
    while (later := trigger.get_next_fire_time(fire, fire + dt.timedelta(microseconds=1))) and later <= now:
        fire = later
    return fire


def fire(name: str, trigger: CronTrigger, settings: Settings) -> None:
    """One scheduled firing: run the job for its slot; a lock held elsewhere is logged and skipped."""
    slot = slot_of(trigger, dt.datetime.now(dt.UTC).astimezone(trigger.timezone)).isoformat()
    try:
        run = run_job(name, settings, slot=slot)
    except JobLocked as exc:
        log.info("job skipped name=%s slot=%s reason=%s", name, slot, exc)
        return
    except Exception:  # a scheduler outlives any one run's trouble (catalog down, bad config)
        log.exception("job could not run name=%s slot=%s", name, slot)
        return
    log.info("job run name=%s slot=%s status=%s task=%s", name, slot, run.status, run.task_id)


def run_scheduler(settings: Settings, duration: float | None = None) -> dict[str, str]:
    """Run every scheduled job until SIGTERM or SIGINT (or for ``duration`` seconds); return the
    schedule used. The schedule is read once at start (restart to pick up a change)."""
    with open_catalog(settings.resolved_catalog_url) as catalog:
        plan = schedule(catalog)
    triggers = {name: cron(expression) for name, expression in plan.items()}
    scheduler = BackgroundScheduler(timezone=TZ)
    for name, trigger in triggers.items():
        scheduler.add_job(
            fire,
            trigger,
            args=(name, trigger, settings),
            id=name,
            name=name,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=MISFIRE_GRACE,
        )
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    scheduler.start()
    log.info("scheduler started jobs=%s", " ".join(f"{n}='{e}'" for n, e in plan.items()))
    try:
        stop.wait(duration)
    finally:
        scheduler.shutdown(wait=True)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        log.info("scheduler stopped")
    return plan
