"""The catalog keeps settings, tasks and validation results alike in SQLite and in the real PostgreSQL.

Every PostgreSQL test gets a schema of its own (dropped afterwards), so parallel test processes and
other suites sharing the ``test`` database never see each other's rows.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import socket
import sqlite3
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import psycopg
import pytest

from oss20.passwords import verify_password
from oss20.storage.catalog import (
    Catalog,
    CatalogUnavailable,
    TaskRecord,
    ValidationRecord,
    open_catalog,
)
from oss20.storage.migrations import MIGRATIONS
from tests.servers import Proxy, postgres_schema

pytestmark = pytest.mark.integration

DAY = dt.date(2025, 1, 2)
NEW_YORK = ZoneInfo("America/New_York")
RESULT_COLUMNS = ["symbol", "day", "tier", "check", "status", "metrics", "details", "run_at"]
BAD_SYMBOLS = ["AAPL;DROP TABLE", "../x", "AAPL' OR '1'='1", ""]

T = TypeVar("T")


@pytest.fixture
def catalog(url: str) -> Iterator[Catalog]:
    with open_catalog(url) as opened:
        yield opened


def stored(url: str, query: str) -> list[tuple[Any, ...]]:
    """Rows read straight from the database, past the catalog: what was really written."""
    if url.startswith("sqlite:"):
        with closing(sqlite3.connect(url.removeprefix("sqlite://"))) as conn:
            return conn.execute(query).fetchall()
    with psycopg.connect(url) as conn:
        return conn.execute(query).fetchall()


def test_migrations_create_the_tables_once(url: str) -> None:
    assert [m.version for m in MIGRATIONS] == list(range(1, len(MIGRATIONS) + 1))
    latest = MIGRATIONS[-1].version
    with open_catalog(url) as catalog:
        assert catalog.schema_version() == latest
    with open_catalog(url) as catalog:
        assert catalog.migrate() == []
        assert catalog.schema_version() == latest
    applied = stored(url, "SELECT version, name FROM schema_migrations ORDER BY version")
    assert applied == [(m.version, m.name) for m in MIGRATIONS]
    for table in ("system_config", "collection_tasks", "validation_results", "users"):
        assert stored(url, f"SELECT COUNT(*) FROM {table}") == [(0,)]


def test_concurrent_opens_migrate_once(url: str) -> None:
    def version() -> int:
        with open_catalog(url) as catalog:
            return catalog.schema_version()

    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(lambda _: version(), range(4))) == [len(MIGRATIONS)] * 4
    assert stored(url, "SELECT COUNT(*) FROM schema_migrations") == [(len(MIGRATIONS),)]


def test_config_round_trips_json(catalog: Catalog) -> None:
    values = {
        "watchlist": ["AAPL", "MSFT"],
        "limits": {"history_per_s": 50, "ratio": 0.5, "enabled": True},
        "note": "Zürich → NYSE",
        "nothing": None,
        "days": 180,
    }
    for key, value in values.items():
        catalog.set_config(key, value)
    assert {key: catalog.get_config(key) for key in values} == values
    assert catalog.config() == values
    assert catalog.get_config("missing", default=3) == 3
    catalog.set_config("days", 8)
    assert catalog.get_config("days") == 8
    with pytest.raises(TypeError, match="'bad'"):
        catalog.set_config("bad", object())
    assert "bad" not in catalog.config()


def test_sql_in_config_is_stored_literally(catalog: Catalog, url: str) -> None:
    task_id = catalog.create_task("collect", ["AAPL"])
    key = "x'); DROP TABLE system_config; --"
    value = "'; DELETE FROM collection_tasks WHERE '1'='1"
    catalog.set_config(key, value)
    assert catalog.get_config(key) == value
    assert catalog.get_config("' OR '1'='1") is None
    assert catalog.config() == {key: value}
    assert catalog.task(task_id) is not None
    assert stored(url, "SELECT key, value FROM system_config") == [(key, json.dumps(value))]


def test_task_lifecycle(catalog: Catalog) -> None:
    before = dt.datetime.now(dt.UTC)
    window = (dt.datetime(2025, 1, 2, 9, 30, tzinfo=NEW_YORK), dt.datetime(2025, 1, 2, 16, tzinfo=NEW_YORK))
    task_id = catalog.create_task("backfill", ["aapl", "MSFT"], {"chunk": 3}, window=window)
    pending = catalog.task(task_id)
    assert pending is not None
    assert dataclasses.replace(pending, created_at=before, updated_at=before) == TaskRecord(
        task_id=task_id,
        kind="backfill",
        symbols=("AAPL", "MSFT"),
        window_start=window[0],
        window_end=window[1],
        status="pending",
        attempts=0,
        error=None,
        counters={},
        params={"chunk": 3},
        created_at=before,
        updated_at=before,
        heartbeat_at=None,
    )
    assert before <= pending.created_at == pending.updated_at <= dt.datetime.now(dt.UTC)
    times = (pending.created_at, pending.window_start)
    assert all(t is not None and t.utcoffset() == dt.timedelta(0) for t in times)

    catalog.update_task(task_id, status="running", attempts_increment=True)
    running = catalog.task(task_id)
    assert running is not None and running.heartbeat_at is not None
    assert (running.status, running.attempts) == ("running", 1)
    assert running.heartbeat_at == running.updated_at > pending.updated_at

    catalog.update_task(task_id, counters={"ticks": 1200}, error="history timeout", attempts_increment=True)
    catalog.update_task(task_id, status="done", counters={"ticks": 2500, "requests": 5}, heartbeat=False)
    done = catalog.task(task_id)
    assert done is not None and done.heartbeat_at is not None
    assert (done.status, done.attempts, done.error) == ("done", 2, "history timeout")
    assert done.counters == {"ticks": 2500, "requests": 5}
    assert running.heartbeat_at < done.heartbeat_at < done.updated_at
    assert catalog.tasks(status="done") == [done]
    with pytest.raises(ValueError, match="already exists"):
        catalog.create_task("backfill", ["AAPL"], task_id=task_id)


def test_unknown_task_raises_key_error(catalog: Catalog) -> None:
    with pytest.raises(KeyError, match="nope"):
        catalog.update_task("nope", status="running")
    assert catalog.task("nope") is None


def test_tasks_newest_first_and_filtered(catalog: Catalog) -> None:
    ids = [catalog.create_task(kind, "AAPL,MSFT") for kind in ("collect", "backfill", "backfill")]
    catalog.update_task(ids[1], status="failed", error="boom")
    assert [task.task_id for task in catalog.tasks()] == ids[::-1]
    assert [task.task_id for task in catalog.tasks(kind="backfill")] == [ids[2], ids[1]]
    assert [task.task_id for task in catalog.tasks(status="failed")] == [ids[1]]
    assert [task.task_id for task in catalog.tasks(limit=1)] == [ids[2]]
    assert catalog.tasks(status="running", kind="collect") == []
    assert catalog.tasks()[0].symbols == ("AAPL", "MSFT")


def test_recording_a_check_again_replaces_it(catalog: Catalog, url: str) -> None:
    first = ValidationRecord("AAPL", DAY, 2, "spread", "warn", {"p99_bps": 41.5}, {"worst": [1, 2]})
    assert catalog.record_validation([first, ValidationRecord("MSFT", DAY, 2, "spread", "pass")]) == 2
    again = dataclasses.replace(first, status="pass", metrics={"p99_bps": 12.0}, details={})
    assert catalog.record_validation([again]) == 1
    frame = catalog.validation_results(symbol="aapl")
    assert list(frame.columns) == RESULT_COLUMNS
    assert frame[RESULT_COLUMNS[:5]].values.tolist() == [["AAPL", DAY, 2, "spread", "pass"]]
    assert (frame.loc[0, "metrics"], frame.loc[0, "details"]) == ({"p99_bps": 12.0}, {})
    assert str(frame["run_at"].dtype) == "datetime64[ns, UTC]"
    assert stored(url, "SELECT COUNT(*) FROM validation_results") == [(2,)]


def test_validation_results_filter_by_day_symbol_and_tier(catalog: Catalog) -> None:
    days = [DAY + dt.timedelta(days=n) for n in range(5)]
    records = [
        ValidationRecord(symbol, day, tier, "coverage", "pass")
        for symbol in ("AAPL", "MSFT")
        for day in days
        for tier in (1, 4)
    ]
    assert catalog.record_validation(records) == 20
    middle = catalog.validation_results(start=days[1], end=days[3])
    assert len(middle) == 12 and list(middle["day"]) == sorted(middle["day"])
    assert set(middle["day"]) == set(days[1:4])
    assert set(catalog.validation_results(start=days[3])["day"]) == set(days[3:])
    assert set(catalog.validation_results(end=days[0])["day"]) == {days[0]}
    one = catalog.validation_results("MSFT", days[2], days[2], tier=4)
    assert one[["symbol", "day", "tier"]].values.tolist() == [["MSFT", days[2], 4]]
    empty = catalog.validation_results(start=days[-1] + dt.timedelta(days=1))
    assert empty.empty and list(empty.columns) == RESULT_COLUMNS
    assert str(empty["run_at"].dtype) == "datetime64[ns, UTC]"


def test_bad_input_is_refused_and_nothing_written(catalog: Catalog, url: str) -> None:
    good = ValidationRecord("AAPL", DAY, 1, "schema", "pass")
    for bad in BAD_SYMBOLS:
        with pytest.raises(ValueError, match="not a valid ticker"):
            catalog.create_task("collect", ["AAPL", bad])
        with pytest.raises(ValueError, match="not a valid ticker"):
            catalog.record_validation([good, dataclasses.replace(good, symbol=bad)])
        with pytest.raises(ValueError, match="not a valid ticker"):
            catalog.validation_results(symbol=bad)
    with pytest.raises(ValueError, match="timezone-aware"):
        catalog.create_task("backfill", ["AAPL"], window=(dt.datetime(2025, 1, 2, 9, 30), None))
    with pytest.raises(ValueError, match="task status"):
        catalog.create_task("collect", ["AAPL"], status="finished")
    with pytest.raises(ValueError, match="check status"):
        catalog.record_validation([good, dataclasses.replace(good, status="ok")])
    assert catalog.tasks() == [] and catalog.validation_results().empty
    assert stored(url, "SELECT COUNT(*) FROM collection_tasks") == [(0,)]
    assert stored(url, "SELECT COUNT(*) FROM validation_results") == [(0,)]


@pytest.mark.parametrize(
    "bad",
    [
        "mysql://user:secret@db/oss20",
        "lmdb:///tmp/arctic",
        "/tmp/catalog.sqlite",
        "sqlite://relative/x.sqlite",
    ],
)
def test_unsupported_urls_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match=r"expected sqlite:///abs/path\.sqlite") as refused:
        open_catalog(bad)
    assert "secret" not in str(refused.value)


def test_unreachable_postgres_fails_fast_with_password_masked() -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    started = time.monotonic()
    with pytest.raises(CatalogUnavailable, match=rf"postgres:\*\*\*@127\.0\.0\.1:{port}") as refused:
        open_catalog(f"postgresql://postgres:secret@127.0.0.1:{port}/test", connect_timeout=1)
    assert time.monotonic() - started < 5
    assert "secret" not in str(refused.value) and "refused" in str(refused.value)


def eventually(call: Callable[[], T], within: float = 15.0) -> T:
    """``call()`` once it stops raising CatalogUnavailable, retried for up to ``within`` seconds."""
    deadline = time.monotonic() + within
    while True:
        try:
            return call()
        except CatalogUnavailable:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_postgres_outage_raises_quickly_and_the_same_catalog_recovers() -> None:
    with (
        Proxy(("127.0.0.1", 5432)) as proxy,
        postgres_schema(f"postgresql://postgres:secret@127.0.0.1:{proxy.port}/test") as url,
        open_catalog(url, connect_timeout=1) as catalog,
    ):
        assert "secret" not in repr(catalog) and "secret" not in catalog.url
        catalog.set_config("watchlist", ["AAPL"])
        task_id = catalog.create_task("collect", ["AAPL"], status="running")

        proxy.cut()
        calls: list[Callable[[], object]] = [
            lambda: catalog.get_config("watchlist"),
            lambda: catalog.update_task(task_id, counters={"ticks": 1}),
        ]
        for call in calls:
            started = time.monotonic()
            with pytest.raises(CatalogUnavailable, match=f"127.0.0.1:{proxy.port}") as down:
                call()
            assert time.monotonic() - started < 5
            assert "secret" not in str(down.value)

        proxy.restore()
        assert eventually(lambda: catalog.get_config("watchlist")) == ["AAPL"]
        catalog.update_task(task_id, status="done", counters={"ticks": 2})
        done = catalog.task(task_id)
        assert done is not None and (done.status, done.counters) == ("done", {"ticks": 2})


def test_users_keep_only_a_salted_hash_and_authenticate_with_their_role(url: str, catalog: Catalog) -> None:
    catalog.set_user("ana", "correct horse", "admin")
    catalog.set_user("bo", "correct horse", "viewer")
    hashes = dict(stored(url, "SELECT username, password_hash FROM users"))
    assert "correct horse" not in "".join(hashes.values())
    assert hashes["ana"] != hashes["bo"], "the same password must not give the same hash (salt)"
    assert verify_password("correct horse", hashes["ana"])
    assert catalog.authenticate("ana", "correct horse") == "admin"
    assert catalog.authenticate("bo", "correct horse") == "viewer"
    assert catalog.authenticate("ana", "wrong") is None
    assert catalog.authenticate("nobody", "correct horse") is None
    assert catalog.authenticate("ana' OR '1'='1", "x") is None
    catalog.set_user("bo", "new secret", "trader")
    assert catalog.authenticate("bo", "correct horse") is None
    assert catalog.authenticate("bo", "new secret") == "trader"
    assert [(u.username, u.role) for u in catalog.users()] == [("ana", "admin"), ("bo", "trader")]
    assert catalog.role("bo") == "trader" and catalog.role("nobody") is None
    assert catalog.remove_user("bo") and not catalog.remove_user("bo")
    with pytest.raises(ValueError, match="role must be one of viewer, trader, admin"):
        catalog.set_user("cy", "pw", "root")
    with pytest.raises(ValueError, match=r"username '\.\./x' is not valid"):
        catalog.set_user("../x", "pw", "viewer")
    with pytest.raises(ValueError, match="password must not be empty"):
        catalog.set_user("cy", "", "viewer")
