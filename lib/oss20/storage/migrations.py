"""The catalog's schema as an ordered list of migrations, each with its statements per dialect.

A migration, once released, never changes: a later change is a new migration with the next
version. ``schema_migrations`` records which versions a database has, so applying is idempotent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

SCHEMA_MIGRATIONS: Mapping[str, str] = {
    "sqlite": """
        CREATE TABLE IF NOT EXISTS schema_migrations (
            version INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            applied_at TEXT NOT NULL
        )""",
    "postgresql": """
        CREATE TABLE IF NOT EXISTS schema_migrations (
            version INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            applied_at TIMESTAMPTZ NOT NULL
        )""",
}
"""The bookkeeping table, created (if missing) before any migration runs."""


@dataclass(frozen=True)
class Migration:
    """One schema change: its version, a name for humans, and its statements per dialect."""

    version: int
    name: str
    statements: Mapping[str, tuple[str, ...]]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        version=1,
        name="system_config, collection_tasks, validation_results",
        statements={
            "sqlite": (
                """CREATE TABLE system_config (
                    key TEXT PRIMARY KEY,
                    value TEXT NOT NULL,
                    updated_at TEXT NOT NULL
                )""",
                """CREATE TABLE collection_tasks (
                    task_id TEXT PRIMARY KEY,
                    kind TEXT NOT NULL,
                    symbols TEXT NOT NULL DEFAULT '',
                    window_start TEXT,
                    window_end TEXT,
                    status TEXT NOT NULL DEFAULT 'pending'
                        CHECK (status IN ('pending', 'running', 'done', 'failed', 'stopped')),
                    attempts INTEGER NOT NULL DEFAULT 0,
                    error TEXT,
                    counters TEXT NOT NULL DEFAULT '{}',
                    params TEXT NOT NULL DEFAULT '{}',
                    created_at TEXT NOT NULL,
                    updated_at TEXT NOT NULL,
                    heartbeat_at TEXT
                )""",
                "CREATE INDEX collection_tasks_status ON collection_tasks (status, created_at)",
                """CREATE TABLE validation_results (
                    id INTEGER PRIMARY KEY,
                    symbol TEXT NOT NULL,
                    day TEXT NOT NULL,
                    tier INTEGER NOT NULL,
                    check_name TEXT NOT NULL,
                    status TEXT NOT NULL CHECK (status IN ('pass', 'warn', 'fail')),
                    metrics TEXT NOT NULL DEFAULT '{}',
                    details TEXT NOT NULL DEFAULT '{}',
                    run_at TEXT NOT NULL,
                    UNIQUE (symbol, day, tier, check_name)
                )""",
                "CREATE INDEX validation_results_day ON validation_results (day)",
            ),
            "postgresql": (
                """CREATE TABLE system_config (
                    key TEXT PRIMARY KEY,
                    value TEXT NOT NULL,
                    updated_at TIMESTAMPTZ NOT NULL
                )""",
                """CREATE TABLE collection_tasks (
                    task_id TEXT PRIMARY KEY,
                    kind TEXT NOT NULL,
                    symbols TEXT NOT NULL DEFAULT '',
                    window_start TIMESTAMPTZ,
                    window_end TIMESTAMPTZ,
                    status TEXT NOT NULL DEFAULT 'pending'
                        CHECK (status IN ('pending', 'running', 'done', 'failed', 'stopped')),
                    attempts INTEGER NOT NULL DEFAULT 0,
                    error TEXT,
                    counters TEXT NOT NULL DEFAULT '{}',
                    params TEXT NOT NULL DEFAULT '{}',
                    created_at TIMESTAMPTZ NOT NULL,
                    updated_at TIMESTAMPTZ NOT NULL,
                    heartbeat_at TIMESTAMPTZ
                )""",
                "CREATE INDEX collection_tasks_status ON collection_tasks (status, created_at)",
                """CREATE TABLE validation_results (
                    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    symbol TEXT NOT NULL,
                    day DATE NOT NULL,
                    tier INTEGER NOT NULL,
                    check_name TEXT NOT NULL,
                    status TEXT NOT NULL CHECK (status IN ('pass', 'warn', 'fail')),
                    metrics TEXT NOT NULL DEFAULT '{}',
                    details TEXT NOT NULL DEFAULT '{}',
                    run_at TIMESTAMPTZ NOT NULL,
                    UNIQUE (symbol, day, tier, check_name)
                )""",
                "CREATE INDEX validation_results_day ON validation_results (day)",
            ),
        },
    ),
    Migration(
        version=2,
        name="dashboard users and their roles",
        statements={
            "sqlite": (
                """CREATE TABLE users (
                    username TEXT PRIMARY KEY,
                    password_hash TEXT NOT NULL,
                    role TEXT NOT NULL CHECK (role IN ('viewer', 'trader', 'admin')),
                    created_at TEXT NOT NULL,
                    updated_at TEXT NOT NULL
                )""",
            ),
            "postgresql": (
                """CREATE TABLE users (
                    username TEXT PRIMARY KEY,
                    password_hash TEXT NOT NULL,
                    role TEXT NOT NULL CHECK (role IN ('viewer', 'trader', 'admin')),
                    created_at TIMESTAMPTZ NOT NULL,
                    updated_at TIMESTAMPTZ NOT NULL
                )""",
            ),
        },
    ),
    Migration(
        version=3,
        name="job_locks: who runs each scheduled job",
        statements={
            "sqlite": (
                """CREATE TABLE job_locks (
                    name TEXT PRIMARY KEY,
                    owner TEXT NOT NULL,
                    acquired_at TEXT NOT NULL,
                    expires_at TEXT
                )""",
            ),
            "postgresql": (
                """CREATE TABLE job_locks (
                    name TEXT PRIMARY KEY,
                    owner TEXT NOT NULL,
                    acquired_at TIMESTAMPTZ NOT NULL,
                    expires_at TIMESTAMPTZ
                )""",
            ),
        },
    ),
    Migration(
        version=4,
        name="reconciliations: end-of-day stored ticks against history, per market center",
        statements={
            "sqlite": (
                """CREATE TABLE reconciliations (
                    id INTEGER PRIMARY KEY,
                    symbol TEXT NOT NULL,
                    day TEXT NOT NULL,
                    market_center INTEGER NOT NULL,
                    live_count INTEGER NOT NULL,
                    history_count INTEGER NOT NULL,
                    missing INTEGER NOT NULL,
                    extra INTEGER NOT NULL,
                    volume_difference INTEGER NOT NULL,
                    filled INTEGER NOT NULL,
                    snapshot TEXT,
                    run_at TEXT NOT NULL
                )""",
                "CREATE INDEX reconciliations_day ON reconciliations (day, symbol)",
            ),
            "postgresql": (
                """CREATE TABLE reconciliations (
                    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    symbol TEXT NOT NULL,
                    day DATE NOT NULL,
                    market_center INTEGER NOT NULL,
                    live_count BIGINT NOT NULL,
                    history_count BIGINT NOT NULL,
                    missing BIGINT NOT NULL,
                    extra BIGINT NOT NULL,
                    volume_difference BIGINT NOT NULL,
                    filled BIGINT NOT NULL,
                    snapshot TEXT,
                    run_at TIMESTAMPTZ NOT NULL
                )""",
                "CREATE INDEX reconciliations_day ON reconciliations (day, symbol)",
            ),
        },
    ),
)
"""Every migration, in version order (1, 2, ...)."""
