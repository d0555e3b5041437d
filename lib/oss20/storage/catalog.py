"""The catalog: settings, collection tasks and validation results, in SQLite or PostgreSQL.

``open_catalog(url)`` picks the backend by the URL's scheme (``sqlite:///abs/path.sqlite``, the
embedded default, or ``postgresql://...``) and brings the schema up to date. Both backends offer the
same methods; SQL is written once with ``?`` placeholders and every value travels as a parameter.
Times are stored in UTC (TIMESTAMPTZ, or ISO-8601 text in SQLite) and come back timezone-aware.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import operator
import os
import re
import socket
import sqlite3
import threading
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self
from urllib.parse import urlsplit

import pandas as pd
import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import ConnectionPool, PoolClosed, PoolTimeout

from oss20.config import _mask
from oss20.passwords import ROLES, hash_password, verify_password
from oss20.storage.migrations import MIGRATIONS, SCHEMA_MIGRATIONS
from oss20.symbols import validate_symbol

log = logging.getLogger(__name__)

TASK_STATUSES = ("pending", "running", "done", "failed", "stopped")
CHECK_STATUSES = ("pass", "warn", "fail")
POOL_MAX_SIZE = 4
RECONNECT_TIMEOUT = 10.0
"""Seconds the pool retries a lost connection in the background; after that the next call starts afresh."""

_MIGRATION_LOCK = 0x05520C47
"""pg_advisory_xact_lock key held while migrating: one migrator at a time per database."""
_JOB_LOCK_CLASS = 0x0552
"""First key of the two-key pg_try_advisory_lock held by a running job (the second is its name's hash)."""
JOB_LOCK_TTL = 120.0
"""Seconds a SQLite job lock lives unless renewed; a holder renews it every third of that, so only a
holder that died (killed, machine gone) lets it lapse."""
_TASK_COLUMNS = (
    "task_id, kind, symbols, window_start, window_end, status, attempts, error, counters, params, "
    "created_at, updated_at, heartbeat_at"
)
_RESULT_COLUMNS = ["symbol", "day", "tier", "check", "status", "metrics", "details", "run_at"]
RECONCILIATION_COLUMNS = [
    "symbol",
    "day",
    "market_center",
    "live_count",
    "history_count",
    "missing",
    "extra",
    "volume_difference",
    "filled",
    "snapshot",
    "run_at",
]
"""Columns of ``Catalog.reconciliations``, in order."""


class CatalogUnavailable(Exception):
    """The catalog's database cannot be reached: connection refused, pool timeout, server gone."""


@dataclass(frozen=True)
class TaskRecord:
    """One row of collection_tasks: a unit of collection or backfill work and its progress."""

    task_id: str
    kind: str
    symbols: tuple[str, ...]
    window_start: dt.datetime | None
    window_end: dt.datetime | None
    status: str
    attempts: int
    error: str | None
    counters: dict[str, int]
    params: dict[str, Any]
    created_at: dt.datetime
    updated_at: dt.datetime
    heartbeat_at: dt.datetime | None


@dataclass(frozen=True)
class ValidationRecord:
    """The outcome of one check on one symbol-day at one tier."""

    symbol: str
    day: dt.date
    tier: int
    check: str
    status: str
    metrics: dict[str, Any] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ReconciliationRecord:
    """One market center of one symbol-day, stored ticks against the day's tick history."""

    symbol: str
    day: dt.date
    market_center: int
    live_count: int
    """Ticks stored before the reconciliation."""
    history_count: int
    """Ticks in the feed's history of the day."""
    missing: int
    """History's ticks (by TickID) that were not stored."""
    extra: int
    """Stored ticks (by TickID) history does not hold."""
    volume_difference: int
    """History's volume minus the stored volume, in shares."""
    filled: int
    """Missing ticks the reconciliation stored (tier 1 may have quarantined the rest)."""
    snapshot: str | None = None
    """The ArcticDB snapshot of the reconciled day."""


@dataclass(frozen=True)
class UserRecord:
    """A dashboard user: name and role (the password hash stays in the catalog)."""

    username: str
    role: str
    created_at: dt.datetime
    updated_at: dt.datetime


@dataclass(frozen=True)
class JobLock:
    """The answer to asking for a job's lock: ``acquired``, or held by ``holder`` since ``since``."""

    name: str
    acquired: bool
    owner: str
    """Who this run is: ``host:pid:run``, written in the catalog while the lock is held."""
    holder: str | None = None
    """The owner of the run holding the lock (this run's own when acquired; None if unknown)."""
    since: dt.datetime | None = None


def lock_owner() -> str:
    """A name for this run that tells an operator where to look: host, process id and a run tag."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


USERNAME = re.compile(r"[A-Za-z0-9_.@-]{1,64}")
"""What a username may be: letters, digits and ``_ . @ -``, 1 to 64 of them."""


class _Session:
    """One transaction's cursor, taking ``?`` placeholders whatever the driver's own style."""

    def __init__(self, cursor: Any, format_style: bool) -> None:
        self._cursor = cursor
        self._format_style = format_style

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self._format_style else sql

    def run(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Execute one statement; return how many rows it changed."""
        self._cursor.execute(self._sql(sql), tuple(params))
        return int(self._cursor.rowcount)

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Execute one query; return all its rows."""
        self._cursor.execute(self._sql(sql), tuple(params))
        return [tuple(row) for row in self._cursor.fetchall()]

    def run_many(self, sql: str, params: Sequence[Sequence[Any]]) -> None:
        """Execute one statement once per parameter row."""
        self._cursor.executemany(self._sql(sql), params)


class Catalog(ABC):
    """Settings, collection tasks and validation results. Open one with ``open_catalog(url)``."""

    dialect: str
    _text_times: bool
    """True where times and days are stored as ISO-8601 text (SQLite), False for native types."""

    def __init__(self, url: str) -> None:
        self.url = _masked(url)
        """The catalog's URL with any password masked: safe to log or show."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(url={self.url!r})"

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @abstractmethod
    def close(self) -> None:
        """Release the connection or pool; the catalog cannot be used afterwards."""

    @abstractmethod
    def _transaction(self, write: bool = False) -> AbstractContextManager[_Session]:
        """One transaction: committed on success, rolled back on error; outages raise CatalogUnavailable."""

    @abstractmethod
    def _lock_migrations(self, session: _Session) -> None:
        """Keep other processes from migrating until this transaction ends."""

    def migrate(self) -> list[int]:
        """Apply the migrations this database lacks, in order and under a lock; return their versions."""
        applied: list[int] = []
        with self._transaction(write=True) as session:
            self._lock_migrations(session)
            session.run(SCHEMA_MIGRATIONS[self.dialect])
            present = {version for (version,) in session.rows("SELECT version FROM schema_migrations")}
            for migration in MIGRATIONS:
                if migration.version in present:
                    continue
                for statement in migration.statements[self.dialect]:
                    session.run(statement)
                session.run(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                    (migration.version, migration.name, self._time(_now())),
                )
                applied.append(migration.version)
        for version in applied:
            log.info("catalog migrated url=%s version=%d", self.url, version)
        if max(present, default=0) > MIGRATIONS[-1].version:
            log.warning(
                "catalog schema is newer than this code url=%s version=%d known=%d",
                self.url,
                max(present),
                MIGRATIONS[-1].version,
            )
        return applied

    def schema_version(self) -> int:
        """The highest migration applied to this database (0 for none)."""
        with self._transaction() as session:
            ((version,),) = session.rows("SELECT MAX(version) FROM schema_migrations")
        return int(version or 0)

    def set_config(self, key: str, value: Any) -> None:
        """Store ``value`` (anything JSON can encode) under ``key``, replacing what was there."""
        params = (_text(key, "config key"), _json(value, f"config value for {key!r}"), self._time(_now()))
        with self._transaction(write=True) as session:
            session.run(
                "INSERT INTO system_config (key, value, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                params,
            )

    def get_config(self, key: str, default: Any = None) -> Any:
        """The value stored under ``key``, or ``default`` when there is none."""
        with self._transaction() as session:
            rows = session.rows("SELECT value FROM system_config WHERE key = ?", (key,))
        return json.loads(rows[0][0]) if rows else default

    def config(self) -> dict[str, Any]:
        """Every stored setting, key -> value."""
        with self._transaction() as session:
            rows = session.rows("SELECT key, value FROM system_config ORDER BY key")
        return {key: json.loads(value) for key, value in rows}

    def create_task(
        self,
        kind: str,
        symbols: Iterable[str] | str,
        params: Mapping[str, Any] | None = None,
        window: tuple[dt.datetime | None, dt.datetime | None] | None = None,
        task_id: str | None = None,
        status: str = "pending",
    ) -> str:
        """Record a new task (``kind`` e.g. 'collect' or 'backfill'); return its id, a uuid4 hex unless given.

        ``symbols`` are validated tickers (a string is read as comma-separated); ``window`` is
        (start, end) in timezone-aware times, either end may be None.
        Example: ``catalog.create_task("backfill", ["AAPL"], {"chunk": 3}, window=(start, end))``
        """
        names = ",".join(_symbols(symbols))
        start, end = window or (None, None)
        start = None if start is None else _utc(start, "window start")
        end = None if end is None else _utc(end, "window end")
        if start is not None and end is not None and start > end:
            raise ValueError(f"window start {start} is after its end {end}")
        task_id = uuid.uuid4().hex if task_id is None else _text(task_id, "task_id")
        now = self._time(_now())
        values = (
            task_id,
            _text(kind, "task kind"),
            names,
            self._time(start),
            self._time(end),
            _choice(status, TASK_STATUSES, "task status"),
            _json(dict(params or {}), "task params"),
            now,
            now,
        )
        with self._transaction(write=True) as session:
            inserted = session.run(
                "INSERT INTO collection_tasks (task_id, kind, symbols, window_start, window_end, status, "
                "params, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (task_id) DO NOTHING",
                values,
            )
        if not inserted:
            raise ValueError(f"task {task_id!r} already exists; pass a new task_id or none")
        log.debug("task created task_id=%s kind=%s symbols=%s status=%s", task_id, kind, names, status)
        return task_id

    def update_task(
        self,
        task_id: str,
        *,
        status: str | None = None,
        counters: Mapping[str, int] | None = None,
        error: str | None = None,
        attempts_increment: bool = False,
        heartbeat: bool = True,
    ) -> None:
        """Change a task's status, counters (replaced whole) or error; None leaves a field as it is.

        ``heartbeat`` stamps heartbeat_at (a watchdog's sign of life). Raises KeyError for an unknown task.
        """
        now = self._time(_now())
        assignments, params = ["updated_at = ?"], [now]
        if status is not None:
            assignments.append("status = ?")
            params.append(_choice(status, TASK_STATUSES, "task status"))
        if counters is not None:
            assignments.append("counters = ?")
            params.append(_counters(counters))
        if error is not None:
            assignments.append("error = ?")
            params.append(error)
        if attempts_increment:
            assignments.append("attempts = attempts + 1")
        if heartbeat:
            assignments.append("heartbeat_at = ?")
            params.append(now)
        with self._transaction(write=True) as session:
            changed = session.run(
                f"UPDATE collection_tasks SET {', '.join(assignments)} WHERE task_id = ?", (*params, task_id)
            )
        if not changed:
            raise KeyError(f"no task {task_id!r} in the catalog")

    def task(self, task_id: str) -> TaskRecord | None:
        """The task with this id, or None."""
        with self._transaction() as session:
            rows = session.rows(f"SELECT {_TASK_COLUMNS} FROM collection_tasks WHERE task_id = ?", (task_id,))
        return _task_record(rows[0]) if rows else None

    def tasks(self, status: str | None = None, kind: str | None = None, limit: int = 100) -> list[TaskRecord]:
        """Up to ``limit`` tasks, newest first, optionally only those of one status or kind."""
        where: list[str] = ["1 = 1"]
        params: list[Any] = []
        if status is not None:
            where.append("status = ?")
            params.append(_choice(status, TASK_STATUSES, "task status"))
        if kind is not None:
            where.append("kind = ?")
            params.append(kind)
        limit = operator.index(limit)
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        with self._transaction() as session:
            rows = session.rows(
                f"SELECT {_TASK_COLUMNS} FROM collection_tasks WHERE {' AND '.join(where)} "
                "ORDER BY created_at DESC, task_id DESC LIMIT ?",
                (*params, limit),
            )
        return [_task_record(row) for row in rows]

    def record_validation(self, records: Iterable[ValidationRecord]) -> int:
        """Write check outcomes, each replacing an earlier one of the same symbol, day, tier and check.

        Every record is validated before anything is written; returns the number of rows written.
        """
        run_at = self._time(_now())
        rows = [
            (
                validate_symbol(record.symbol),
                self._day(_date(record.day, "validation day")),
                operator.index(record.tier),
                _text(record.check, "check name"),
                _choice(record.status, CHECK_STATUSES, "check status"),
                _json(dict(record.metrics), "check metrics"),
                _json(dict(record.details), "check details"),
                run_at,
            )
            for record in records
        ]
        if rows:
            with self._transaction(write=True) as session:
                session.run_many(
                    "INSERT INTO validation_results "
                    "(symbol, day, tier, check_name, status, metrics, details, run_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (symbol, day, tier, check_name) DO UPDATE "
                    "SET status = excluded.status, metrics = excluded.metrics, details = excluded.details, "
                    "run_at = excluded.run_at",
                    rows,
                )
        return len(rows)

    def validation_results(
        self,
        symbol: str | None = None,
        start: dt.date | None = None,
        end: dt.date | None = None,
        tier: int | None = None,
    ) -> pd.DataFrame:
        """Check outcomes, optionally for one symbol, days from ``start`` to ``end`` inclusive, one tier.

        Columns: symbol, day (datetime.date), tier, check, status, metrics and details (dicts),
        run_at (UTC). Example: ``catalog.validation_results("AAPL", start=dt.date(2025, 1, 2))``
        """
        where, params = self._symbol_days(symbol, start, end)
        if tier is not None:
            where.append("tier = ?")
            params.append(operator.index(tier))
        with self._transaction() as session:
            rows = session.rows(
                "SELECT symbol, day, tier, check_name, status, metrics, details, run_at "
                f"FROM validation_results WHERE {' AND '.join(where)} "
                "ORDER BY day, symbol, tier, check_name",
                params,
            )
        frame = pd.DataFrame(
            [
                (sym, _read_day(day), level, check, status, json.loads(metrics), json.loads(details), run_at)
                for sym, day, level, check, status, metrics, details, run_at in rows
            ],
            columns=_RESULT_COLUMNS,
        )
        frame["tier"] = frame["tier"].astype("int64")
        frame["run_at"] = pd.to_datetime(frame["run_at"].map(_read_time), utc=True)
        return frame

    def record_reconciliation(self, records: Iterable[ReconciliationRecord]) -> int:
        """Add one row per record, all with the same run time; earlier runs' rows stay (the history of
        a day's reconciliations). Every record is validated before anything is written."""
        run_at = self._time(_now())
        rows = [
            (
                validate_symbol(record.symbol),
                self._day(_date(record.day, "reconciliation day")),
                operator.index(record.market_center),
                operator.index(record.live_count),
                operator.index(record.history_count),
                operator.index(record.missing),
                operator.index(record.extra),
                operator.index(record.volume_difference),
                operator.index(record.filled),
                None if record.snapshot is None else _text(record.snapshot, "snapshot name"),
                run_at,
            )
            for record in records
        ]
        if rows:
            with self._transaction(write=True) as session:
                session.run_many(
                    "INSERT INTO reconciliations (symbol, day, market_center, live_count, history_count, "
                    "missing, extra, volume_difference, filled, snapshot, run_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    rows,
                )
        return len(rows)

    def _symbol_days(
        self, symbol: str | None, start: dt.date | None, end: dt.date | None
    ) -> tuple[list[str], list[Any]]:
        """WHERE conditions and their parameters for one symbol (validated) and a span of days."""
        where: list[str] = ["1 = 1"]
        params: list[Any] = []
        if symbol is not None:
            where.append("symbol = ?")
            params.append(validate_symbol(symbol))
        if start is not None:
            where.append("day >= ?")
            params.append(self._day(_date(start, "start")))
        if end is not None:
            where.append("day <= ?")
            params.append(self._day(_date(end, "end")))
        return where, params

    def reconciliations(
        self, symbol: str | None = None, start: dt.date | None = None, end: dt.date | None = None
    ) -> pd.DataFrame:
        """Reconciliation rows (``RECONCILIATION_COLUMNS``), optionally of one symbol and the days from
        ``start`` to ``end``, oldest run first. Example: ``catalog.reconciliations("AAPL", start=day)``"""
        where, params = self._symbol_days(symbol, start, end)
        with self._transaction() as session:
            rows = session.rows(
                f"SELECT {', '.join(RECONCILIATION_COLUMNS)} FROM reconciliations "
                f"WHERE {' AND '.join(where)} ORDER BY run_at, day, symbol, market_center",
                params,
            )
        frame = pd.DataFrame(
            [
                (sym, _read_day(day), *counts, snap, _read_time(run_at))
                for sym, day, *counts, snap, run_at in rows
            ],
            columns=RECONCILIATION_COLUMNS,
        )
        for column in RECONCILIATION_COLUMNS[2:9]:
            frame[column] = frame[column].astype("int64")
        frame["run_at"] = pd.to_datetime(frame["run_at"], utc=True)
        return frame

    def set_user(self, username: str, password: str, role: str) -> None:
        """Create ``username`` or replace its password and role; only the password's hash is stored."""
        params = (_username(username), hash_password(password), _choice(role, ROLES, "role"))
        now = self._time(_now())
        with self._transaction(write=True) as session:
            session.run(
                "INSERT INTO users (username, password_hash, role, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (username) DO UPDATE SET password_hash = excluded.password_hash, "
                "role = excluded.role, updated_at = excluded.updated_at",
                (*params, now, now),
            )

    def remove_user(self, username: str) -> bool:
        """Delete ``username``; False when there was no such user."""
        with self._transaction(write=True) as session:
            return session.run("DELETE FROM users WHERE username = ?", (_username(username),)) > 0

    def users(self) -> list[UserRecord]:
        """Every user, by name."""
        with self._transaction() as session:
            rows = session.rows("SELECT username, role, created_at, updated_at FROM users ORDER BY username")
        return [
            UserRecord(name, role, _read_time(created), _read_time(updated))
            for name, role, created, updated in rows
        ]

    def authenticate(self, username: str, password: str) -> str | None:
        """The role of ``username`` when ``password`` is theirs, else None (unknown users included)."""
        if not USERNAME.fullmatch(username or ""):
            return None
        with self._transaction() as session:
            rows = session.rows("SELECT password_hash, role FROM users WHERE username = ?", (username,))
        if rows and verify_password(password, rows[0][0]):
            return str(rows[0][1])
        return None

    def role(self, username: str) -> str | None:
        """The role of ``username``, or None when there is no such user."""
        with self._transaction() as session:
            rows = session.rows("SELECT role FROM users WHERE username = ?", (username,))
        return str(rows[0][0]) if rows else None

    @abstractmethod
    def job_lock(
        self, name: str, *, owner: str | None = None, ttl: float = JOB_LOCK_TTL
    ) -> AbstractContextManager[JobLock]:
        """Hold the lock of job ``name`` for the ``with`` block, if no other run (any process, any
        machine on this catalog) holds it; never waits.

        Example::

            with catalog.job_lock("compact") as lock:
                if not lock.acquired:
                    print(f"compact is running: {lock.holder}")
        """

    def job_lock_holder(self, name: str) -> tuple[str, dt.datetime] | None:
        """The owner of job ``name``'s lock and when it took it, as the catalog records it; or None."""
        with self._transaction() as session:
            rows = session.rows("SELECT owner, acquired_at FROM job_locks WHERE name = ?", (name,))
        return (str(rows[0][0]), _read_time(rows[0][1])) if rows else None

    def _refused(self, name: str, owner: str) -> JobLock:
        """The lock of ``name`` is held elsewhere: say by whom, as far as the catalog knows."""
        held = self.job_lock_holder(name)
        log.info("job lock held name=%s holder=%s", name, held[0] if held else "unknown")
        return JobLock(name, False, owner, *(held or (None, None)))

    def _time(self, value: dt.datetime | None) -> Any:
        """A UTC time as this backend stores it."""
        if value is None or not self._text_times:
            return value
        return value.isoformat(timespec="microseconds")

    def _day(self, value: dt.date) -> Any:
        """A calendar day as this backend stores it."""
        return value.isoformat() if self._text_times else value


class SqliteCatalog(Catalog):
    """The embedded catalog: one SQLite file in WAL mode, one connection shared under a lock."""

    dialect = "sqlite"
    _text_times = True

    def __init__(self, url: str, path: Path, timeout: float) -> None:
        super().__init__(url)
        self.path = path
        self._lock = threading.Lock()
        with self._unavailable():
            path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(path, timeout=timeout, isolation_level=None, check_same_thread=False)
            self._conn.execute("PRAGMA journal_mode=WAL")

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def _lock_migrations(self, session: _Session) -> None:
        """Nothing to add: the transaction's BEGIN IMMEDIATE already holds the database's write lock."""

    @contextmanager
    def _unavailable(self) -> Iterator[None]:
        """Turn 'cannot open the file' into CatalogUnavailable; other errors pass unchanged."""
        try:
            yield
        except sqlite3.OperationalError as exc:
            if "unable to open" not in str(exc):
                raise
            raise CatalogUnavailable(f"catalog {self.url} cannot be opened: {exc}") from exc
        except OSError as exc:
            raise CatalogUnavailable(f"catalog {self.url} cannot be opened: {exc}") from exc

    @contextmanager
    def _transaction(self, write: bool = False) -> Iterator[_Session]:
        with self._lock, self._unavailable():
            cursor = self._conn.cursor()
            try:
                cursor.execute("BEGIN IMMEDIATE" if write else "BEGIN")
                yield _Session(cursor, format_style=False)
            except BaseException:
                self._conn.rollback()
                raise
            else:
                self._conn.commit()
            finally:
                cursor.close()

    @contextmanager
    def job_lock(
        self, name: str, *, owner: str | None = None, ttl: float = JOB_LOCK_TTL
    ) -> Iterator[JobLock]:
        """A row in job_locks (name is the key) with an expiry the holder renews from a thread; a row
        past its expiry belongs to a dead holder and is taken over."""
        name, owner = _text(name, "job name"), owner or lock_owner()
        if ttl <= 0:
            raise ValueError(f"lock ttl must be positive seconds, got {ttl}")
        now = _now()
        with self._transaction(write=True) as session:
            session.run("DELETE FROM job_locks WHERE name = ? AND expires_at < ?", (name, self._time(now)))
            acquired = session.run(
                "INSERT INTO job_locks (name, owner, acquired_at, expires_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (name) DO NOTHING",
                (name, owner, self._time(now), self._time(now + dt.timedelta(seconds=ttl))),
            )
        if not acquired:
            yield self._refused(name, owner)
            return
        stop = threading.Event()
        renewer = threading.Thread(
            target=self._renew, args=(name, owner, ttl, stop), name=f"oss20-lock-{name}", daemon=True
        )
        renewer.start()
        log.info("job lock acquired name=%s owner=%s", name, owner)
        try:
            yield JobLock(name, True, owner, owner, now)
        finally:
            stop.set()
            renewer.join()
            with self._transaction(write=True) as session:
                session.run("DELETE FROM job_locks WHERE name = ? AND owner = ?", (name, owner))
            log.info("job lock released name=%s owner=%s", name, owner)

    def _renew(self, name: str, owner: str, ttl: float, stop: threading.Event) -> None:
        """Push the lock's expiry on every third of ``ttl`` until ``stop``; warn if it was lost."""
        while not stop.wait(ttl / 3):
            expires = self._time(_now() + dt.timedelta(seconds=ttl))
            try:
                with self._transaction(write=True) as session:
                    kept = session.run(
                        "UPDATE job_locks SET expires_at = ? WHERE name = ? AND owner = ?",
                        (expires, name, owner),
                    )
            except (sqlite3.Error, CatalogUnavailable) as exc:
                log.warning("job lock renewal failed name=%s owner=%s error=%r", name, owner, exc)
                continue
            if not kept:
                log.warning("job lock lost name=%s owner=%s (expired and taken over)", name, owner)


class PostgresCatalog(Catalog):
    """The production catalog: PostgreSQL through a small psycopg pool that reconnects by itself."""

    dialect = "postgresql"
    _text_times = False

    def __init__(self, url: str, connect_timeout: float) -> None:
        """Connect once directly, so a failure says why (refused, password, no database); then pool."""
        super().__init__(url)
        seconds = max(1, math.ceil(connect_timeout))
        self._conninfo, self._connect_seconds = url, seconds
        try:
            psycopg.connect(url, connect_timeout=seconds).close()
        except psycopg.OperationalError as exc:
            raise CatalogUnavailable(f"catalog {self.url} is unreachable: {exc}") from exc
        self._pool: ConnectionPool = ConnectionPool(
            url,
            kwargs={"connect_timeout": seconds},
            min_size=1,
            max_size=POOL_MAX_SIZE,
            timeout=connect_timeout,
            reconnect_timeout=RECONNECT_TIMEOUT,
            check=ConnectionPool.check_connection,
            name="oss20-catalog",
            open=False,
        )
        try:
            self._pool.open(wait=True, timeout=connect_timeout)
        except PoolTimeout as exc:
            self._pool.close()
            raise CatalogUnavailable(f"catalog {self.url} is unreachable: {exc}") from exc

    def close(self) -> None:
        self._pool.close()

    @contextmanager
    def _transaction(self, write: bool = False) -> Iterator[_Session]:
        try:
            with self._pool.connection() as conn, conn.cursor() as cursor:
                yield _Session(cursor, format_style=True)
        except PoolClosed:
            raise
        except psycopg.OperationalError as exc:
            raise CatalogUnavailable(f"catalog {self.url} is unavailable: {exc}") from exc

    def _lock_migrations(self, session: _Session) -> None:
        session.run("SELECT pg_advisory_xact_lock(?::bigint)", (_MIGRATION_LOCK,))

    @contextmanager
    def job_lock(
        self, name: str, *, owner: str | None = None, ttl: float = JOB_LOCK_TTL
    ) -> Iterator[JobLock]:
        """A session-level pg_try_advisory_lock on a connection of its own, held for the block: the
        server frees it the moment that session ends, so a killed holder never blocks the next run
        (``ttl`` plays no part). The key is the schema and the name, so schemas sharing a database
        do not exclude each other. The holder's owner goes in job_locks for whoever is refused."""
        name, owner = _text(name, "job name"), owner or lock_owner()
        try:
            conn = psycopg.connect(self._conninfo, autocommit=True, connect_timeout=self._connect_seconds)
        except psycopg.OperationalError as exc:
            raise CatalogUnavailable(f"catalog {self.url} is unreachable: {exc}") from exc
        key = "SELECT {}(%s, hashtext(current_schema() || '/' || %s))"
        with conn:
            row = conn.execute(key.format("pg_try_advisory_lock"), (_JOB_LOCK_CLASS, name)).fetchone()
            if not (row and row[0]):
                yield self._refused(name, owner)
                return
            now = _now()
            with self._transaction(write=True) as session:
                session.run(
                    "INSERT INTO job_locks (name, owner, acquired_at) VALUES (?, ?, ?) ON CONFLICT (name) "
                    "DO UPDATE SET owner = excluded.owner, acquired_at = excluded.acquired_at",
                    (name, owner, now),
                )
            log.info("job lock acquired name=%s owner=%s", name, owner)
            try:
                yield JobLock(name, True, owner, owner, now)
            finally:
                with self._transaction(write=True) as session:
                    session.run("DELETE FROM job_locks WHERE name = ? AND owner = ?", (name, owner))
                conn.execute(key.format("pg_advisory_unlock"), (_JOB_LOCK_CLASS, name))
                log.info("job lock released name=%s owner=%s", name, owner)


def open_catalog(url: str, *, connect_timeout: float = 5.0) -> Catalog:
    """Open the catalog at ``url`` and bring its schema up to date.

    ``sqlite:///abs/path.sqlite`` is the embedded default (its directory is created);
    ``postgresql://user@host:5432/db`` uses a small pool that reconnects after an outage.
    Raises ValueError for any other URL, and CatalogUnavailable when the database cannot be
    reached within about ``connect_timeout`` seconds (the same bound applies to every later call).
    Example: ``catalog = open_catalog("sqlite:////var/lib/oss20/catalog.sqlite")``
    """
    scheme = urlsplit(url).scheme.lower()
    catalog: Catalog
    if scheme == "sqlite":
        catalog = SqliteCatalog(url, _sqlite_path(url), connect_timeout)
    elif scheme in ("postgresql", "postgres"):
        try:
            conninfo_to_dict(url)
        except psycopg.ProgrammingError as exc:
            password = urlsplit(url).password
            reason = str(exc).replace(password, "***") if password else str(exc)
            raise ValueError(f"not a valid PostgreSQL URL {_masked(url)!r}: {reason}") from None
        catalog = PostgresCatalog(url, connect_timeout)
    else:
        raise ValueError(
            f"unsupported catalog URL {_masked(url)!r}; expected sqlite:///abs/path.sqlite "
            "or postgresql://user@host:5432/db"
        )
    try:
        catalog.migrate()
    except BaseException:
        catalog.close()
        raise
    log.info("catalog opened url=%s dialect=%s", catalog.url, catalog.dialect)
    return catalog


def _sqlite_path(url: str) -> Path:
    """The file of ``sqlite:///abs/path`` (or ``sqlite:////abs/path``, as SQLAlchemy spells it)."""
    parts = urlsplit(url)
    if parts.netloc or parts.query or parts.fragment or not parts.path.strip("/"):
        raise ValueError(f"not a SQLite catalog URL {url!r}; expected sqlite:///abs/path.sqlite")
    return Path("/" + parts.path.lstrip("/"))


def _masked(url: str) -> str:
    """``url`` with its password hidden, in the user part or in a ``password=`` parameter."""
    return re.sub(r"(?i)(password=)[^&\s]*", r"\1***", _mask(url))


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _utc(value: dt.datetime, what: str) -> dt.datetime:
    """``value`` as a plain UTC datetime; naive times are refused, their zone would be a guess."""
    if not isinstance(value, dt.datetime) or value.utcoffset() is None:
        raise ValueError(f"{what} must be a timezone-aware datetime, got {value!r}")
    value = value.astimezone(dt.UTC)
    return dt.datetime.combine(value.date(), value.time(), dt.UTC)


def _date(value: dt.date, what: str) -> dt.date:
    """``value`` as a plain date (a datetime gives its date)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if not isinstance(value, dt.date):
        raise ValueError(f"{what} must be a datetime.date, got {value!r}")
    return value


def _read_time(raw: Any) -> dt.datetime:
    """A stored time (ISO text or datetime) as an aware UTC datetime."""
    value = dt.datetime.fromisoformat(raw) if isinstance(raw, str) else raw
    return value.astimezone(dt.UTC)


def _read_day(raw: Any) -> dt.date:
    return dt.date.fromisoformat(raw) if isinstance(raw, str) else raw


def _text(value: str, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{what} must be non-empty text, got {value!r}")
    return value


def _username(value: str) -> str:
    if not isinstance(value, str) or not USERNAME.fullmatch(value):
        raise ValueError(f"username {value!r} is not valid: use 1 to 64 letters, digits or _ . @ -")
    return value


def _choice(value: str, allowed: tuple[str, ...], what: str) -> str:
    if value not in allowed:
        raise ValueError(f"{what} must be one of {', '.join(allowed)}; got {value!r}")
    return value


def _json(value: Any, what: str) -> str:
    try:
        return json.dumps(value)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{what} cannot be stored as JSON: {exc}") from None


def _symbols(symbols: Iterable[str] | str) -> tuple[str, ...]:
    """Validated, upper-cased tickers without repeats; a string is read as a comma-separated list."""
    items = symbols.split(",") if isinstance(symbols, str) else symbols
    return tuple(dict.fromkeys(validate_symbol(symbol) for symbol in items))


def _counters(counters: Mapping[str, int]) -> str:
    try:
        return json.dumps({str(name): operator.index(count) for name, count in counters.items()})
    except TypeError:
        raise TypeError(f"counters must map names to integers, got {dict(counters)!r}") from None


def _task_record(row: Sequence[Any]) -> TaskRecord:
    (
        task_id,
        kind,
        symbols,
        start,
        end,
        status,
        attempts,
        error,
        counters,
        params,
        created,
        updated,
        beat,
    ) = row
    return TaskRecord(
        task_id=task_id,
        kind=kind,
        symbols=tuple(symbol for symbol in symbols.split(",") if symbol),
        window_start=None if start is None else _read_time(start),
        window_end=None if end is None else _read_time(end),
        status=status,
        attempts=int(attempts),
        error=error,
        counters=json.loads(counters),
        params=json.loads(params),
        created_at=_read_time(created),
        updated_at=_read_time(updated),
        heartbeat_at=None if beat is None else _read_time(beat),
    )
